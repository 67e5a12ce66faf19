"""API rate limits. The client address is the audit trail's (`AUDIT_TRUSTED_PROXIES`), and the rates
are read at each request, so that a test can lower them."""

from rest_framework import throttling
from rest_framework.settings import api_settings

from audit.context import client_ip


class _AddressAndSettings:
    def get_ident(self, request):
        return client_ip(request) or request.META.get("REMOTE_ADDR", "")

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonymousRateThrottle(_AddressAndSettings, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_AddressAndSettings, throttling.UserRateThrottle):
    pass


class AuthTokenRateThrottle(_AddressAndSettings, throttling.SimpleRateThrottle):
    """Per client address on the token endpoint, signed in or not: guessing passwords is limited by
    axes' lockout too, this keeps one address from trying many usernames quickly."""

    scope = "auth_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
