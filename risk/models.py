"""Risk assessments as records (issue 17). The level, its band and score, the instrument version, who
assessed for which agency and when are coordination facts every agency on the case sees; the answers
and the reason for a professional judgement are psychosocial data (they tell of pregnancy, sexual
abuse, suicide threats), sealed with the case key and shown only where that category is shared."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from cases.models import Case, RiskLevel
from encryption.fields import EncryptedTextField

# The data category of an assessment's answers and judgement reason (README, "Risk that drives the response").
ASSESSMENT_CATEGORY = "psychosocial"
# The case page's probe of the risk panel's rows (cases.selectors.case_page_probe_register, risk.apps).
RISK_PANEL = "risk_assessments"


class AssessmentVariant(models.TextChoices):
    ADULT = "adult", _("Adult")
    CHILD = "child", _("Child (Decree 56 initial assessment)")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMPLETED = "completed", _("Completed")


class RiskAssessment(models.Model):
    """One assessment of one case with one instrument version. A draft is its assessor's own (saved
    part-way on a phone); a completed one never changes. `level` is the computed level or a higher
    one chosen by professional judgement with a written reason: never lower (a database check)."""

    data_key_via = "case"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risk_assessments")
    instrument_code = models.CharField(max_length=40)
    instrument_version = models.CharField(_("instrument version"), max_length=40)
    variant = models.CharField(_("form"), max_length=10, choices=AssessmentVariant.choices)
    status = models.CharField(max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    # {"item code": "yes" | "no" | "not_known"} as JSON, sealed: the answers are psychosocial data.
    answers = EncryptedTextField(blank=True)
    # The rules that made the computed level high ("threshold", "alone_high:<item>") as JSON, sealed
    # like the answers, which they reveal.
    reasons = EncryptedTextField(blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    not_known_count = models.PositiveSmallIntegerField(null=True, blank=True)
    # The level of the score's band, before the alone-high rules.
    band = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    computed_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    computed_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, blank=True)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    judgement_reason = EncryptedTextField(_("reason for raising the level"), blank=True)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        ordering = ["-completed_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-completed_at"], name="risk_assessment_latest",
                         condition=Q(status="completed")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(completed_at__isnull=False, score__isnull=False,
                                                computed_rank__isnull=False, level_rank__isnull=False),
                name="risk_assessment_completed_has_result",
            ),
            models.CheckConstraint(
                condition=Q(level_rank__isnull=True) | Q(level_rank__gte=F("computed_rank")),
                name="risk_assessment_judgement_only_raises",
            ),
            models.UniqueConstraint(fields=["case", "assessor"], condition=Q(status="draft"),
                                    name="risk_assessment_one_draft_per_assessor"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.level or self.status}"

    @property
    def raised(self) -> bool:
        return self.level_rank is not None and self.computed_rank is not None and self.level_rank > self.computed_rank
