"""Domain exceptions that services and selectors raise; the edge maps them to HTTP answers.

Services and selectors know nothing of HTTP (no django.http): they raise these, and
config.errors turns them into the same answers a view's Http404 gives (DomainErrorsMiddleware for
pages, api_exception_handler for the API)."""


class NotFound(Exception):
    """The object does not exist, or this user may not see it. The edge answers 404 either way, the
    same answer for both, so that nobody learns whether something they may not see exists."""
