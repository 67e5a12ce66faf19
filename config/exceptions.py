"""Domain exceptions that services and selectors raise; the edge maps them to HTTP answers.

Services and selectors know nothing of HTTP (no django.http): they raise these, and
the edge turns them into HTTP answers: config.errors.DomainErrorsMiddleware for pages (the same
404 a view's Http404 gives), config.api.api_exception_handler for the API."""

from django.core.exceptions import ValidationError


class NotFound(Exception):
    """The object does not exist, or this user may not see it. The edge answers 404 either way, the
    same answer for both, so that nobody learns whether something they may not see exists."""


def row_id_or_not_found(value) -> int:
    """An id as a path or a caller gave it, as an int a bigint key can hold, or NotFound: the ORM finds
    nothing for such a value, so neither does a hand-written statement (whose bigint parameter could
    not hold it)."""
    try:
        row_id = int(value)
    except (ValueError, TypeError):
        raise NotFound from None
    if not 0 < row_id < 2**63:
        raise NotFound
    return row_id


def row_id_or_none(value: object) -> int | None:
    """An id as a query string or a form gave it (ASCII digits, within a bigint key's range), or None.
    str.isdigit() is no test: "²" is a digit to it, and int() refuses it."""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    row_id = int(text)
    return row_id if 0 < row_id < 2**63 else None


class Unprocessable(ValidationError):
    """The request cannot be carried out as sent, although each field is well formed (an idempotency key
    sent again with another body). A ValidationError; the API answers 422 with the field messages."""


class StateConflict(ValidationError):
    """The object's state does not allow the action now (cases.transitions.TransitionNotAllowed, a
    uniqueness rule lost in a race). A ValidationError, so pages show its messages by field like any
    other; the API answers 409 with the same field messages."""
