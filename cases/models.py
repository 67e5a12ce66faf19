import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from agencies.models import Agency, Commune, Province, Sector
from encryption import crypto
from encryption.fields import EncryptedTextField
from permissions.categories import ACTION_CATEGORY_CHOICES, CASE_CUSTOM_PERMISSIONS, GENERAL, CaseRight

from .transitions import StateMachine, transition

CHILD_AGE = 16  # Law on Children 102/2016/QH13: a child is a person under 16.
MINOR_AGE = 18  # GBVIMS and the UN treaties count everyone under 18.
CHILD_CONSENT_AGE = 7  # From 7 a child's own consent is needed, together with a parent or guardian.


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Disability(models.TextChoices):
    NONE = "none", _("No disability")
    YES = "yes", _("Has a disability")
    UNKNOWN = "unknown", _("Unknown")


class CaseKey(models.Model):
    """The data key of one case (envelope encryption): a Fernet key, stored wrapped by the key ring
    (FIELD_ENCRYPTION_KEYS), that seals every free-text and identity field of the case. Erasure
    (cases.erasure) blanks `wrapped_key`: every copy of the case's text then has no key. A case meeting
    keeps the reasons typed about it under a key of this table too (conferences.keys), destroyed with the
    key of any case on its agenda."""

    kid = models.CharField(max_length=crypto.KID_LENGTH, unique=True, editable=False)
    # The unwrapped key in Python, a token under the key ring in the database.
    wrapped_key = EncryptedTextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    destroyed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("case data key")
        verbose_name_plural = _("case data keys")
        constraints = [
            models.CheckConstraint(condition=Q(destroyed_at__isnull=True) | Q(wrapped_key=""),
                                   name="case_key_destroyed_is_empty"),
        ]

    def __str__(self) -> str:
        return f"key {self.kid[:8]}" + (" (destroyed)" if self.destroyed_at else "")

    @classmethod
    def create_new(cls) -> "CaseKey":
        kid, raw = crypto.data_key_new()
        return cls.objects.create(kid=kid, wrapped_key=raw)


class Survivor(models.Model):
    """The person at the centre of a case, pseudonymous by default. Identity and contact fields are
    encrypted at rest with the case's data key and shown only to holders of the identity / contact
    category."""

    data_key_via = ""  # the survivor holds the data key (fields.data_key_holder)
    # Keyed digests of the sealed identity, blanked with it when the case is anonymised (cases.erasure).
    sealed_text_keys = ("phone_hash",)

    data_key = models.ForeignKey(CaseKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 editable=False)
    pseudonym = models.CharField(_("pseudonym"), max_length=20, unique=True)
    # identity category
    full_name = EncryptedTextField(_("full name"), blank=True)
    # contact category
    phone = EncryptedTextField(_("phone"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    guardian_name = EncryptedTextField(_("parent or guardian"), blank=True)
    guardian_phone = EncryptedTextField(_("parent or guardian phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # general: needed for protection rules and statistics, shown to everyone on the case
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_year_estimated = models.BooleanField(_("birth year estimated from age"), default=False)
    disability = models.CharField(
        _("disability"), max_length=10, choices=Disability.choices, default=Disability.UNKNOWN
    )
    # Typed, and sensitive personal data (Decree 356/2025): sealed like the identity.
    ethnicity = EncryptedTextField(_("ethnicity"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survivor")
        verbose_name_plural = _("survivors")

    def __str__(self) -> str:
        return self.pseudonym

    def save(self, *args, **kwargs):
        if self.data_key_id is None:
            self.data_key = CaseKey.create_new()
        super().save(*args, **kwargs)

    def age_on(self, day: datetime.date) -> int | None:
        """The youngest age the survivor can have on `day` given only the birth year. Erring young
        means a possible child is treated as a child."""
        if self.birth_year is None:
            return None
        return max(0, day.year - self.birth_year - 1)

    def is_child_on(self, day: datetime.date) -> bool | None:
        age = self.age_on(day)
        return None if age is None else age < CHILD_AGE

    def is_minor_on(self, day: datetime.date) -> bool | None:
        age = self.age_on(day)
        return None if age is None else age < MINOR_AGE

    @property
    def is_child(self) -> bool | None:
        return self.is_child_on(timezone.localdate())

    @property
    def is_minor(self) -> bool | None:
        return self.is_minor_on(timezone.localdate())


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# The case status machine (cases.transitions): case_change_status checks it, the case page offers
# its next statuses and the API lists the same ones, both by the viewer's rights.
CASE_STATUS_MACHINE = StateMachine(field="status", states=tuple(CaseStatus.values), transitions=(
    transition("activate", [CaseStatus.OPEN, CaseStatus.REOPENED], CaseStatus.ACTIVE, CaseRight.CHANGE),
    transition("close", [CaseStatus.OPEN, CaseStatus.ACTIVE, CaseStatus.REOPENED], CaseStatus.CLOSED,
               CaseRight.CLOSE),
    transition("reopen", [CaseStatus.CLOSED], CaseStatus.REOPENED, CaseRight.CLOSE),
))
# status -> the statuses one step away; derived from the machine.
CASE_TRANSITIONS: dict[str, frozenset[str]] = CASE_STATUS_MACHINE.next_states()


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    SEVERE = "severe", _("Severe: danger to life")


class CaseNumberSequence(models.Model):
    """Last case number issued per province and year; rows are locked while a number is drawn."""

    province = models.ForeignKey(Province, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["province", "year"], name="case_number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.province_id}/{self.year}: {self.last}"


class Case(models.Model):
    data_key_via = ""

    number = models.CharField(_("case number"), max_length=20, unique=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="cases")
    survivor = models.OneToOneField(Survivor, on_delete=models.PROTECT, related_name="case")
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="led_cases")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="responsible_cases", null=True, blank=True
    )
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    # Counted in the anonymous monthly statistics only with the survivor's agreement.
    statistics_consent = models.BooleanField(_("agrees to anonymous statistics"), default=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The same key as the survivor's (set on save), so that case rows reach it without a join.
    data_key = models.ForeignKey(CaseKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 editable=False)
    # Set by cases.erasure.anonymise_case: identity and text shredded, structured facts kept.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    # Why the case was last closed: case free text, encrypted like the other case text.
    close_reason = EncryptedTextField(_("reason for closing"), blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        default_permissions = ("view", "change")
        permissions = CASE_CUSTOM_PERMISSIONS
        indexes = [
            models.Index(fields=["lead_agency", "status"]),
            # An agency's cases not closed, by id: the supervisor's review queue looks up the levels of each
            # (supervision.queue.queue_risk_lowered) off this index alone, not off the table's rows, which at
            # a million cases is a page read for nearly each case of a busy agency (issue 15).
            models.Index(fields=["lead_agency", "id"], name="case_open_by_lead", condition=~Q(status="closed")),
            # The monthly reports count cases opened and closed in a month (reports/README.md,
            # benchmark): 40 ms → 5 ms per query over 200,000 cases.
            models.Index(fields=["created_at"], name="case_created_at"),
            models.Index(fields=["closed_at"], name="case_closed_at", condition=Q(closed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.data_key_id is None and self.survivor_id is not None:
            survivor = self.survivor
            if "data_key" in survivor._state.fields_cache:
                self.data_key = survivor.data_key  # the same row: sealing the case's rows needs no query
            else:
                self.data_key_id = survivor.data_key_id
        super().save(*args, **kwargs)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class CaseGrant(models.Model):
    """What a case's object-permission row (group or user) adds to guardian's: why and when the right
    was granted, and over which interval it counts."""

    # The policy rule that granted it (lead agency, a handoff, a consent, break-glass).
    reason = models.CharField(max_length=100, blank=True)
    granted_at = models.DateTimeField(default=timezone.now)
    # The row counts over [valid_from, valid_until); NULL: no start (already in force) or no end.
    # A right may hold several disjoint intervals, hence valid_from in each table's unique key.
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class CaseGroupObjectPermission(GroupObjectPermissionBase, CaseGrant):  # noqa: DJ008 (guardian's __str__)
    """A right on one case held by one agency-role group. `reason` says which policy rule granted
    it (lead agency, a handoff, a consent); rows are derived by permissions.policy and nothing else."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="group_permissions")

    class Meta(GroupObjectPermissionBase.Meta):
        unique_together = [("group", "permission", "content_object", "valid_from")]
        indexes = [models.Index(fields=["content_object", "group"])]


class CaseUserObjectPermission(UserObjectPermissionBase, CaseGrant):  # noqa: DJ008 (guardian's __str__)
    """A right of one user on one case: only break-glass access, always time-limited, derived from
    the BreakGlassUse rows by cases.sharing like the group rows."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="user_permissions")

    class Meta(UserObjectPermissionBase.Meta):
        unique_together = [("user", "permission", "content_object", "valid_from")]
        indexes = [models.Index(fields=["content_object", "user"])]


class CaseAccessRow(models.Model):
    """What one holder (an agency, or a user by break-glass) may do on one case over
    [valid_from, valid_until): rights and data categories as bits (permissions.access). Derived
    from the same grants as the object-permission rows, in the same transaction
    (cases.sharing.case_permissions_sync), and what reads use: one row per holder and case in force
    at any instant, the case's sort key copied in (kept by a database trigger on cases_case), so
    that "my agency's cases, newest first" is one index scan with LIMIT."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_rows", db_index=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                               db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", db_index=False)
    rights = models.PositiveSmallIntegerField(default=0)
    categories = models.PositiveSmallIntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # Case.updated_at, copied by the trigger of migration 0013 whenever the case changes.
    case_updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case access row")
        verbose_name_plural = _("case access rows")
        constraints = [
            models.CheckConstraint(condition=Q(agency__isnull=True) ^ Q(user__isnull=True),
                                   name="case_access_one_holder"),
        ]
        indexes = [
            models.Index(fields=["case"], name="case_access_case"),
            # The case list: an agency's cases newest first, read in index order and stopped at LIMIT.
            # The rest of what the list and its count test is included: the count reads the index alone.
            models.Index(fields=["agency", "-case_updated_at", "-case"], name="case_access_agency_sort",
                         include=["rights", "valid_from", "valid_until"], condition=Q(agency__isnull=False)),
            models.Index(fields=["user", "-case_updated_at", "-case"], name="case_access_user_sort",
                         include=["rights", "valid_from", "valid_until"], condition=Q(user__isnull=False)),
        ]

    def __str__(self) -> str:
        holder = f"agency {self.agency_id}" if self.agency_id else f"user {self.user_id}"
        return f"{holder} on case {self.case_id}: {self.rights:#x}/{self.categories:#x}"


class GbvType(models.TextChoices):
    """GBVIMS core types, in the order of the classification: the first 'yes' wins."""

    RAPE = "rape", _("Rape")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")
    PHYSICAL_ASSAULT = "physical_assault", _("Physical assault")
    FORCED_MARRIAGE = "forced_marriage", _("Forced marriage")
    DENIAL_OF_RESOURCES = "denial_of_resources", _("Denial of resources, opportunities or services")
    PSYCHOLOGICAL_ABUSE = "psychological_abuse", _("Psychological / emotional abuse")
    NON_GBV = "non_gbv", _("Non-GBV")


class TechForm(models.TextChoices):
    """Technology-facilitated forms: a multi-select beside the GBVIMS type, never a seventh type."""

    NCII = "ncii", _("Non-consensual intimate images")
    SEXTORTION = "sextortion", _("Sextortion")
    GROOMING = "grooming", _("Online grooming")
    CSEM = "csem", _("Online child sexual exploitation material")
    CYBERSTALKING = "cyberstalking", _("Cyberstalking and monitoring (stalkerware)")
    DOXXING = "doxxing", _("Doxxing")
    HARASSMENT = "harassment", _("Online harassment and threats")
    IMPERSONATION = "impersonation", _("Impersonation and fake accounts")
    DEEPFAKE = "deepfake", _("Deepfake sexual imagery")
    TRAFFICKING_LURE = "trafficking_lure", _("Online trafficking / abduction lures")


class PerpetratorRelationship(models.TextChoices):
    INTIMATE_PARTNER = "intimate_partner", _("Intimate partner or spouse")
    FORMER_PARTNER = "former_partner", _("Former partner")
    FAMILY = "family", _("Family member")
    CAREGIVER = "caregiver", _("Caregiver or guardian")
    TEACHER = "teacher", _("Teacher or school staff")
    ACQUAINTANCE = "acquaintance", _("Friend or acquaintance")
    ONLINE_CONTACT = "online_contact", _("Known only online")
    STRANGER = "stranger", _("Stranger")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class ReportingDelay(models.TextChoices):
    DAYS_0_3 = "0-3", _("0–3 days")
    DAYS_4_5 = "4-5", _("4–5 days")
    DAYS_6_14 = "6-14", _("6–14 days")
    DAYS_15_30 = "15-30", _("15–30 days")
    OVER_30 = "30+", _("Over 30 days")
    UNKNOWN = "unknown", _("Unknown")


class Incident(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="incidents")
    occurred_on = models.DateField(_("date of incident"), null=True, blank=True)
    reported_on = models.DateField(_("date reported"), default=timezone.localdate)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="incidents")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents")
    gbv_type = models.CharField(_("GBVIMS type"), max_length=25, choices=GbvType.choices)
    # The classification answers kept for review; the type is derived from them by the service.
    classification_answers = models.JSONField(default=dict, blank=True)
    perpetrator_relationship = models.CharField(
        _("perpetrator relationship"), max_length=20, choices=PerpetratorRelationship.choices,
        default=PerpetratorRelationship.UNKNOWN,
    )
    reporting_delay = models.CharField(
        _("reporting delay"), max_length=10, choices=ReportingDelay.choices, default=ReportingDelay.UNKNOWN
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_on", "id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["reported_on", "province"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_on__isnull=True) | Q(occurred_on__lte=models.F("reported_on")),
                name="incident_not_reported_before_it_happened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.gbv_type}"


class IncidentTechForm(models.Model):
    """One row per technology-facilitated form of an incident, so that reports can count them in SQL."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tech_form_rows")
    form = models.CharField(max_length=20, choices=TechForm.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "form"], name="incident_tech_form_unique")]

    def __str__(self) -> str:
        return self.form


class ActionType(models.TextChoices):
    CONTACT = "contact", _("Contact")
    MEDICAL_CARE = "medical_care", _("Medical care")
    FORENSIC_EXAM = "forensic_exam", _("Forensic examination")
    STATEMENT_TAKEN = "statement_taken", _("Statement taken")
    PROTECTION_ORDER = "protection_order", _("Protection order requested")
    SHELTER_PLACEMENT = "shelter_placement", _("Shelter placement")
    COUNSELLING = "counselling", _("Counselling")
    SCHOOL_SAFETY_PLAN = "school_safety_plan", _("School safety plan")
    TAKEDOWN_REQUESTED = "takedown_requested", _("Content takedown requested")
    REFERRAL = "referral", _("Referral")
    FOLLOW_UP = "follow_up", _("Follow-up")
    NOTE = "note", _("Note")


class Action(models.Model):
    """Something a responder did. Its category decides who may read its text."""

    data_key_via = "case"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    type = models.CharField(_("type"), max_length=25, choices=ActionType.choices)
    category = models.CharField(_("data category"), max_length=20, choices=ACTION_CATEGORY_CHOICES, default=GENERAL)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    text = EncryptedTextField(_("details"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["case", "occurred_at"]),
            # The monthly reports count a month's actions across all cases: about a quarter faster.
            models.Index(fields=["occurred_at"], name="action_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.type}"


class ConsentGiver(models.TextChoices):
    SURVIVOR = "survivor", _("The survivor")
    SURVIVOR_AND_GUARDIAN = "survivor_and_guardian", _("The child together with a parent or guardian")
    GUARDIAN = "guardian", _("A parent or guardian (child under 7)")


class ConsentQuerySet(models.QuerySet):
    def in_force(self, at: datetime.datetime | None = None) -> "ConsentQuerySet":
        """Consents in force at `at` (now): not withdrawn, not expired. The one statement of it for
        queries; Consent.is_in_force says the same of one row."""
        return self.filter(Consent.in_force_q(at))

    def covering(self, agency: Agency) -> "ConsentQuerySet":
        """Consents that apply to the agency: given to it by name, or to its sector."""
        return self.filter(Q(receiving_agency=agency) | Q(receiving_sector=agency.sector))


class Consent(models.Model):
    """The survivor's decision about sharing with one receiving agency, or with every agency of a
    sector, per data category. Refused categories are refused on every path, overrides included."""

    data_key_via = "case"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    receiving_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    receiving_sector = models.CharField(_("receiving sector"), max_length=20, choices=Sector.choices, blank=True)
    granted_categories = models.JSONField(_("categories shared"), default=list, blank=True)
    refused_categories = models.JSONField(_("categories refused"), default=list, blank=True)
    purpose = EncryptedTextField(_("purpose"))
    given_by = models.CharField(_("given by"), max_length=25, choices=ConsentGiver.choices)
    guardian_relationship = EncryptedTextField(_("guardian's relationship"), blank=True)
    emergency_override = models.BooleanField(_("emergency override (danger to life)"), default=False)
    override_reason = EncryptedTextField(_("reason for the override"), blank=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = EncryptedTextField(_("withdrawal reason"), blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=(Q(receiving_agency__isnull=False) & Q(receiving_sector=""))
                | (Q(receiving_agency__isnull=True) & ~Q(receiving_sector="")),
                name="consent_one_recipient_kind",
            ),
            models.CheckConstraint(
                condition=Q(emergency_override=False) | ~Q(override_reason=""),
                name="consent_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.receiving_agency_id or self.receiving_sector}"

    @staticmethod
    def in_force_q(at: datetime.datetime | None = None) -> Q:
        at = at or timezone.now()
        return Q(withdrawn_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))

    def is_in_force(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.withdrawn_at is None and (self.expires_at is None or self.expires_at > at)


class CaseEventType(models.TextChoices):
    OPENED = "opened", _("Case opened")
    UPDATED = "updated", _("Case updated")
    STATUS_CHANGED = "status_changed", _("Status changed")
    INCIDENT_RECORDED = "incident_recorded", _("Incident recorded")
    ACTION_LOGGED = "action_logged", _("Action logged")
    CONSENT_RECORDED = "consent_recorded", _("Consent recorded")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    HANDOFF_SENT = "handoff_sent", _("Handoff sent")
    HANDOFF_ACCEPTED = "handoff_accepted", _("Handoff accepted")
    HANDOFF_DECLINED = "handoff_declined", _("Handoff declined")
    HANDOFF_WITHDRAWN = "handoff_withdrawn", _("Handoff withdrawn")
    HANDOFF_COMPLETED = "handoff_completed", _("Handoff completed")
    LEAD_TRANSFERRED = "lead_transferred", _("Lead agency changed")
    SURVIVOR_UPDATED = "survivor_updated", _("Survivor's details updated")
    TAKEDOWN_OUTCOME = "takedown_outcome", _("Takedown outcome recorded")
    DEADLINE_STARTED = "deadline_started", _("Deadline started")
    DEADLINE_CLOSED = "deadline_closed", _("Deadline closed")
    DEADLINE_OVERDUE = "deadline_overdue", _("Deadline passed")
    DEADLINE_ESCALATED = "deadline_escalated", _("Overdue deadline escalated")
    RISK_ASSESSED = "risk_assessed", _("Risk assessed")
    RISK_REVIEW_DUE = "risk_review_due", _("Risk review due")
    MEETING_CASE_ADDED = "meeting_case_added", _("Put on a case meeting's agenda")
    MEETING_HELD = "meeting_held", _("Case meeting held")
    MINUTES_SIGNED = "minutes_signed", _("Case meeting minutes signed")


class CaseEvent(models.Model):
    """One line of the readable case timeline. Raw who-read-what lives in the audit trail; this is
    what happened to the case, each line tagged with the category a viewer needs to see it. Rows are
    written only by the writers of cases.events (one per type, typed arguments, no typed text in
    `data`) and read by the renderers of cases.timeline, keyed by the same type."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=CaseEventType.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    category = models.CharField(max_length=20, choices=ACTION_CATEGORY_CHOICES, default=GENERAL)
    action = models.ForeignKey(Action, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.type}"


class IntakeDraft(models.Model):
    """A case being opened step by step (cases.intake): what was typed so far, saved on the server
    at each step so that a timeout or a dropped connection loses nothing. It belongs to one person
    acting for one agency and nobody else ever reads it; it is encrypted like the survivor's fields
    (it holds her name and phone) and ends by itself INTAKE_DRAFT_HOURS after it was last saved."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    # JSON of the answers (field name -> list of posted values), as a Fernet token.
    data = EncryptedTextField(default="")
    step = models.CharField(max_length=20, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "agency", "expires_at"], name="intake_draft_owner_idx")]

    def __str__(self) -> str:
        return f"intake draft {self.pk}"


class FormSending(models.Model):
    """The token of one rendered form that writes on a case (open it, log an action, record or withdraw
    consent, a takedown request, a deadline, closing, ...) and where its first sending led, so that the form writes
    once however often it is sent: a double tap, or the form sent again after the connection dropped
    (cases.sending.sent_once); on the API, a POST that creates a record, once per Idempotency-Key.
    `location` is empty while the first sending runs. A token is kept a day (cases.tasks). It holds no personal data:
    a path such as /cases/12/, or on the API the record created ("cases.action:81")."""

    token = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=200, blank=True, default="")
    # A keyed hash of what the first sending asked (its path and what it sent), so that the token sent again
    # with something else is refused (cases.sending.sending_fingerprint).
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("form sending")
        verbose_name_plural = _("form sendings")

    def __str__(self) -> str:
        return f"{self.token} -> {self.location or '…'}"
