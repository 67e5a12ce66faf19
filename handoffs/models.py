"""The handoff: a case sent from one agency to another (referral or transfer), its answer and its
state machine. Services: handoffs.services; reads: handoffs.selectors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from cases.models import Case
from cases.transitions import StateMachine, transition
from encryption.fields import EncryptedTextField
from notifications.models import Urgency


class HandoffKind(models.TextChoices):
    REFERRAL = "referral", _("Referral: asks for a service, the lead stays")
    TRANSFER = "transfer", _("Transfer: moves the lead")


class HandoffStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    COMPLETED = "completed", _("Completed")


# The handoff machine (cases.transitions): the services of handoffs.services check it, the handoff page
# shows its buttons and the API lists its allowed_actions. `right` is the side that acts. Sending a
# declined handoff on makes a new handoff (handoff_send with forwarded_from); the declined one stays.
HANDOFF_MACHINE = StateMachine(
    field="status", states=tuple(HandoffStatus.values),
    transitions=(
        transition("accept", [HandoffStatus.SENT], HandoffStatus.ACCEPTED, "receiver"),
        transition("decline", [HandoffStatus.SENT], HandoffStatus.DECLINED, "receiver"),
        transition(
            "withdraw", [HandoffStatus.SENT, HandoffStatus.ACCEPTED], HandoffStatus.WITHDRAWN, "sender",
            guard=lambda h: h.status == HandoffStatus.SENT or h.kind == HandoffKind.REFERRAL,
            refusal=lambda: str(_("An accepted transfer cannot be withdrawn: the case has a new lead.")),
        ),
        transition(
            "complete", [HandoffStatus.ACCEPTED], HandoffStatus.COMPLETED, "receiver",
            guard=lambda h: h.kind == HandoffKind.REFERRAL,
            refusal=lambda: str(_("A transfer is done when accepted; the new lead closes the case.")),
        ),
        transition(
            "send_on", [HandoffStatus.DECLINED], (), "sender",
            guard=lambda h: h.case.lead_agency_id == h.from_agency_id,
            refusal=lambda: str(_("Only the lead agency sends a case on.")),
        ),
    ),
    wrong_state=lambda h: str(_("This handoff is %(status)s and cannot be changed that way.")
                              % {"status": h.get_status_display()}),
)
# status -> the statuses one step away; derived from the machine.
HANDOFF_TRANSITIONS: dict[str, frozenset[str]] = HANDOFF_MACHINE.next_states()
# A handoff that still asks something of the receiving agency.
HANDOFF_OPEN_STATUSES = (HandoffStatus.SENT, HandoffStatus.ACCEPTED)


class HandoffService(models.TextChoices):
    MEDICAL_CARE = "medical_care", _("Medical care")
    FORENSIC_EXAM = "forensic_exam", _("Forensic examination")
    INVESTIGATION = "investigation", _("Investigation")
    PROTECTION_ORDER = "protection_order", _("Protection order")
    COUNSELLING = "counselling", _("Counselling")
    SHELTER = "shelter", _("Shelter")
    LEGAL_AID = "legal_aid", _("Legal aid")
    SCHOOL_SAFETY = "school_safety", _("School safety plan")
    CONTENT_TAKEDOWN = "content_takedown", _("Content takedown")
    SOCIAL_SUPPORT = "social_support", _("Social support")
    OTHER = "other", _("Other")


# Waiting for an answer: neither answered nor withdrawn (or still marked sent).
WAITING = Q(status="sent") | Q(responded_at__isnull=True, withdrawn_at__isnull=True)
# Declined, with the key of a reason that can still be read (not that of an anonymised case).
DECLINED_WITH_KEY = Q(status="declined", decline_reason_key__isnull=False)


# The case page's probe of its coordination panel's handoffs (cases.selectors.case_page_probe_register,
# handoffs.apps): every handoff of the case, a superset of those the panel lists.
HANDOFF_PANEL = "handoffs"


class Handoff(models.Model):
    """A case moving between agencies. Acceptance shares exactly the consented categories among
    `categories`; decline and withdrawal share nothing; completion reduces access to the case facts."""

    data_key_via = "case"
    # Keyed digests of the sealed text, set to NULL with it when the case is anonymised (cases.erasure).
    sealed_text_keys = ("decline_reason_key",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handoffs")
    kind = models.CharField(_("kind"), max_length=10, choices=HandoffKind.choices)
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="handoffs_sent")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="handoffs_received")
    services = models.JSONField(_("services asked"), default=list)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    categories = models.JSONField(_("categories to share"), default=list, blank=True)
    message = EncryptedTextField(_("message to the receiving agency"), blank=True)
    emergency_override = models.BooleanField(_("emergency override (danger to life)"), default=False)
    override_reason = EncryptedTextField(_("reason for the override"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=HandoffStatus.choices, default=HandoffStatus.SENT)
    forwarded_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="forwarded_to"
    )
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    due_at = models.DateTimeField(_("response due"))
    viewed_at = models.DateTimeField(_("first viewed at"), null=True, blank=True)
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = EncryptedTextField(_("reason for declining"), blank=True)
    # encryption.crypto.reason_key of the reason, written with it (handoff_decline): the supervisor's register
    # groups and counts the reasons by it in SQL. Blanked when the case is anonymised (cases.erasure).
    decline_reason_key = models.UUIDField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = EncryptedTextField(_("reason for withdrawing"), blank=True)

    class Meta:
        db_table = "cases_handoff"  # the table of the model's first home (cases), kept as it was
        ordering = ["-sent_at", "-id"]
        verbose_name = _("handoff")
        verbose_name_plural = _("handoffs")
        indexes = [
            models.Index(fields=["case", "status"]),
            # The incoming and outgoing pages' order, of every status and of one: a page is read off
            # the index, not sorted out of every handoff the agency ever received or sent. The
            # supervisor's register reads its first page off the two orders of every status too
            # (supervision.selectors: the agency's newest sent and newest received).
            models.Index(fields=["to_agency", "-sent_at", "-id"], name="handoff_incoming_order",
                         include=["status", "emergency_override", "due_at"]),
            models.Index(fields=["to_agency", "status", "-sent_at", "-id"], name="handoff_incoming_status_order"),
            models.Index(fields=["from_agency", "-sent_at", "-id"], name="handoff_outgoing_order",
                         include=["status", "emergency_override", "due_at"]),
            models.Index(fields=["from_agency", "status", "-sent_at", "-id"], name="handoff_outgoing_status_order"),
            # The supervisor's review queue lists emergency overrides first: the few of an agency read
            # off these, the others off the orders above (supervision.queue._first_handoffs).
            models.Index(fields=["to_agency", "-sent_at", "-id"], name="handoff_incoming_override",
                         condition=Q(emergency_override=True)),
            models.Index(fields=["from_agency", "-sent_at", "-id"], name="handoff_outgoing_override",
                         condition=Q(emergency_override=True)),
            # The agencies one sent handoffs to and received them from (the register's counterpart
            # filter): each found by one probe past the last (supervision.selectors.counterpart_agencies).
            models.Index(fields=["from_agency", "to_agency"], name="handoff_outgoing_counterparts"),
            models.Index(fields=["to_agency", "from_agency"], name="handoff_incoming_counterparts"),
            # The handoffs waiting for an answer (and any still marked sent), few of each agency whatever its
            # history: the register's figures that depend on the time of reading (open, missed while
            # waiting, overdue) are counted off these (supervision.selectors.handoff_register_summary).
            models.Index(fields=["from_agency", "due_at"], name="handoff_outgoing_waiting", condition=WAITING,
                         include=["status", "responded_at", "withdrawn_at"]),
            models.Index(fields=["to_agency", "due_at"], name="handoff_incoming_waiting", condition=WAITING,
                         include=["status", "responded_at", "withdrawn_at"]),
            # The declined handoffs of an agency by reason key (supervision.selectors.decline_reasons): each
            # reason's count and latest answer read off the index alone, and its newest handoff first.
            models.Index(fields=["from_agency", "decline_reason_key", "-responded_at", "-id"],
                         name="handoff_outgoing_declined", condition=DECLINED_WITH_KEY),
            models.Index(fields=["to_agency", "decline_reason_key", "-responded_at", "-id"],
                         name="handoff_incoming_declined", condition=DECLINED_WITH_KEY),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(from_agency=models.F("to_agency")), name="handoff_not_to_itself"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="handoff_decline_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(emergency_override=False) | ~Q(override_reason=""), name="handoff_override_has_reason"
            ),
            # One open handoff of a case per receiving agency, and one transfer waiting for an answer:
            # handoff_send says so in words, these hold under concurrent sends.
            models.UniqueConstraint(
                fields=["case", "to_agency"], condition=Q(status__in=["sent", "accepted"]),
                name="handoff_one_open_per_agency",
                violation_error_message=_("This agency already has an open handoff of this case."),
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(kind="transfer", status="sent"), name="handoff_one_waiting_transfer",
                violation_error_message=_("A transfer of this case is already waiting for an answer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_agency_id} → {self.to_agency_id} ({self.status})"

    @property
    def page_url(self) -> str:
        """The handoff's page (the lists' cards link to it)."""
        return reverse("handoffs:detail", kwargs={"handoff_id": self.pk})
