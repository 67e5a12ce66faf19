from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from agencies.acting import (
    ACTING_AGENCY_HEADER,
    ACTING_AGENCY_SESSION_KEY,
    acting_agency_parse,
    acting_agency_request,
    acting_agency_reset,
)


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


class ActingAgencyMiddleware:
    """Carry the agency the person acts for into the request's context (agencies.acting): the API's
    `X-Acting-Agency` header, else the choice kept in the session. Case API views refuse a header
    that is not a whole number or names an agency the person does not work for (400); anywhere
    else a choice the person no longer holds is simply ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        requested = None
        header = request.headers.get(ACTING_AGENCY_HEADER)
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
