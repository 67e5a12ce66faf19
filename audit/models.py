"""The audit trail: one append-only, hash-chained table of who did what to which case, when and from where.

Generic on purpose: cases and agencies are referred to by plain integer ids, so that this app imports
no domain app and the trail outlives any reshaping of the domain tables.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.fields import EncryptedTextField

# The triggers in audit/triggers.py name this table; keep them in step.
AUDIT_EVENT_TABLE = "audit_auditevent"


class AuditAction(models.TextChoices):
    """What happened. Add members here (and a migration) rather than inventing free-text actions:
    access reviews filter on these values."""

    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    SEARCH = "search", _("Searched")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    SHARE = "share", _("Shared")
    REVOKE = "revoke", _("Revoked")
    EXPORT = "export", _("Exported")
    BREAK_GLASS = "break_glass", _("Break-glass access")
    CONSENT_OVERRIDE = "consent_override", _("Consent overridden")
    ACCESS_DENIED = "access_denied", _("Access refused")
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Signed out")
    # Identity and text of a case shredded (cases.erasure): structured facts kept for statistics.
    CASE_ANONYMISED = "case.anonymised", _("Case anonymised")


class AuditEvent(models.Model):
    # seq is the event's number, from a database sequence at insert (no lock; gaps where a transaction
    # rolled back). Its place in the chain (position, prev_hash, hash) is filled once, after the insert
    # committed, by the chainer (audit_chain_pending), under the chain lock.
    seq = models.BigAutoField(_("sequence number"), primary_key=True)
    at = models.DateTimeField(_("time"))
    # PROTECT, not SET_NULL: clearing the column would be an UPDATE, which the append-only trigger
    # refuses anyway, and people with a history are deactivated rather than deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events",
        verbose_name=_("actor"),
    )
    # The username at the time of the event, so that a later rename cannot rewrite who did it.
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True)
    agency_id = models.BigIntegerField(_("agency id"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True)
    categories = models.JSONField(_("data categories"), default=list, blank=True)
    target = models.CharField(_("target"), max_length=200, blank=True, help_text=_('For example "case:12".'))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=100, blank=True)
    # Never free text about a case (audit_record refuses it with a case_id): an event that needs its
    # text points at the row that holds it, sealed with the case's key (`target`).
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    position = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, null=True, blank=True)
    hash = models.CharField(_("hash"), max_length=64, null=True, blank=True)

    class Meta:
        db_table = AUDIT_EVENT_TABLE
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["case_id", "seq"], name="audit_event_case_seq"),
            models.Index(fields=["agency_id", "seq"], name="audit_event_agency_seq"),
            models.Index(fields=["at"], name="audit_event_at"),
            # What the chainer reads: the events not chained yet, in insert order.
            models.Index(fields=["seq"], condition=Q(position__isnull=True), name="audit_event_unchained"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="audit_event_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target}".rstrip()


# --- Personal-data breaches ------------------------------------------------------------------------
# The one part of this app that names domain tables (agencies, users): a breach is recorded about the
# installation's data, not about the audit trail, and lives here beside the access records it cites.


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
