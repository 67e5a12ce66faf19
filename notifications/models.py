"""Deadlines, the calendar they are counted on, and the notifications they cause.

Subjects of deadlines are referenced generically ("handoff:12", a case id and number as plain
values): this app never imports `cases`, so that `cases` can write deadlines and notifications.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Province

# --- Time limits and the working-day calendar ----------------------------------------------------


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("calendar days")
    WORKING_DAYS = "working_days", _("working days")
    # The court ban on contact (Law 13/2022/QH15 Art. 26) is counted in months.
    MONTHS = "months", _("months")


class LegalTimeLimit(models.Model):
    """A time limit from a law, decree or service standard, kept as data with its source.

    Rows come from notifications/data/time_limits.yaml (data migration, `load_time_limits`);
    administrators may correct them, and TIME_LIMIT_OVERRIDES in the environment wins over both.
    """

    class LimitType(models.TextChoices):
        RESPOND_WITHIN = "respond_within", _("must be done within")
        LASTS_AT_MOST = "lasts_at_most", _("lasts at most")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    # English text, translated on display through the .po catalogues (see `label`).
    description = models.CharField(_("description"), max_length=250)
    limit_type = models.CharField(
        _("type"), max_length=20, choices=LimitType.choices, default=LimitType.RESPOND_WITHIN
    )
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    source = models.CharField(_("legal source"), max_length=250)

    class Meta:
        ordering = ["code"]
        verbose_name = _("legal time limit")
        verbose_name_plural = _("legal time limits")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="legal_time_limit_amount_positive")]

    def __str__(self) -> str:
        return f"{self.code}: {self.amount} {self.get_unit_display()}"

    @property
    def label(self) -> str:
        return gettext(self.description)


class CalendarDay(models.Model):
    """A named date of the working-day calendar, one row per date."""

    date = models.DateField(_("date"), unique=True)
    name: str  # each kind of day declares its own (a holiday's name, a swap's reason)

    class Meta:
        abstract = True
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class PublicHoliday(CalendarDay):
    """A day off on the Vietnamese calendar: Tết, the other public holidays and the days given in
    lieu (is_compensatory). Filled by `load_holidays` and corrected by CSV import or the admin."""

    name = models.CharField(_("name"), max_length=150)
    is_compensatory = models.BooleanField(_("day off in lieu"), default=False)

    class Meta(CalendarDay.Meta):
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")


class HolidayRemoval(CalendarDay):
    """A day taken off the holiday list (deleted in the admin, moved to another date, or made a working
    day by a calendar import). Loading from the `holidays` package never adds such a day back, so an
    administrator's correction outlives every later load (seed_demo, load_holidays, migrations)."""

    name = models.CharField(_("name"), max_length=150, blank=True)
    removed_at = models.DateTimeField(_("removed at"), auto_now_add=True)

    class Meta(CalendarDay.Meta):
        verbose_name = _("removed public holiday")
        verbose_name_plural = _("removed public holidays")


class WeekendWorkday(CalendarDay):
    """A Saturday or Sunday worked to make up for a bridging day off (an official swap)."""

    name = models.CharField(_("reason"), max_length=150)

    class Meta(CalendarDay.Meta):
        verbose_name = _("weekend working day")
        verbose_name_plural = _("weekend working days")

    def clean(self) -> None:
        if self.date is not None and self.date.weekday() < 5:
            raise ValidationError({"date": _("A weekend working day must be a Saturday or a Sunday.")})


# --- Deadlines -----------------------------------------------------------------------------------


class Deadline(models.Model):
    class Kind(models.TextChoices):
        HANDOFF_RESPONSE = "handoff_response", _("Handoff response")
        FOLLOW_UP = "follow_up", _("Follow-up")
        ACTION_PLAN = "action_plan", _("Action plan")
        LEGAL_LIMIT = "legal_limit", _("Legal time limit")
        RISK_REVIEW = "risk_review", _("Risk review")

    class Stage(models.TextChoices):
        PENDING = "pending", _("Pending")
        REMINDED = "reminded", _("Reminder sent")
        OVERDUE = "overdue", _("Overdue")
        ESCALATED = "escalated", _("Escalated")
        CLOSED = "closed", _("Closed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # What the deadline is about, e.g. "handoff:12"; closing by subject closes all of its deadlines.
    subject = models.CharField(_("subject"), max_length=100, db_index=True)
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=30, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    owner_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="deadlines", verbose_name=_("owner agency")
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="deadlines",
        verbose_name=_("owner"),
    )
    escalate_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="escalated_deadlines",
        verbose_name=_("agency escalated to"),
    )
    rule = models.ForeignKey(
        LegalTimeLimit, on_delete=models.PROTECT, null=True, blank=True, related_name="deadlines",
        verbose_name=_("time limit"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("reminder"))
    escalate_at = models.DateTimeField(_("escalation"))
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.PENDING)
    # The time of the next stage; null once escalated or closed.
    next_fire_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_reason = models.CharField(_("reason for closing"), max_length=100, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # The sweep's work queue: only open rows, so the index stays as small as the backlog.
            models.Index(fields=["next_fire_at"], name="deadline_next_fire_open", condition=Q(closed_at__isnull=True)),
            models.Index(fields=["owner_agency", "due_at"], name="deadline_agency_due_open",
                         condition=Q(closed_at__isnull=True)),
            # A case page's open deadlines (deadlines.selectors.case_deadline_list): the case's few rows, not a
            # bitmap over every open deadline its viewer's agency owns or escalates (thousands at national scale).
            models.Index(fields=["case_id", "due_at"], name="deadline_case_due_open",
                         condition=Q(closed_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remind_at__lte=F("due_at")) & Q(due_at__lte=F("escalate_at")),
                name="deadline_stages_in_order",
            ),
            models.CheckConstraint(
                condition=Q(stage="closed", closed_at__isnull=False) | (~Q(stage="closed") & Q(closed_at__isnull=True)),
                name="deadline_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_number or self.subject} ({self.due_at:%Y-%m-%d %H:%M})"


# --- Notifications -------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    HANDOFF_RECEIVED = "handoff_received", _("A case was referred or transferred to your agency")
    HANDOFF_EMERGENCY = "handoff_emergency", _("An emergency handoff was sent to your agency")
    HANDOFF_ACCEPTED = "handoff_accepted", _("Your handoff was accepted")
    HANDOFF_DECLINED = "handoff_declined", _("Your handoff was declined")
    HANDOFF_WITHDRAWN = "handoff_withdrawn", _("A handoff to your agency was withdrawn")
    HANDOFF_COMPLETED = "handoff_completed", _("A handoff was completed")
    DEADLINE_REMINDER = "deadline_reminder", _("A deadline is coming up")
    DEADLINE_OVERDUE = "deadline_overdue", _("A deadline has passed")
    DEADLINE_ESCALATED = "deadline_escalated", _("An overdue deadline was escalated")
    BREAK_GLASS_USED = "break_glass_used", _("Someone used break-glass access to a case")
    REPORT_PUBLISHED = "report_published", _("A monthly report was published")
    BREACH_RECORDED = "breach_recorded", _("A suspected personal-data breach affecting your agency was recorded")
    REPORT_CORRECTION_HELD = "report_correction_held", _(
        "Your report correction was held: beside the published version it would describe the people it "
        "changes. It will be tried again with next month's report"
    )
    RETENTION_NOTICE = "retention_notice", _("A closed case will be anonymised at the end of its retention")
    DATA_SUBJECT_REQUEST = "data_subject_request", _("A survivor's data request awaits your decision")
    ACCESS_PACKAGE_READY = "access_package_ready", _("An access package is ready to download once")
    MEETING_INVITATION = "meeting_invitation", _("Your agency is invited to a case meeting")


# Escalations, and emergencies that cannot wait, cannot be switched off entirely: in-app stays on.
MANDATORY_KINDS = frozenset({
    NotificationKind.DEADLINE_OVERDUE, NotificationKind.DEADLINE_ESCALATED, NotificationKind.HANDOFF_EMERGENCY,
    NotificationKind.BREAK_GLASS_USED, NotificationKind.BREACH_RECORDED,
})
SMS_DEFAULT_KINDS = MANDATORY_KINDS


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Urgency(models.TextChoices):
    """A handoff's urgency (Handoff.urgency): it picks the handoff's response time limit and is named
    in its notifications. Declared here, below handoffs, so that notifications reads it without
    importing handoffs."""

    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    STANDARD = "standard", _("Standard")


def urgency_text(value: str | None) -> str:
    return str(Urgency(value).label) if value in Urgency.values else ""


class Notification(models.Model):
    """One event for one recipient. It is the in-app message when `in_app` is set, and the source of
    the email and SMS texts otherwise: only the case number, the event, a due time and a link."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("event"), max_length=30, choices=NotificationKind.choices)
    event_key = models.CharField(max_length=120)
    case_number = models.CharField(_("case number"), max_length=30, blank=True)
    link = models.CharField(_("link"), max_length=200)
    # Non-identifying values only; notify() enforces an allow-list of keys and value shapes.
    params = models.JSONField(default=dict, blank=True)
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient"], name="notification_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox",
                         condition=Q(in_app=True)),
            models.Index(fields=["recipient"], name="notification_unread",
                         condition=Q(in_app=True, read_at__isnull=True)),
            # A handoff's answer clears the unread requests about it (services.notifications_answered).
            models.Index(fields=["link"], name="notification_unread_link", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_number}"

    @property
    def urgency(self) -> str:
        return (self.params or {}).get("urgency", "")

    @property
    def urgency_label(self) -> str:
        return urgency_text(self.urgency)

    @property
    def due_at(self) -> datetime.datetime | None:
        value = (self.params or {}).get("due_at")
        return datetime.datetime.fromisoformat(value) if value else None


class NotificationPreference(models.Model):
    """A user's choice for one event and channel; without a row the defaults of
    `notifications.preferences` apply."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("event"), max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}/{self.channel}={self.enabled}"


class OutboxMessage(models.Model):
    """One email or SMS to send, written in the same transaction as its cause, and its delivery
    record. The unique (event_key, recipient, channel) means a repeated event never sends twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="outbox_messages")
    event_key = models.CharField(max_length=120)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Earliest time of the next attempt (backoff after a failure).
    next_attempt_at = models.DateTimeField()
    # When the relay sweep may enqueue the row again if it is still not delivered by then; moving it
    # forward is how one sweeper claims the row against another.
    relay_after = models.DateTimeField()
    # A row in "sending" belongs to one worker until this time; after it, the worker is presumed dead.
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient", "channel"], name="outbox_once_per_channel"),
            models.CheckConstraint(condition=~Q(channel="in_app"), name="outbox_not_in_app"),
        ]
        indexes = [
            models.Index(fields=["relay_after"], name="outbox_undelivered",
                         condition=Q(status__in=["queued", "sending", "retrying"])),
            # The supervisors' failure list.
            models.Index(fields=["recipient", "-created_at"], name="outbox_failed", condition=Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient_id} ({self.status})"


class Heartbeat(models.Model):
    """When a periodic task sent by beat last ran on a worker (`config.tasks.heartbeat`, every
    minute): its age, on /healthz/detail, shows that beat, broker, worker and database all work."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


# --- People: contact details and province coordinators --------------------------------------------


class UserContact(models.Model):
    """How a user is reached outside the app: a mobile number for SMS and the language of texts."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact")
    phone = models.CharField(
        _("mobile number"), max_length=20, blank=True,
        help_text=_("International format, e.g. +84912345678. Used for SMS notifications only."),
    )
    language = models.CharField(
        _("language of notifications"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("contact details")
        verbose_name_plural = _("contact details")

    def __str__(self) -> str:
        return str(self.user)


class ProvinceCoordinator(models.Model):
    """Receives the second escalation of overdue deadlines of the agencies in a province."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinated_provinces")
    province = models.ForeignKey(Province, on_delete=models.CASCADE, related_name="coordinators")

    class Meta:
        verbose_name = _("province coordinator")
        verbose_name_plural = _("province coordinators")
        constraints = [models.UniqueConstraint(fields=["user", "province"], name="province_coordinator_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.province})"
