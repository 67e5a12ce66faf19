"""The multi-agency case meeting (issue 17, parts 4-5): the commune or district case meeting of
Decree 56/2017 Art. 28 and the MARAC model. A coordinator (a supervisor of the lead agency) puts
high-risk cases on a meeting's agenda, invites agencies, and at the meeting each invited agency adds
what it knows (in its own data category, visible under the same consent rules as the rest of the
case), the chair records decisions in minutes, and an action plan gives each task an owner agency,
an owner person and a due date. Each plan item is a `notifications.Deadline` (kind "action_plan",
subject "plan_item:<id>") so it reminds and escalates like a handoff's.

Who may see what: a meeting is visible to the coordinator's agency and to the invited agencies; a
case on its agenda, a contribution, a decision or a plan item only to an invited agency that may see
that case (and the contribution's category) under the consent in force. Contributions, decisions and
plan actions are case content, sealed with the case key (`data_key_via`). Minutes are versions:
a signed version never changes (corrections are a new version).

The reasons typed about the meeting as a whole (why it was cancelled, why its minutes were corrected)
may name a survivor of any case on its agenda, so no one case's key fits them: they are sealed with
the meeting's own data key (`CaseMeeting.data_key`, a `cases.CaseKey` row), which is destroyed when any
case on the agenda is anonymised (conferences.keys). A signed version of the minutes is never rewritten
for it: its reason stays sealed under a key that no longer exists, like its decisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from cases.models import Case, CaseKey
from cases.transitions import StateMachine, transition
from encryption.fields import EncryptedTextField
from permissions.categories import ACTION_CATEGORY_CHOICES, GENERAL


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


# The meeting machine (cases.transitions): the services of conferences.services check it, the meeting
# page shows its buttons and the API lists its allowed_actions. Who may take an action
# (conferences.selectors.MeetingAccess.may): a supervisor of the coordinating agency, whoever runs the
# meeting (the chair or the coordinator), or any agency taking part. Actions with no target keep the state.
COORDINATOR, RUNNER, TAKING_PART = "coordinator", "runner", "taking_part"
_SCHEDULED, _NOT_CANCELLED = [MeetingStatus.SCHEDULED], [MeetingStatus.SCHEDULED, MeetingStatus.HELD]
MEETING_MACHINE = StateMachine(
    field="status", states=tuple(MeetingStatus.values), error_key="meeting",
    wrong_state=lambda meeting: str(_("This meeting is cancelled or already held.")),
    transitions=(
        transition("agenda_add", _SCHEDULED, (), COORDINATOR),
        transition("invite", _SCHEDULED, (), COORDINATOR),
        transition("cancel", _SCHEDULED, MeetingStatus.CANCELLED, COORDINATOR),
        transition("hold", _SCHEDULED, MeetingStatus.HELD, RUNNER),
        transition("attendance", _NOT_CANCELLED, (), RUNNER),
        transition("contribute", _NOT_CANCELLED, (), TAKING_PART),
        transition("plan_add", _NOT_CANCELLED, (), RUNNER),
        transition("decide", [MeetingStatus.HELD], (), RUNNER,
                   wrong_state=lambda: str(_("Record the meeting as held first."))),
    ),
)


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    CALL = "call", _("Call")


class CaseMeeting(models.Model):
    """One meeting, which may discuss several cases. `coordinator_agency` is the commune's or the
    district's lead agency whose supervisor scheduled it; the report counts it in that agency's province.

    Its typed reasons are sealed with its own data key (`data_key`, made when the first reason is
    written: conferences.keys.meeting_key_ensure), destroyed with the key of any case on its agenda."""

    # The meeting is the holder of the key that seals its reasons (encryption.fields.data_key_holder).
    data_key_via = ""

    coordinator_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("coordinating agency"))
    scheduled_for = models.DateTimeField(_("date and time"))
    mode = models.CharField(_("how"), max_length=10, choices=MeetingMode.choices, default=MeetingMode.IN_PERSON)
    # A meeting room or how to join the call; no personal data.
    place = models.CharField(_("place or call details"), max_length=200, blank=True)
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("chair"))
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices,
                              default=MeetingStatus.SCHEDULED)
    # The day it was held (set when the chair records it as held).
    held_on = models.DateField(_("held on"), null=True, blank=True)
    # Typed by the coordinator (the input allows 200 characters), sealed with the meeting's key.
    cancelled_reason = EncryptedTextField(_("reason for cancelling"), blank=True)
    # None until a reason is written; destroyed (wrapped_key "") when a case on the agenda is anonymised.
    data_key = models.ForeignKey(CaseKey, on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                 related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case meeting")
        verbose_name_plural = _("case meetings")
        ordering = ["-scheduled_for", "-id"]
        indexes = [models.Index(fields=["coordinator_agency", "-scheduled_for"], name="meeting_coordinator_date")]
        constraints = [
            models.CheckConstraint(condition=~Q(status="held") | Q(held_on__isnull=False),
                                   name="meeting_held_has_date"),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.scheduled_for:%Y-%m-%d} ({self.status})"


class MeetingInvitation(models.Model):
    """An agency invited to a meeting. Its supervisors and responders are told; `attended` is
    recorded at the meeting (None until then)."""

    meeting = models.ForeignKey(CaseMeeting, on_delete=models.CASCADE, related_name="invitations")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting invitation")
        verbose_name_plural = _("meeting invitations")
        constraints = [models.UniqueConstraint(fields=["meeting", "agency"], name="meeting_invitation_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.agency_id}"


class MeetingCase(models.Model):
    """A case on a meeting's agenda, with the reasons it was eligible (risk.selectors'
    EligibilityReason values, comma-separated) when it was added."""

    meeting = models.ForeignKey(CaseMeeting, on_delete=models.CASCADE, related_name="agenda")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meeting_entries")
    reasons = models.CharField(_("reasons"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case on the agenda")
        verbose_name_plural = _("cases on the agenda")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="meeting_case_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.case_id}"


class Contribution(models.Model):
    """What one invited agency brings to the meeting about one case, typed into one data category
    (general coordination, or a consent category such as medical), sealed with the case key and shown
    only to agencies that may see that category of the case."""

    data_key_via = "case"

    meeting_case = models.ForeignKey(MeetingCase, on_delete=models.CASCADE, related_name="contributions")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=20, choices=ACTION_CATEGORY_CHOICES, default=GENERAL)
    text = EncryptedTextField(_("contribution"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting_case_id}: {self.agency_id} ({self.category})"


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")


# The minutes machine (cases.transitions), on the meeting's latest version of its minutes: the services of
# conferences.services check it, and with the meeting machine it makes the meeting page's buttons and the
# API's allowed_actions (conferences.selectors.meeting_actions). A draft takes decisions (by whoever runs the
# meeting, once it is held: the meeting machine's "decide") and is signed by the chair; a signed version
# never changes, and is corrected by a new draft version (it keeps its state).
CHAIR = "chair"
MINUTES_MACHINE = StateMachine(
    field="status", states=tuple(MinutesStatus.values), error_key="minutes",
    transitions=(
        transition("decide", [MinutesStatus.DRAFT], (), RUNNER,
                   wrong_state=lambda: str(_("The minutes are signed: start a correction to change them."))),
        transition("sign", [MinutesStatus.DRAFT], MinutesStatus.SIGNED, CHAIR,
                   wrong_state=lambda: str(_("There is no draft to sign."))),
        transition("correct", [MinutesStatus.SIGNED], (), RUNNER,
                   wrong_state=lambda: str(_("Only signed minutes are corrected; change the draft instead."))),
    ),
)


class MeetingMinutes(models.Model):
    """One version of a meeting's minutes. Version 1 is written at the meeting; once the chair signs
    it nothing of it changes, and a correction is a new version (with the reason) signed again.
    The reason is sealed with the meeting's key (see CaseMeeting)."""

    data_key_via = "meeting"

    meeting = models.ForeignKey(CaseMeeting, on_delete=models.CASCADE, related_name="minutes")
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    # Typed by whoever runs the meeting (the input allows 300 characters), sealed with the meeting's key.
    correction_reason = EncryptedTextField(_("reason for the correction"), blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")
        ordering = ["meeting", "version"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "version"], name="minutes_version_once"),
            models.UniqueConstraint(fields=["meeting"], condition=Q(status="draft"), name="minutes_one_draft"),
            models.CheckConstraint(condition=Q(status="draft") | Q(signed_by__isnull=False, signed_at__isnull=False),
                                   name="minutes_signed_has_signer"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} v{self.version} ({self.status})"


class MinutesDecision(models.Model):
    """The decisions recorded about one case in one version of the minutes, sealed with the case key."""

    data_key_via = "case"

    minutes = models.ForeignKey(MeetingMinutes, on_delete=models.CASCADE, related_name="decisions")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    text = EncryptedTextField(_("decisions"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["minutes", "id"]
        constraints = [models.UniqueConstraint(fields=["minutes", "case"], name="minutes_decision_once")]

    def __str__(self) -> str:
        return f"{self.minutes_id}: {self.case_id}"


class PlanItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# The plan item machine (cases.transitions): conferences.services.plan_item_finish checks it, the plan
# item's page shows its buttons and the API lists its allowed_actions (conferences.selectors.plan_item_actions).
# The action is named after the status it leads to. Marking done: a member of the owner agency, or a
# supervisor of the coordinating agency; cancelling: that supervisor only.
OWNER, OWNER_OR_COORDINATOR = "owner", "owner_or_coordinator"
PLAN_ITEM_MACHINE = StateMachine(
    field="status", states=tuple(PlanItemStatus.values), error_key="status",
    wrong_state=lambda item: str(_("This plan item is already finished.")),
    transitions=(
        transition("done", [PlanItemStatus.OPEN], PlanItemStatus.DONE, OWNER_OR_COORDINATOR),
        transition("cancelled", [PlanItemStatus.OPEN], PlanItemStatus.CANCELLED, COORDINATOR),
    ),
)


# The case page's probe of its plan panel's rows (cases.selectors.case_page_probe_register, conferences.apps).
PLAN_PANEL = "plan_items"


class ActionPlanItem(models.Model):
    """One task of a case's action plan agreed at a meeting: what, which agency, which person, by
    when. Its Deadline (kind action_plan, subject "plan_item:<id>") reminds the owner and escalates to
    the owner agency's supervisors like a handoff's; done or cancelled closes it."""

    data_key_via = "case"

    meeting_case = models.ForeignKey(MeetingCase, on_delete=models.PROTECT, related_name="plan_items")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plan_items")
    action = EncryptedTextField(_("action"))
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("owner agency"))
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("owner"))
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=PlanItemStatus.choices,
                              default=PlanItemStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        verbose_name = _("action plan item")
        verbose_name_plural = _("action plan items")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["owner_agency", "due_at"], name="plan_item_agency_due_open",
                                condition=Q(status="open"))]
        constraints = [
            models.CheckConstraint(condition=Q(status="open") | Q(finished_at__isnull=False),
                                   name="plan_item_finished_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.status} by {self.due_at:%Y-%m-%d}"

    @property
    def done_on_time(self) -> bool:
        return self.status == PlanItemStatus.DONE and self.finished_at is not None and self.finished_at <= self.due_at
