from django.conf import settings
from django.contrib import messages
from django.utils.translation import ngettext

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
