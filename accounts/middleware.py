from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from .services import signin_session_follow_key


class SessionEndedMiddleware:
    """Tell a person whose session ran out why they are back at the sign-in page.

    Sign-out deletes the session cookie, so a request that still carries one but finds no session
    behind it comes from a session that expired (the idle timeout) or was ended elsewhere. Django
    deletes the stale cookie on this response, so the notice is given once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.COOKIES.get(settings.SESSION_COOKIE_NAME)
            and not request.user.is_authenticated
            and request.session.is_empty()
            and not request.path.startswith("/api/")
        ):
            minutes = settings.SESSION_IDLE_MINUTES
            messages.warning(
                request,
                ngettext(
                    "Your session has ended. For your safety, HopLuc signs you out after %(minutes)s minute "
                    "without activity.",
                    "Your session has ended. For your safety, HopLuc signs you out after %(minutes)s minutes "
                    "without activity.",
                    minutes,
                )
                % {"minutes": minutes},
                extra_tags="session-ended",
            )
        return self.get_response(request)


class SecondFactorGateMiddleware:
    """Nothing but the sign-in, enrolment and code pages for a person who must give a second factor
    and has not done so in this session: pages redirect there, session-authenticated API calls get
    403. The Django admin needs a verified session from everyone who reaches it.

    Runs in process_view, where the URL is resolved, so the exemptions are URL names rather than
    path prefixes. A verified session costs no query; an unverified one asks `mfa_needed_for`.
    """

    # Reachable before the second factor: signing in and out, the code and enrolment pages, the
    # language switch, the password change (another gate may send a person there first) and health.
    EXEMPT_VIEWS = frozenset({
        "accounts:login", "accounts:logout", "accounts:mfa_verify", "accounts:mfa_setup",
        "accounts:password_change", "set_language", "healthz", "admin_login",
    })

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from .mfa import mfa_enrolled, mfa_needed_for, session_is_verified

        match = request.resolver_match
        if match is None or match.view_name in self.EXEMPT_VIEWS:
            return None
        user = request.user
        if not user.is_authenticated or session_is_verified(request):
            return None
        if match.namespace != "admin" and not mfa_needed_for(user):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": gettext("Give your second factor (the code from your authenticator app) first.")},
                status=403,
            )
        target = "accounts:mfa_verify" if mfa_enrolled(user) else "accounts:mfa_setup"
        next_path = request.get_full_path() if request.method in ("GET", "HEAD") else ""
        url = reverse(target)
        if next_path and next_path != "/":
            url = f"{url}?{urlencode({'next': next_path})}"
        return redirect(url)


class SignInSessionMiddleware:
    """Keep the record of a web sign-in pointing at its session when the key changes mid-session
    (Django cycles it on a password change), so that the sessions page can still end it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if hasattr(request, "session"):
            signin_session_follow_key(request=request)
        return response
