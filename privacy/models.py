"""Retention of closed cases, legal holds, and the survivor's data-subject requests (Law 91/2025/QH15
on personal data protection, Decree 356/2025/ND-CP). Free text here (reasons, what was asked, the
outcome, the access package) is encrypted like the case's own text. Cases are referred to by
foreign key; nothing here adds a field to cases.Case."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from cases.models import Case
from cases.transitions import StateMachine, transition
from encryption.fields import EncryptedTextField


class LegalHold(models.Model):
    """A supervisor of the lead agency suspends the case's retention (and refuses its erasure) for a
    stated reason, e.g. a prosecution or a court order, until the hold is released."""
    # Sealed with the case's own key (encryption.fields): erasing the case makes it unreadable everywhere.
    data_key_via = "case"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_holds")
    reason = EncryptedTextField(_("reason"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = EncryptedTextField(_("reason for the release"), blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["case"], name="legal_hold_active", condition=Q(released_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.case_id}: {'released' if self.released_at else 'active'}"

    @property
    def active(self) -> bool:
        return self.released_at is None


class RetentionNotice(models.Model):
    """The 30-day notice before a closed case is anonymised at the end of its retention. At most one
    notice per case is pending; a legal hold or a reopening cancels it, and the next daily run gives
    a new one (so anonymisation never comes without a full notice period)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Anonymised")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="retention_notices")
    retention_kind = models.CharField(_("retention kind"), max_length=20)
    retention_ends_at = models.DateTimeField(_("retention ends"))
    notified_at = models.DateTimeField(_("notice given"))
    anonymise_after = models.DateTimeField(_("anonymised after"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    cancelled_reason = models.CharField(_("why cancelled"), max_length=30, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["anonymise_after", "id"]
        verbose_name = _("retention notice")
        verbose_name_plural = _("retention notices")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"),
                                    name="retention_notice_one_pending"),
            models.CheckConstraint(condition=Q(anonymise_after__gte=models.F("notified_at")),
                                   name="retention_notice_after_notice"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.status} after {self.anonymise_after:%Y-%m-%d}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access to her data")
    CORRECTION = "correction", _("Correction")
    ERASURE = "erasure", _("Erasure")
    OBJECTION = "objection", _("Objection to processing")
    RESTRICTION = "restriction", _("Restriction of processing")
    WITHDRAW_CONSENT = "withdraw_consent", _("Withdrawal of consent")


class Requester(models.TextChoices):
    SURVIVOR = "survivor", _("The survivor")
    GUARDIAN = "guardian", _("A parent or guardian (for a child)")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    GRANTED = "granted", _("Granted, being carried out")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")


# The data-subject request machine (cases.transitions): the services of privacy.services check it,
# the request page shows its buttons and the API lists its allowed_actions. Every action is the lead
# agency's supervisors'. A decision grants (an access request then waits for its package), refuses,
# or completes at once; downloading the ready package completes an access request.
LEAD_SUPERVISOR = "lead_supervisor"
REQUEST_MACHINE = StateMachine(
    field="status", states=tuple(RequestStatus.values),
    transitions=(
        transition("acknowledge", [RequestStatus.RECEIVED], RequestStatus.ACKNOWLEDGED, LEAD_SUPERVISOR,
                   wrong_state=lambda: str(_("This request has been acknowledged already."))),
        transition("decide", [RequestStatus.RECEIVED, RequestStatus.ACKNOWLEDGED],
                   [RequestStatus.GRANTED, RequestStatus.COMPLETED, RequestStatus.REFUSED], LEAD_SUPERVISOR,
                   wrong_state=lambda: str(_("This request has been decided already."))),
        transition("download", [RequestStatus.GRANTED], RequestStatus.COMPLETED, LEAD_SUPERVISOR,
                   guard=lambda dsr: getattr(getattr(dsr, "package", None), "status", None) == "ready"),
    ),
)


class RefusalGround(models.TextChoices):
    LEGAL_HOLD = "legal_hold", _("A legal hold is on the case")
    CRIMINAL_PROCEEDINGS = "criminal_proceedings", _("An open criminal case needs the data")
    OTHER_LAW = "other_law", _("Another law requires the data to be kept")
    PROTECTION = "protection", _("It would put the survivor or another person at risk")
    NOT_VERIFIED = "not_verified", _("The requester's identity or authority could not be verified")


class DataSubjectRequest(models.Model):
    """A survivor's (or, for a child, a guardian's) request about her personal data, recorded by a
    responder of the lead agency, decided by the lead agency's supervisor, ending in an outcome."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="data_subject_requests")
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    requester = models.CharField(_("made by"), max_length=10, choices=Requester.choices)
    details = EncryptedTextField(_("what is asked"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(_("status"), max_length=15, choices=RequestStatus.choices,
                              default=RequestStatus.RECEIVED)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refusal_ground = models.CharField(_("ground for refusal"), max_length=25, choices=RefusalGround.choices,
                                      blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["case", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(refusal_ground=""),
                                   name="dsr_refusal_has_ground"),
            models.CheckConstraint(
                condition=Q(status__in=["completed", "refused"], completed_at__isnull=False)
                | (~Q(status__in=["completed", "refused"]) & Q(completed_at__isnull=True)),
                name="dsr_completed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status not in (RequestStatus.COMPLETED, RequestStatus.REFUSED)


class AccessPackage(models.Model):
    """Everything held about her, built by a worker for a granted access request: the JSON and the
    PDF, encrypted at rest, handed to the lead agency's supervisor once and then destroyed."""
    # Sealed with the case's own key: an unread package dies with the case key.
    data_key_via = "request.case"

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        FAILED = "failed", _("Failed")

    request = models.OneToOneField(DataSubjectRequest, on_delete=models.PROTECT, related_name="package")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    # Base64 of the archive (package.json + package.pdf), encrypted; emptied at the download.
    content = EncryptedTextField(blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    downloaded_at = models.DateTimeField(_("downloaded at"), null=True, blank=True)
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("access package")
        verbose_name_plural = _("access packages")
        constraints = [
            models.CheckConstraint(condition=~Q(status="downloaded") | Q(content=""),
                                   name="access_package_emptied_after_download"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.status}"


# --- Personal-data breaches ------------------------------------------------------------------------
# Recorded about the installation's data, not about one case; it cites the audit trail's access
# records by number. The table keeps the name it had when the register lived in audit.


class BreachStatus(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    NOTIFIED = "notified", _("Authority notified")
    NOT_A_BREACH = "not_a_breach", _("Not a breach")


class Breach(models.Model):
    """A suspected personal-data breach, with the fields a breach notice to the competent authority
    asks for (Law 91/2025, Decree 356/2025; earlier Decree 13/2023 Art. 23). Free text is encrypted
    like identity fields: it may well describe whose data leaked."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="breaches_recorded",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=20, choices=BreachStatus.choices, default=BreachStatus.SUSPECTED)
    discovered_at = models.DateTimeField(_("time of discovery"))
    occurred_at = models.DateTimeField(_("time it happened (if known)"), null=True, blank=True)
    description = EncryptedTextField(_("description of the breach"))
    categories = models.JSONField(_("categories of personal data"), default=list, blank=True)
    subjects_approx = models.PositiveIntegerField(_("approximate number of data subjects"), null=True, blank=True)
    records_approx = models.PositiveIntegerField(_("approximate number of records"), null=True, blank=True)
    consequences = EncryptedTextField(_("likely consequences"), blank=True)
    measures_taken = EncryptedTextField(_("measures taken"), blank=True)
    measures_proposed = EncryptedTextField(_("measures proposed"), blank=True)
    contact_point = models.CharField(
        _("contact point"), max_length=200,
        help_text=_("The person or office the authority may contact about this breach (role, phone, email)."),
    )
    affected_agencies = models.ManyToManyField(
        "agencies.Agency", related_name="breaches", blank=True, verbose_name=_("affected agencies"),
    )
    # Sequence numbers of audit events (the access records that raised the suspicion). Plain numbers,
    # not a foreign key: a key would hold the append-only table to this one (TRUNCATE, flush).
    access_event_seqs = models.JSONField(_("linked access records"), default=list, blank=True)
    due_at = models.DateTimeField(_("notification due"))
    notified_at = models.DateTimeField(_("time of notification"), null=True, blank=True)
    delay_reason = EncryptedTextField(_("reason for notifying late"), blank=True)

    class Meta:
        db_table = "audit_breach"
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("personal-data breach")
        verbose_name_plural = _("personal-data breaches")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="notified") | Q(notified_at__isnull=False), name="breach_notified_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def overdue(self) -> bool:
        return self.notified_at is None and self.status in (BreachStatus.SUSPECTED, BreachStatus.CONFIRMED) \
            and timezone.now() > self.due_at

    @property
    def notified_late(self) -> bool:
        return self.notified_at is not None and self.notified_at > self.due_at
