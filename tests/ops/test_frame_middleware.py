"""What config.middleware does around every view, as Django would: the never-cache headers written
directly when a response has none, and message storage made only when something uses it."""

import pytest
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
