"""Break-glass: opening, in an emergency, a case that is not shared with the user's agency.

Who may: a case reader (permissions.readers: never an analyst, an agency admin, a system
administrator or a superuser, whatever permissions they hold) holding the Django permission
`permissions.break_glass`, granted by a system administrator to a group, such as the emergency doctors
of a hospital, or to one person.

What it gives: `view_case` and the chosen data categories, except any category refused in force to
one of the user's agencies or their sectors (asking for one is refused with a clear message, and a
refusal recorded later binds too), as access rows (cases.CaseAccessRow) of that user alone, valid for
BREAK_GLASS_HOURS. No right to change anything. The rows are derived from the BreakGlassUse by
cases.sharing like every other right and carry its end: `case_get_for_user` ignores rows past
their `valid_until`, so nothing has to run at the end.

What it costs: a written reason, a BreakGlassUse row that waits in the supervisors' review queue,
an audit event (action break_glass) with the reason and categories, and an at-once, mandatory
notification to the supervisors of the case's lead agency and of the user's own agencies.

This module holds the rule (who may, who is told); the service that opens the case with it is
cases.breakglass.break_glass_open, which reads and shares the case and so lives with the cases.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User

from agencies.models import Membership, Role
from permissions.policy import CASE_ROLES
from permissions.readers import user_is_case_reader

BREAK_GLASS_PERMISSION = "permissions.break_glass"
REASON_MAX_LENGTH = 2000
CASE_NUMBER_MAX_LENGTH = 20


def break_glass_path(use_id: int) -> str:
    """Where supervisors review a use: notifications carry this path, never the reason."""
    return f"/supervision/break-glass/{use_id}/"


def break_glass_allowed(*, user: User | AnonymousUser) -> bool:
    """Whether the user holds the right. Nobody who never reads cases does, superusers included."""
    if not user_is_case_reader(user):
        return False
    return user.has_perm(BREAK_GLASS_PERMISSION)


def break_glass_user_agency_ids(user: User) -> list[int]:
    return list(
        Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True)
        .order_by("agency_id").values_list("agency_id", flat=True)
    )


def break_glass_supervisors(*, lead_agency_id: int, user: User) -> list[int]:
    """Supervisors of the case's lead agency and of the user's own agencies, the user excepted."""
    agency_ids = {lead_agency_id, *break_glass_user_agency_ids(user)}
    return sorted(
        set(
            get_user_model().objects.filter(
                memberships__agency_id__in=agency_ids, memberships__role=Role.SUPERVISOR,
                memberships__agency__active=True, is_active=True,
            ).exclude(pk=user.pk).values_list("pk", flat=True)
        )
    )
