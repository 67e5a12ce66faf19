"""Break-glass, the service: opening, in an emergency, a case that is not shared with the user's
agency. The rule (who may, who is told, the BreakGlassUse row) is permissions'
(permissions.breakglass, permissions.models); using it reads and shares the case (cases.sharing) and
tells the supervisors at once (notifications), so the service lives here, above both."""

import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from config.exceptions import NotFound
from notifications.models import NotificationKind
from notifications.services import notify
from permissions.breakglass import (
    break_glass_allowed,
    break_glass_path,
    break_glass_supervisors,
    break_glass_user_agency_ids,
)
from permissions.categories import DataCategory
from permissions.models import BreakGlassUse

from .models import Case
from .selectors import case_get_for_user
from .sharing import break_glass_refused, case_permissions_sync


def break_glass_open(*, user: User, case_number: str, reason: str, categories: list[str]) -> BreakGlassUse:
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
        agency_ids = break_glass_user_agency_ids(user)
        audit_record(actor=user, action=AuditAction.BREAK_GLASS, case_id=case.pk,
                     agency_id=agency_ids[0] if agency_ids else None, categories=categories,
                     target=f"break_glass:{use.pk}",
                     details={"ends_at": ends_at.isoformat(), "lead_agency_id": case.lead_agency_id})
    return use
