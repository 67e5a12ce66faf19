"""The Content-Security-Policy header of a plain response is built once per process and settings
(config.middleware.CSPMiddleware), and is the header django-csp builds; responses with their own
policy parts or a nonce still go through django-csp."""

from csp import middleware as csp_middleware
from csp.constants import NONCE, SELF
from csp.utils import build_policy
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import RequestFactory

from config import middleware as config_middleware

HEADER = "Content-Security-Policy"


def _answer(middleware_class=config_middleware.CSPMiddleware, *, path="/cases/", touch_nonce=False, **attributes):
    def view(request):
        if touch_nonce:
            str(request.csp_nonce)
        response = HttpResponse("ok")
        for name, value in attributes.items():
            setattr(response, name, value)
        return response

    return middleware_class(view)(RequestFactory().get(path))


def _counting(monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return build_policy(*args, **kwargs)

    monkeypatch.setattr(config_middleware, "csp_build_policy", counted)
    monkeypatch.setattr(csp_middleware, "build_policy", counted)
    return calls


def test_plain_header_is_django_csps_and_built_once(monkeypatch):
    calls = _counting(monkeypatch)
    first = _answer()
    assert first[HEADER] == _answer(csp_middleware.CSPMiddleware)[HEADER] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in first
    calls.clear()
    for _ in range(3):
        assert _answer()[HEADER] == first[HEADER]
    assert calls == []
    # As django-csp: after the header is written a late nonce is an error, not a silent gap.
    request = RequestFactory().get("/cases/")
    config_middleware.CSPMiddleware(lambda r: HttpResponse())(request)
    try:
        str(request.csp_nonce)
    except csp_middleware.CSPNonceError:
        pass
    else:
        raise AssertionError("csp_nonce after the response did not fail")


def test_new_settings_give_a_new_header(settings):
    before = _answer()[HEADER]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                                                       "img-src": [SELF]}}
    after = _answer()[HEADER]
    assert after != before and "img-src 'self';" in after + ";" and "data:" not in after
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
    both = _answer()
    assert both["Content-Security-Policy-Report-Only"] == "default-src 'self'"
    assert both[HEADER] == after


def test_views_own_parts_and_nonces_still_go_through_django_csp(settings):
    updated = _answer(_csp_update={"style-src": ["'unsafe-inline'"]})
    assert "style-src 'self' 'unsafe-inline'" in updated[HEADER]
    assert "unsafe-inline" not in _answer()[HEADER]
    assert _answer(_csp_exempt=True).get(HEADER) is None
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"], "script-src": [SELF, NONCE]}}
    with_nonce = _answer(touch_nonce=True)[HEADER]
    assert "'nonce-" in with_nonce
    assert _answer()[HEADER] == build_policy() and "nonce" not in build_policy()


def test_excluded_prefixes_and_debug_pages_as_django_csp(settings):
    settings.CONTENT_SECURITY_POLICY = {**django_settings.CONTENT_SECURITY_POLICY,
                                        "EXCLUDE_URL_PREFIXES": ["/static-free/"]}
    assert HEADER not in _answer(path="/static-free/x")
    assert HEADER in _answer(path="/cases/")
    settings.DEBUG = True

    def missing(request):
        return HttpResponse(status=404)

    assert HEADER not in config_middleware.CSPMiddleware(missing)(RequestFactory().get("/nowhere/"))
