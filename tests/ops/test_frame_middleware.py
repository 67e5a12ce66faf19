"""What config.middleware does around every view, as Django would: the never-cache headers written
directly when a response has none, and message storage made only when something uses it."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty
from django.utils.http import parse_http_date

from config.middleware import SecurityHeadersMiddleware


def _headers(response):
    return SecurityHeadersMiddleware(lambda request: response)(RequestFactory().get("/cases/"))


def test_never_cache_headers_are_djangos():
    ours, django = _headers(HttpResponse()), HttpResponse()
    add_never_cache_headers(django)
    assert ours["Cache-Control"] == django["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert abs(parse_http_date(ours["Expires"]) - parse_http_date(django["Expires"])) <= 1
    # A response with its own caching headers is merged by Django's code, as before.
    own = HttpResponse()
    own["Cache-Control"] = "public, max-age=600"
    merged = HttpResponse()
    merged["Cache-Control"] = "public, max-age=600"
    add_never_cache_headers(merged)
    assert _headers(own)["Cache-Control"] == merged["Cache-Control"]
    expires = HttpResponse()
    expires["Expires"] = "Thu, 01 Jan 2037 00:00:00 GMT"
    assert _headers(expires)["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"


@pytest.mark.django_db
def test_an_api_call_makes_no_message_storage(client, world):
    client.force_login(world.lead_responder)
    response = client.get("/api/me/")
    assert response.status_code == 200
    stored = response.wsgi_request._messages
    assert isinstance(stored, SimpleLazyObject) and stored._wrapped is empty
    assert "messages" not in response.cookies


@pytest.mark.django_db
def test_a_page_reads_the_frames_headers_from_the_environ(client, world):
    """The frame's header reads (request id, passive poll, acting agency) go to request.META: a page builds
    no `request.headers` mapping, and each header still does what it did."""
    client.force_login(world.lead_responder)
    renewed = client.get("/cases/", headers={"X-Request-ID": "page-1234.abc"})
    assert renewed.status_code == 200 and renewed["X-Request-ID"] == "page-1234.abc"
    assert settings.SESSION_COOKIE_NAME in renewed.cookies
    assert "headers" not in renewed.wsgi_request.__dict__
    passive = client.get("/cases/", headers={"X-HopLuc-Passive": "1", "X-Acting-Agency": "x"})
    assert passive.status_code == 200 and len(passive["X-Request-ID"]) == 36
    # A passive request neither saves the session nor renews its cookie (accounts.middleware).
    assert settings.SESSION_COOKIE_NAME not in passive.cookies
    assert "headers" not in passive.wsgi_request.__dict__
    # An API call with a malformed acting agency is refused by the case API, as before.
    assert client.get("/api/cases/", headers={"X-Acting-Agency": "x"}).status_code == 400
