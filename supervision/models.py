"""A supervisor's sign-off of what their agency did: one review per look, appended, never edited.

Three subjects wait for review: handoffs (sent or received), emergency consent overrides, and
break-glass uses. Each has its own table with a real foreign key, so the database keeps every
review pointing at something that exists; the fields they share live in `Review`.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from cases.models import Case, Consent
from encryption.fields import EncryptedTextField
from handoffs.models import Handoff
from notifications.models import Deadline
from permissions.models import BreakGlassUse


class Verdict(models.TextChoices):
    FINE = "fine", _("Fine")
    CONCERN = "concern", _("Concern")
    FOLLOW_UP_NEEDED = "follow_up_needed", _("Follow-up needed")


class DeadlineState(models.TextChoices):
    """Whether a handoff's response deadline was kept (see selectors.deadline_state_q)."""

    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    OPEN = "open", _("Open")
    VOID = "void", _("Withdrawn before due")


class Direction(models.TextChoices):
    SENT = "sent", _("Sent by us")
    RECEIVED = "received", _("Received by us")


class Review(models.Model):
    # The foreign key to what is reviewed, and what it is called in a review's name.
    subject_field: str
    subject_label: str

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("reviewer"))
    # The supervised agency on whose behalf the review is made.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    # Sealed with the reviewed case's data key (encryption.fields.EncryptedTextField).
    comment = EncryptedTextField(_("comment"), blank=True)
    follow_up_due = models.DateTimeField(_("follow-up due"), null=True, blank=True)
    follow_up = models.ForeignKey(Deadline, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("follow-up deadline"))
    at = models.DateTimeField(_("reviewed at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(verdict="concern") | ~Q(comment=""),
                                   name="%(app_label)s_%(class)s_concern_has_comment"),
            models.CheckConstraint(condition=~Q(verdict="follow_up_needed") | Q(follow_up_due__isnull=False),
                                   name="%(app_label)s_%(class)s_follow_up_has_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_label} {getattr(self, self.subject_field + '_id')}: {self.verdict}"


class HandoffReview(Review):
    data_key_via = "handoff.case"
    subject_field, subject_label = "handoff", "handoff"

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="reviews")

    class Meta(Review.Meta):
        verbose_name = _("handoff review")
        verbose_name_plural = _("handoff reviews")
        indexes = [
            models.Index(fields=["handoff", "agency"]),
            # The review queue leaves out what the agency reviewed: its reviews' handoff ids, read off this
            # index alone (supervision.queue).
            models.Index(fields=["agency", "handoff"], name="handoff_review_agency_handoff"),
        ]


class ConsentOverrideReview(Review):
    data_key_via = "consent.case"
    subject_field, subject_label = "consent", "consent"

    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="override_reviews")

    class Meta(Review.Meta):
        verbose_name = _("consent override review")
        verbose_name_plural = _("consent override reviews")
        indexes = [models.Index(fields=["consent", "agency"])]


class BreakGlassReview(Review):
    data_key_via = "use.case"
    subject_field, subject_label = "use", "break-glass"

    use = models.ForeignKey(BreakGlassUse, on_delete=models.PROTECT, related_name="reviews")

    class Meta(Review.Meta):
        verbose_name = _("break-glass review")
        verbose_name_plural = _("break-glass reviews")
        indexes = [models.Index(fields=["use", "agency"])]


def _trigger_kept_key(model: type[models.Model], related_name: str = "+") -> models.ForeignKey:
    """The case or the agency of a row that database triggers keep (CaseAgencyFigure, QueueHandoff,
    QueueRiskLowered): a key, not a foreign key in the database, since the triggers delete a deleted case's
    rows after its actions and handoffs have gone; not indexed alone, the table's unique key and its list
    index serve."""
    return models.ForeignKey(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name=related_name,
                             db_index=False)


class CaseAgencyFigure(models.Model):
    """One figure of a case for one agency, kept by database triggers in the transaction of whatever writes
    the rows it is made of (the services, bulk loads such as seed_scale's COPY, and queryset updates alike):
    at most one row for each (case, agency), and a supervisor's list of cases is the table's index on
    (agency, figure, case) read in order and stopped at its LIMIT. Not foreign keys to the case and agency
    (_trigger_kept_key).

    Each table declares its `case` key, whose related name its list's query joins through, names its
    unique (case, agency) with `one_per_agency` and declares its list's index with `list_index`."""

    case_id: int  # each table's own `case` key
    agency = _trigger_kept_key(Agency)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"agency {self.agency_id} on case {self.case_id}: {self.figure_text()}"

    @staticmethod
    def one_per_agency(name: str) -> models.UniqueConstraint:
        return models.UniqueConstraint(fields=["case", "agency"], name=name)

    @staticmethod
    def list_index(figure: str, name: str) -> models.Index:
        """The supervisor's list: an agency's cases in the order of the figure (`-figure` for the largest
        first), then of the case."""
        return models.Index(fields=["agency", figure, "case"], name=name)

    def figure_text(self) -> str:
        raise NotImplementedError


class CaseActivity(CaseAgencyFigure):
    """The idle clock of one open case for one agency working on it (it leads the case, or holds an
    accepted handoff of it): the agency's last action on the case, its last acceptance of a handoff
    of it, and the opening of the case. `activity_at` is the later of (last action, or else the
    opening) and (acceptance, or else the opening): the supervisor's "cases without action" list is
    this table's index read in order (supervision.selectors.cases_without_action).

    Written by triggers on cases_case, cases_action and cases_handoff (migration 0004). A row exists
    exactly while its agency works on the open case; closing the case, completing or losing the accepted
    handoff removes it."""

    case = _trigger_kept_key(Case, related_name="activity")
    case_created_at = models.DateTimeField()
    last_action_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    activity_at = models.GeneratedField(
        expression=Greatest(Coalesce(F("last_action_at"), F("case_created_at")),
                            Coalesce(F("joined_at"), F("case_created_at"))),
        output_field=models.DateTimeField(), db_persist=True)

    class Meta:
        verbose_name = _("case activity")
        verbose_name_plural = _("case activity")
        constraints = [CaseAgencyFigure.one_per_agency("case_activity_one_per_agency")]
        # The idle list: an agency's cases longest quiet first, read in index order and stopped at LIMIT.
        indexes = [CaseAgencyFigure.list_index("activity_at", "case_activity_idle_order")]

    def figure_text(self) -> str:
        return f"{self.activity_at}"


class CaseHandoffs(CaseAgencyFigure):
    """How often a case was handed on (its handoffs not withdrawn, of every agency), one row for each agency
    that sent or received a handoff of it, withdrawn or not: the supervisor's "cases handed on more than N
    times" list is this table's index read in order (supervision.selectors.cases_handed_on), not every
    case of a busy agency's handoffs counted on each visit.

    Written by triggers on cases_handoff and cases_case (migration 0005); each refresh of a case locks its
    row first, so two transactions changing handoffs of one case count each other's."""

    case = _trigger_kept_key(Case, related_name="handoff_tally")
    handoffs = models.IntegerField()

    class Meta:
        verbose_name = _("case handoffs")
        verbose_name_plural = _("case handoffs")
        constraints = [CaseAgencyFigure.one_per_agency("case_handoffs_one_per_agency")]
        # The handed-on list: an agency's cases most handed on first, read in index order.
        indexes = [CaseAgencyFigure.list_index("-handoffs", "case_handoffs_often_order")]

    def figure_text(self) -> str:
        return f"{self.handoffs} handoffs"


class AgencyHandoffFigures(models.Model):
    """The unfiltered register's figures of one agency over every handoff it sent or received, less what
    depends on the time of reading: how many, by status, by deadline state once it is settled (met, missed
    when answered late or withdrawn after the due time, void), and the sum, count and longest of each
    duration. The rest (handoffs still waiting: open or missed, and overdue) is read at each view from
    the handoffs waiting for an answer (index handoff_*_waiting), few whatever the agency's history
    (selectors.handoff_register_summary).

    Written by PostgreSQL triggers on cases_handoff and cases_action (migration 0006), in the transaction
    of whatever writes those rows, each change added and its former value taken away; the longest
    duration, which cannot be taken away, is read again from the handoffs when the longest one shrinks
    or goes. On SQLite (development, tests) there are no triggers and the summary is the live query.
    Not a foreign key to the agency, as CaseActivity."""

    agency = models.OneToOneField(Agency, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                                  primary_key=True)
    total = models.BigIntegerField(db_default=0)
    deadline_met = models.BigIntegerField(db_default=0)
    deadline_missed = models.BigIntegerField(db_default=0)  # answered late, or withdrawn after the due time
    deadline_void = models.BigIntegerField(db_default=0)
    status_sent = models.BigIntegerField(db_default=0)
    status_accepted = models.BigIntegerField(db_default=0)
    status_declined = models.BigIntegerField(db_default=0)
    status_withdrawn = models.BigIntegerField(db_default=0)
    status_completed = models.BigIntegerField(db_default=0)
    to_view_sum = models.DurationField(db_default=datetime.timedelta(0))
    to_view_count = models.BigIntegerField(db_default=0)
    to_view_max = models.DurationField(null=True, blank=True)
    to_answer_sum = models.DurationField(db_default=datetime.timedelta(0))
    to_answer_count = models.BigIntegerField(db_default=0)
    to_answer_max = models.DurationField(null=True, blank=True)
    to_first_action_sum = models.DurationField(db_default=datetime.timedelta(0))
    to_first_action_count = models.BigIntegerField(db_default=0)
    to_first_action_max = models.DurationField(null=True, blank=True)
    to_completion_sum = models.DurationField(db_default=datetime.timedelta(0))
    to_completion_count = models.BigIntegerField(db_default=0)
    to_completion_max = models.DurationField(null=True, blank=True)

    class Meta:
        verbose_name = _("agency handoff figures")
        verbose_name_plural = _("agency handoff figures")

    def __str__(self) -> str:
        return f"agency {self.agency_id}: {self.total} handoffs"


class HandoffFirstAction(models.Model):
    """The receiving agency's first action on the case at or after it accepted a handoff (the register's
    first_action_at), for each handoff answered, not declined, with such an action: what the triggers of
    AgencyHandoffFigures take away when it changes (an action added, moved or deleted, the handoff
    changed or deleted). Kept by the same triggers; PostgreSQL only."""

    handoff = models.OneToOneField(Handoff, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                                   primary_key=True)
    first_action_at = models.DateTimeField()

    class Meta:
        verbose_name = _("handoff first action")
        verbose_name_plural = _("handoff first actions")

    def __str__(self) -> str:
        return f"handoff {self.handoff_id}: {self.first_action_at}"


class QueueHandoff(models.Model):
    """A handoff not yet reviewed by one of its two agencies (one row for each agency that has not): the
    handoff section of that agency's review queue (supervision.queue) once its deadline is taken into
    account. `waiting_until` is the handoff's due time while it waits for an answer (sent, no emergency
    override), and the queue leaves it out until then: the one part that changes with the time of reading,
    read off the small partial index queue_handoff_waiting.

    Written by PostgreSQL triggers on cases_handoff and supervision_handoffreview (migration 0008), with
    the agency's count in AgencyReviewQueue; on SQLite (development, tests) there are no triggers and the
    queue is the live query. Not foreign keys, as CaseAgencyFigure."""

    pk = models.CompositePrimaryKey("handoff", "agency")
    handoff = _trigger_kept_key(Handoff)
    agency = _trigger_kept_key(Agency)
    emergency_override = models.BooleanField()
    sent_at = models.DateTimeField()
    waiting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("handoff awaiting review")
        verbose_name_plural = _("handoffs awaiting review")
        indexes = [
            # The section's rows: the queue's order, read from the first and stopped at its LIMIT.
            models.Index(fields=["agency", "-emergency_override", "-sent_at", "-handoff"], name="queue_handoff_order",
                         include=["waiting_until"]),
            # Those still waiting for an answer: left out of the count while their due time has not passed.
            models.Index(fields=["agency", "waiting_until"], name="queue_handoff_waiting",
                         condition=Q(waiting_until__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"handoff {self.handoff_id} for agency {self.agency_id}"


class AgencyReviewQueue(models.Model):
    """How many rows of QueueHandoff an agency has (its handoffs not reviewed, waiting or not): the review
    queue's handoff count without reading them (less those still waiting within their deadline, read at
    each view). Kept by the triggers of QueueHandoff (migration 0008). PostgreSQL only."""

    agency = models.OneToOneField(Agency, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                                  primary_key=True)
    handoffs = models.BigIntegerField(db_default=0)

    class Meta:
        verbose_name = _("agency review queue")
        verbose_name_plural = _("agency review queues")

    def __str__(self) -> str:
        return f"agency {self.agency_id}: {self.handoffs} handoffs awaiting review"


class QueueRiskLowered(models.Model):
    """An open case whose latest completed risk assessment has a lower level than an earlier one (the review
    queue's "risk lowered" section, supervision.queue.queue_risk_lowered), with its lead agency: the section
    reads these few cases, not every open case of the agency. Kept by PostgreSQL triggers on
    risk_riskassessment and cases_case (migration 0008); on SQLite the section is the live query."""

    case = models.OneToOneField(Case, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                                primary_key=True)
    agency = _trigger_kept_key(Agency)

    class Meta:
        verbose_name = _("case with risk lowered")
        verbose_name_plural = _("cases with risk lowered")
        indexes = [models.Index(fields=["agency", "case"], name="queue_risk_lowered_agency")]

    def __str__(self) -> str:
        return f"case {self.case_id} of agency {self.agency_id}"
