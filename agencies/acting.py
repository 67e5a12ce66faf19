"""The agency a person acts for.

A person may belong to several agencies with a case role (a social worker seconded to a hotline).
They read the union of what their agencies may see, but every write is made on behalf of one
agency, the *acting agency*, which they choose: in the pages with the header's switcher (kept in
the session), in the API with the `X-Acting-Agency` header (an agency id), which wins over the
session. A person with one case agency acts for it without choosing.

The choice travels in a context variable set for each request (accounts.middleware), like the
audit context, so that selectors and services read it without seeing the request. It is only a
request: `acting_agency_pick` honours it only for an agency the person still belongs to.
"""

from collections.abc import Collection
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.context import bound

from .models import CASE_ROLES, Agency, Membership

ACTING_AGENCY_HEADER = "X-Acting-Agency"
ACTING_AGENCY_SESSION_KEY = "acting_agency_id"
# The switcher's choices, remembered at sign-in so that pages need no query to draw it.
ACTING_CHOICES_SESSION_KEY = "acting_agency_choices"

_requested: ContextVar[int | None] = ContextVar("acting_agency_requested", default=None)


class ActingAgencyRequired(ValidationError):
    """A write needs an agency and the person, who works for several, has not chosen one."""

    def __init__(self):
        super().__init__({"agency": [_("You work for several agencies: choose the agency you act for.")]})


def acting_agency_request(agency_id: int | None) -> Token:
    return _requested.set(agency_id)


def acting_agency_reset(token: Token) -> None:
    _requested.reset(token)


@contextmanager
def acting_for(agency_id: int | None):
    """Act for this agency inside the block (scripts, tasks and tests; requests use the middleware)."""
    with bound(_requested, agency_id):
        yield


def acting_agency_requested() -> int | None:
    return _requested.get()


def acting_agency_pick(*, member_agency_ids: Collection[int]) -> int | None:
    """The agency writes are made for: the only case agency of a one-agency person, otherwise the
    one chosen if the person still belongs to it; None when a choice is needed."""
    ids = set(member_agency_ids)
    if len(ids) == 1:
        return next(iter(ids))
    requested = _requested.get()
    return requested if requested in ids else None


def case_membership_agencies(*, user: User):
    """The active agencies where the user holds a case role (responder or supervisor)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Agency.objects.none()
    return Agency.objects.filter(
        active=True, pk__in=Membership.objects.filter(user=user, role__in=CASE_ROLES).values("agency_id")
    ).order_by("name", "pk")


def acting_agency_parse(value) -> int:
    """An agency id from the header or a form, or ValidationError."""
    try:
        agency_id = int(str(value).strip())
    except (TypeError, ValueError):
        agency_id = 0
    if agency_id <= 0:
        raise ValidationError({"agency": [_("The acting agency must be an agency id.")]})
    return agency_id


def acting_agency_validate(*, user: User, agency_id: int) -> Agency:
    """The agency, if the user holds a case role in it; ValidationError otherwise."""
    agency = case_membership_agencies(user=user).filter(pk=agency_id).first()
    if agency is None:
        raise ValidationError({"agency": [_("You do not work on cases for this agency.")]})
    return agency


def acting_agency_current(*, user: User) -> Agency | None:
    """The acting agency of this request (None when the person must still choose or has no case role)."""
    agencies = list(case_membership_agencies(user=user))
    agency_id = acting_agency_pick(member_agency_ids=[a.pk for a in agencies])
    return next((a for a in agencies if a.pk == agency_id), None)
