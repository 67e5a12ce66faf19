"""Break-glass uses: the one model of permissions (the rules are in permissions.breakglass).

The case is named by its label ("cases.Case"), not imported: permissions sits below cases. The
reason is encrypted with the case's key like all case text (encryption.fields)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from encryption.fields import EncryptedTextField


class BreakGlassUse(models.Model):
    """One emergency opening of a case that is not shared with the user's agency: who, why, which
    categories and until when. The access itself is access rows of that user (cases.CaseAccessRow) with the same
    `ends_at`; this row is what supervisors review. Service: cases.breakglass."""

    data_key_via = "case"

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="break_glass_uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The case's lead at the time of use: its supervisors were told and review the use.
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason = EncryptedTextField(_("reason"))
    categories = models.JSONField(_("categories opened"), default=list, blank=True)
    started_at = models.DateTimeField(_("opened at"), default=timezone.now)
    ends_at = models.DateTimeField(_("access ends at"))

    class Meta:
        db_table = "cases_breakglassuse"  # the table of the model's first home (cases), kept as it was
        ordering = ["-started_at", "-id"]
        verbose_name = _("break-glass use")
        verbose_name_plural = _("break-glass uses")
        # The right to use break-glass at all: a model permission, granted to a group or a user.
        permissions = [("break_glass", "Can open a case not shared with their agency (break-glass)")]
        indexes = [models.Index(fields=["lead_agency", "started_at"]), models.Index(fields=["user", "started_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("started_at")), name="break_glass_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.user_id} until {self.ends_at:%Y-%m-%d %H:%M}"
