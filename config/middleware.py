"""Response headers every page and API answer carries (issue 11, ASVS V14.4)."""

import time
from http import HTTPStatus

from csp import middleware as csp_middleware
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.utils import build_policy as csp_build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty
from django.utils.http import http_date

from config import csrf, fastlocals

# The CSRF masks every page draws, with one read of the system's randomness (config.csrf).
csrf.install()
# Django's language, time zone, URLconf, script prefix and caches read without asgiref's slow path (config.fastlocals).
fastlocals.install()


class SecurityHeadersMiddleware:
    """`Cache-Control: no-store` (with private, no-cache, max-age=0) on every response Django renders,
    and a Permissions-Policy that turns off browser features HopLuc never uses.

    Pages, API answers and exports carry case and personal data; a shared computer's browser cache
    or a proxy must keep none of it. Marking every dynamic response is simpler to trust than picking
    the ones with personal data. Static files never reach here: whitenoise answers them earlier,
    with their own long cache lifetime.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    _never_cache: str | None = None

    @classmethod
    def never_cache_control(cls) -> str:
        """The Cache-Control that add_never_cache_headers gives a response that has none (Django's own
        answer, asked once per process)."""
        if cls._never_cache is None:
            probe = HttpResponse()
            add_never_cache_headers(probe)
            cls._never_cache = probe.headers["Cache-Control"]
        return cls._never_cache

    def __call__(self, request):
        response = self.get_response(request)
        headers = response.headers
        if "Cache-Control" in headers or "Expires" in headers:
            add_never_cache_headers(response)
        else:
            # What add_never_cache_headers writes here, without parsing and rebuilding Cache-Control twice.
            headers["Expires"] = http_date(time.time())
            headers["Cache-Control"] = self.never_cache_control()
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the header of the plain policy built once.

    django-csp builds both headers from the settings on every response (build_policy: a copy of the
    directives, a dataclass turned into a dict, the string joined again), the same string each time
    for every response that no view decorated (`csp_update` and the like) and that no template asked a
    nonce for. That string is kept per process for each pair of settings dicts (built again when
    CONTENT_SECURITY_POLICY or its report-only twin is replaced, as tests do); everything else goes
    through django-csp unchanged.
    """

    _ATTRIBUTES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro",
                   "_csp_replace_ro")
    _built: tuple[object, object, str, str] | None = None

    @classmethod
    def _plain_policies(cls) -> tuple[str, str]:
        enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = cls._built
        if built is None or built[0] is not enforced or built[1] is not report_only:
            built = cls._built = (enforced, report_only, csp_build_policy(), csp_build_policy(report_only=True))
        return built[2], built[3]

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
                getattr(response, name, None) is not None for name in self._ATTRIBUTES):
            return super().process_response(request, response)
        # What django-csp's process_response does when no part is given (the same order and tests).
        if response.status_code in (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.NOT_FOUND) and settings.DEBUG:
            return response
        enforced, report_only = self._plain_policies()
        for header, policy, exempt, setting in (
                (CSP_HEADER, enforced, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
                (CSP_HEADER_REPORT_ONLY, report_only, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY")):
            if not policy or getattr(response, exempt, False) is not False or header in response:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's, with the message storage made when something first reads or adds a message.

    Django builds the storage (its class looked up by name, a cookie and a session storage) on every
    request, and after the view asks it to store what changed. Most API calls never touch it, and an
    untouched storage has nothing to store: its `update` writes nothing. So the storage is made lazily,
    and one that was never made is skipped at the response. Anything that reads or adds messages gets
    Django's storage as before.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, without looking for a language at the start of the path when the URLconf has no
    `i18n_patterns` (HopLuc's has none).

    Django's reads the path's first segment as a language code twice a request (request and response), and
    uses what it finds only together with `i18n_patterns`. A segment that is no language (`cases`, `api`) is
    a LookupError that Django's cache of language variants does not keep, so the whole search runs each
    time. Without `i18n_patterns` this does exactly what Django's does with what it found; with them (a
    test's URLconf, `request.urlconf`), it is Django's.
    """

    def process_request(self, request):
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
