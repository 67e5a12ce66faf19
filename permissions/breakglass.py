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
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Membership, Role
from audit.models import AuditAction
from audit.services import audit_record
from cases.models import Case
from cases.selectors import case_get_for_user
from cases.sharing import break_glass_refused, case_permissions_sync
from config.exceptions import NotFound
from notifications.models import NotificationKind
from notifications.services import notify
from permissions.categories import DataCategory
from permissions.models import BreakGlassUse
from permissions.policy import CASE_ROLES
from permissions.readers import user_is_case_reader

BREAK_GLASS_PERMISSION = "permissions.break_glass"
REASON_MAX_LENGTH = 2000
CASE_NUMBER_MAX_LENGTH = 20


def break_glass_path(use_id: int) -> str:
    """Where supervisors review a use: notifications carry this path, never the reason."""
    return f"/supervision/break-glass/{use_id}/"


def break_glass_allowed(*, user) -> bool:
    """Whether the user holds the right. Nobody who never reads cases does, superusers included."""
    if not user_is_case_reader(user):
        return False
    return user.has_perm(BREAK_GLASS_PERMISSION)


def _user_agency_ids(user) -> list[int]:
    return list(
        Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True)
        .order_by("agency_id").values_list("agency_id", flat=True)
    )


def break_glass_supervisors(*, lead_agency_id: int, user) -> list[int]:
    """Supervisors of the case's lead agency and of the user's own agencies, the user excepted."""
    agency_ids = {lead_agency_id, *_user_agency_ids(user)}
    return sorted(
        set(
            get_user_model().objects.filter(
                memberships__agency_id__in=agency_ids, memberships__role=Role.SUPERVISOR,
                memberships__agency__active=True, is_active=True,
            ).exclude(pk=user.pk).values_list("pk", flat=True)
        )
    )


def break_glass_open(*, user, case_number: str, reason: str, categories: list[str]) -> BreakGlassUse:
    """Open the case for `user` for BREAK_GLASS_HOURS with the chosen categories (the input validated by
    supervision.serializers.BreakGlassInputSerializer). PermissionDenied without the right;
    ValidationError for an unknown case number or a case the user can already open."""
    if not break_glass_allowed(user=user):
        raise PermissionDenied
    case = Case.objects.select_related("lead_agency").filter(number__iexact=case_number).first()
    if case is None:
        raise ValidationError({"case_number": [_("No case has this number.")]})
    try:
        case_get_for_user(user=user, case_id=case.pk)
    except NotFound:
        pass
    else:
        raise ValidationError({"case_number": [_("You can already open this case: open it from your cases, "
                                                 "without break-glass.")]})
    refused = sorted(set(categories) & break_glass_refused(case=case, user=user))
    if refused:
        raise ValidationError({"categories": [
            _("The survivor refused to share these with your agency or sector: %(c)s.")
            % {"c": ", ".join(str(DataCategory(c).label) for c in refused)}
        ]})
    with transaction.atomic():
        # One use at a time per case: the row lock keeps two uses from replacing each other's rows.
        case = Case.objects.select_for_update().select_related("lead_agency").get(pk=case.pk)
        now = timezone.now()
        ends_at = now + datetime.timedelta(hours=settings.BREAK_GLASS_HOURS)
        use = BreakGlassUse.objects.create(case=case, user=user, lead_agency=case.lead_agency, reason=reason,
                                           categories=categories, started_at=now, ends_at=ends_at)
        # The rows come from the use, like every other right (cases.sharing).
        case_permissions_sync(case=case)
        notify(
            recipients=break_glass_supervisors(lead_agency_id=case.lead_agency_id, user=user),
            kind=NotificationKind.BREAK_GLASS_USED, case_number=case.number, link=break_glass_path(use.pk),
            event_key=f"break-glass:{use.pk}",
        )
        agency_ids = _user_agency_ids(user)
        audit_record(actor=user, action=AuditAction.BREAK_GLASS, case_id=case.pk,
                     agency_id=agency_ids[0] if agency_ids else None, categories=categories,
                     target=f"break_glass:{use.pk}",
                     details={"ends_at": ends_at.isoformat(), "lead_agency_id": case.lead_agency_id})
    return use
