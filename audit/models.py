"""The audit trail: one append-only, hash-chained table of who did what to which case, when and from where.

Generic on purpose: cases and agencies are referred to by plain integer ids, so that this app imports
no domain app and the trail outlives any reshaping of the domain tables.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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

