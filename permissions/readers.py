"""Who may read cases at all (rule 2 of permissions/README.md), whatever object-permission rows exist.

Analysts see aggregates, agency admins manage staff, system administrators (is_superuser or
is_staff) administer: none of them reads a case. A case reader is an active account that is none of
these; only then do the rows of their memberships' groups, or their break-glass rows, count.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, Q

from agencies.models import AnalystScope, Membership, Role


def user_is_system_administrator(user: User | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "is_staff", False))


def user_may_be_case_reader(user: User | AnonymousUser) -> bool:
    """The part of the rule decided by the account itself, without a query."""
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and not user_is_system_administrator(user)
    )


def case_reader_condition(user: User) -> Q:
    """The part decided by other tables, as a condition to put into the query that reads the rows
    (no query of its own): no analyst scope and no agency-admin membership."""
    return ~Q(Exists(AnalystScope.objects.filter(user=user))) & ~Q(
        Exists(Membership.objects.filter(user=user, role=Role.AGENCY_ADMIN))
    )


def user_is_case_reader(user: User | AnonymousUser) -> bool:
    """The whole rule, for services (one query)."""
    if isinstance(user, AnonymousUser) or not user_may_be_case_reader(user):
        return False
    return not (
        AnalystScope.objects.filter(user=user).exists()
        or Membership.objects.filter(user=user, role=Role.AGENCY_ADMIN).exists()
    )
