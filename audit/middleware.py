import re
import uuid

from django.http.request import HttpHeaders

from .carried import audit_reads_carried
from .context import audit_context_reset, audit_context_set, request_audit_context

REQUEST_ID_HEADER = "X-Request-ID"
# Read from the WSGI environ: `request.headers` would build a mapping of every header on each request, which
# a page then never needs for anything else (the frame's header reads all go to META).
_REQUEST_ID_META = HttpHeaders.to_wsgi_name(REQUEST_ID_HEADER)
# Accept a proxy's id only if it is short and harmless in logs and headers; otherwise make one.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")


class RequestIdMiddleware:
    """Gives every request an id (the caller's X-Request-ID if sane, else a new UUID) as
    request.request_id, and echoes it in the response, so an audit event, a log line and a user's
    bug report can be matched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get(_REQUEST_ID_META, "")
        request.request_id = supplied if _SANE_REQUEST_ID.fullmatch(supplied) else str(uuid.uuid4())
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class AuditContextMiddleware:
    """Sets the audit context for the request and resets it after the response (after
    RequestIdMiddleware, which gives the request its id). The request is the scope of its reads' audit
    events (audit.carried): one that no later statement carried is written before the response leaves,
    and a failure to write it is the request's (500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit_context_set(request_audit_context(request))
        try:
            with audit_reads_carried():
                return self.get_response(request)
        finally:
            audit_context_reset(token)
