"""Response headers every page and API answer carries (issue 11, ASVS V14.4)."""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


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

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
