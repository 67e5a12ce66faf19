import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.contrib.auth import middleware as django_auth_middleware
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.http.request import HttpHeaders
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext, ngettext

from agencies.acting import (
    ACTING_AGENCY_HEADER,
    ACTING_AGENCY_SESSION_KEY,
    acting_agency_parse,
    acting_agency_request,
    acting_agency_reset,
)

from .backends import LEGACY_MODEL_BACKEND, MFA_FACTS_ATTRIBUTE, MFA_FACTS_WANTED, MODEL_BACKEND, PERSON_READ
from .passwords import CHANGE_REQUIRED_MESSAGE, EXPIRED_MESSAGE, SESSION_PASSWORD_CHANGE_DUE
from .services import signin_session_follow_key
from .session_store import session_person_remember
from .sessions import SESSION_SIGNED_IN_AT


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
    path prefixes. A verified session costs no query; an unverified one none either when its user was
    read by accounts.backends (the facts come with the user row), else one (`mfa_status`).
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
        from .mfa import mfa_status, session_is_verified

        match = request.resolver_match
        if match is None or match.view_name in self.EXEMPT_VIEWS:
            return None
        user = request.user
        if not user.is_authenticated or session_is_verified(request):
            return None
        # Whether this person needs a code, and whether they have an authenticator: read with this
        # request's user row (accounts.backends), else one query.
        needed, enrolled = mfa_status(user, facts=getattr(user, MFA_FACTS_ATTRIBUTE, None))
        if match.namespace != "admin" and not needed:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": gettext("Give your second factor (the code from your authenticator app) first.")},
                status=403,
            )
        target = "accounts:mfa_verify" if enrolled else "accounts:mfa_setup"
        next_path = request.get_full_path() if request.method in ("GET", "HEAD") else ""
        url = reverse(target)
        if next_path and next_path != "/":
            url = f"{url}?{urlencode({'next': next_path})}"
        return redirect(url)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class SessionLifetimeMiddleware:
    """End a session SESSION_ABSOLUTE_HOURS after its sign-in, however active it has been.

    The idle timeout alone lets a session that is used every few minutes (or by someone else's
    script) live for ever. A session from before this rule (no sign-in time) is stamped now.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            signed_in_at = request.session.get(SESSION_SIGNED_IN_AT)
            if signed_in_at is None:
                request.session[SESSION_SIGNED_IN_AT] = int(time.time())
            elif time.time() - signed_in_at >= settings.SESSION_ABSOLUTE_HOURS * 3600:
                logout(request)
                if not _is_api(request):
                    hours = settings.SESSION_ABSOLUTE_HOURS
                    messages.warning(
                        request,
                        ngettext(
                            "Your session has ended. For your safety, HopLuc asks you to sign in again "
                            "%(hours)s hour after signing in.",
                            "Your session has ended. For your safety, HopLuc asks you to sign in again "
                            "%(hours)s hours after signing in.",
                            hours,
                        )
                        % {"hours": hours},
                        extra_tags="session-ended",
                    )
        return self.get_response(request)


# Pages a person who must change their initial password may still open. Other gates (the second
# factor's enrolment and verification pages) add their URL names here so the gates never loop.
PASSWORD_GATE_EXEMPT_URL_NAMES = {
    "accounts:password_change", "accounts:logout", "accounts:login", "set_language", "healthz",
    # The second factor's pages (issue 11A), so that its gate and this one never send each other round.
    "accounts:mfa_verify", "accounts:mfa_setup",
}


class PasswordChangeRequiredMiddleware:
    """Until the initial password an agency admin handed out is changed, nothing else is reachable:
    pages redirect to the change form and the API answers 403 with the reason. After it expired,
    the session ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        due = request.session.get(SESSION_PASSWORD_CHANGE_DUE) if request.user.is_authenticated else None
        if due is None:
            return self.get_response(request)
        if time.time() >= due:
            logout(request)
            if _is_api(request):
                return JsonResponse({"detail": str(EXPIRED_MESSAGE)}, status=403)
            messages.error(request, EXPIRED_MESSAGE)
            return redirect_to_login(request.get_full_path())
        if request.path_info.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/")
                                        else f"/{settings.STATIC_URL}"):
            return self.get_response(request)
        try:
            url_name = resolve(request.path_info).view_name
        except Resolver404:
            url_name = None
        if url_name in PASSWORD_GATE_EXEMPT_URL_NAMES:
            return self.get_response(request)
        if _is_api(request):
            return JsonResponse({"detail": str(CHANGE_REQUIRED_MESSAGE), "code": "password_change_required"},
                                status=403)
        return redirect("accounts:password_change")


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


class ActingAgencyMiddleware:
    """Carry the agency the person acts for into the request's context (agencies.acting): the API's
    `X-Acting-Agency` header, else the choice kept in the session. Case API views refuse a header
    that is not a whole number or names an agency the person does not work for (400); anywhere
    else a choice the person no longer holds is simply ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        requested = None
        header = request.META.get(_ACTING_AGENCY_META)
        if header is not None and request.path.startswith("/api/"):
            try:
                requested = acting_agency_parse(header)
            except ValidationError:
                requested = None
        elif hasattr(request, "session"):
            value = request.session.get(ACTING_AGENCY_SESSION_KEY)
            requested = value if isinstance(value, int) else None
        token = acting_agency_request(requested)
        try:
            return self.get_response(request)
        finally:
            acting_agency_reset(token)


# A request that only looks for news (the review queue's poll) sends this header: it must not count
# as activity, or a supervisor who left the queue open would never reach the idle timeout.
PASSIVE_REQUEST_HEADER = "X-HopLuc-Passive"
# The frame reads its headers from the WSGI environ, as audit.middleware's request id: `request.headers`
# would build a mapping of every header on each request for these two reads.
_PASSIVE_REQUEST_META = HttpHeaders.to_wsgi_name(PASSIVE_REQUEST_HEADER)
_ACTING_AGENCY_META = HttpHeaders.to_wsgi_name(ACTING_AGENCY_HEADER)


def request_is_passive(request) -> bool:
    return request.method in ("GET", "HEAD") and request.META.get(_PASSIVE_REQUEST_META) == "1"


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, except that a passive request (`X-HopLuc-Passive: 1` on a GET)
    neither saves the session nor renews its cookie: the idle timeout (SESSION_IDLE_MINUTES) counts
    from the last real request. Whatever such a request changed in the session is not kept.
    A page's GET asks the store to read the person's unread notification count and navigation roles version
    with the session's row (the header shows the one and follows the other): one statement and one cache
    read less per page."""

    def process_request(self, request):
        super().process_request(request)
        if request.method == "GET" and not request.path.startswith("/api/"):
            request.session.unread_wanted = True
            request.session.nav_version_wanted = True

    def process_response(self, request, response):
        if hasattr(request, "session") and request_is_passive(request):
            patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, except that a session signed in through Django's ModelBackend before HopLuc's own
    (accounts.backends, the same backend with a cheaper read of the user) is moved to it, as it is
    read: without this such a session's backend would no longer be listed and its person would be
    signed out. The session's user, its password hash check and everything else are Django's."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _request_user(request))


def _request_user(request):
    from .mfa import session_is_verified

    session = request.session
    if session.get(BACKEND_SESSION_KEY) == LEGACY_MODEL_BACKEND and (
            MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS
            and LEGACY_MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS):
        session[BACKEND_SESSION_KEY] = MODEL_BACKEND
    # A session without a second factor: the second-factor gate's facts come with the user row.
    facts = not session_is_verified(request)
    token = MFA_FACTS_WANTED.set(facts)
    # The user row the session store read with the session's (accounts.session_store), if it did.
    read = PERSON_READ.set(getattr(session, "person_read", None))
    try:
        user = django_auth_middleware.get_user(request)
    finally:
        MFA_FACTS_WANTED.reset(token)
        PERSON_READ.reset(read)
    if user.is_authenticated:
        session_person_remember(session.session_key, user.pk, facts=facts)
    return user
