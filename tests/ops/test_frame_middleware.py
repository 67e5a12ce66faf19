"""What config.middleware does around every view, as Django would: the never-cache headers written
directly when a response has none, and message storage made only when something uses it."""

import pytest
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import RequestFactory
from django.urls import path
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty
from django.utils.http import parse_http_date

from config.middleware import LocaleMiddleware, SecurityHeadersMiddleware


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


LOCALE_REQUESTS = [
    ("/cases/", {}, {}),
    ("/api/cases/", {}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}),
    ("/vi/cases/", {}, {"HTTP_ACCEPT_LANGUAGE": "en"}),
    ("/en/", {"django_language": "en"}, {}),
    ("/en-us/x/", {"django_language": "xx"}, {"HTTP_ACCEPT_LANGUAGE": "fr, en-gb;q=0.5"}),
    ("/", {"django_language": "vi"}, {"HTTP_ACCEPT_LANGUAGE": "en"}),
    ("/handoffs/1/", {}, {"HTTP_ACCEPT_LANGUAGE": "*"}),
]


def _locale_answer(middleware_class, path, cookies, meta, *, urlconf=None, status=200, vary=None):
    request = RequestFactory().get(path, **meta)
    request.COOKIES.update(cookies)
    if urlconf:
        request.urlconf = urlconf

    def view(request):
        response = HttpResponse(status=status)
        if vary:
            response["Vary"] = vary
        return response

    with translation.override(None):
        response = middleware_class(view)(request)
        active = translation.get_language()
    return (active, request.LANGUAGE_CODE, response.status_code, response.get("Vary"), response.get("Content-Language"),
            response.get("Location"))


@pytest.mark.parametrize(("path", "cookies", "meta"), LOCALE_REQUESTS)
@pytest.mark.parametrize(("status", "vary"), [(200, None), (404, "Cookie"), (302, "accept-language")])
def test_locale_middleware_answers_as_djangos(path, cookies, meta, status, vary):
    """config.middleware.LocaleMiddleware skips Django's reading of the path for a language only where Django's
    makes no use of it (no i18n_patterns): the same language activated, the same headers."""
    ours = _locale_answer(LocaleMiddleware, path, cookies, meta, status=status, vary=vary)
    assert ours == _locale_answer(DjangoLocaleMiddleware, path, cookies, meta, status=status, vary=vary)
    # A URLconf with i18n_patterns (a language prefix, a redirect of a 404 to it) gets Django's own answers.
    ours = _locale_answer(LocaleMiddleware, path, cookies, meta, urlconf=__name__, status=status, vary=vary)
    django = _locale_answer(DjangoLocaleMiddleware, path, cookies, meta, urlconf=__name__, status=status, vary=vary)
    assert ours == django


def test_locale_middleware_does_not_read_the_path_without_i18n_patterns(monkeypatch):
    read = []
    monkeypatch.setattr(translation, "get_language_from_path", lambda path, strict=False: read.append(path))
    assert _locale_answer(LocaleMiddleware, "/cases/", {}, {})[:2] == ("vi", "vi")
    assert read == []


urlpatterns = i18n_patterns(path("cases/", lambda request: HttpResponse()))
