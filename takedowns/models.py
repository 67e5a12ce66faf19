"""Takedown requests to platforms and their outcomes. Services: takedowns.services."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Action, Case


class TakedownPlatform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    ZALO = "zalo", "Zalo"
    TELEGRAM = "telegram", "Telegram"
    X = "x", "X"
    OTHER = "other", _("Other platform")


class TakedownOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    REMOVED = "removed", _("Removed")
    REFUSED = "refused", _("Refused by the platform")
    NO_RESPONSE = "no_response", _("No response")


# The case page's probe of its takedown block's rows (cases.selectors.case_page_probe_register, takedowns.apps).
TAKEDOWN_PANEL = "takedowns"


class TakedownRequest(models.Model):
    """A request to a platform to take content down, and what came of it. The content is never
    stored, nor its address: only a keyed hash of the reference the responder gave (an address, the
    platform's ID of the post, or a hash from an image-hashing tool), enough to see that two
    requests are about the same content. Logged as an Action of type takedown_requested, whose data
    category decides who reads it. Services: takedowns.services."""

    # No sealed text, but a keyed digest of what the case is about: blanked when the case is anonymised
    # (cases.erasure), which finds the case's rows through data_key_via.
    data_key_via = "case"
    sealed_text_keys = ("content_reference_hash",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="takedown_requests")
    action = models.OneToOneField(Action, on_delete=models.CASCADE, related_name="takedown_request")
    platform = models.CharField(_("platform"), max_length=10, choices=TakedownPlatform.choices)
    content_reference_hash = models.CharField(max_length=64, db_index=True, editable=False)
    requested_at = models.DateTimeField(_("requested at"))
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=TakedownOutcome.choices, default=TakedownOutcome.PENDING
    )
    resolved_at = models.DateTimeField(_("outcome known at"), null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "cases_takedownrequest"  # the table of the model's first home (cases), kept as it was
        ordering = ["-requested_at", "-id"]
        verbose_name = _("takedown request")
        verbose_name_plural = _("takedown requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="pending", resolved_at__isnull=True)
                | (~Q(outcome="pending") & Q(resolved_at__isnull=False)),
                name="takedown_resolved_when_not_pending",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("requested_at")),
                name="takedown_resolved_after_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.platform} ({self.outcome})"
