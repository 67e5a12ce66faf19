from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Province


class ReportImmutableError(Exception):
    """A published report was about to be changed or deleted; a correction is a new version."""


class MonthlyReport(models.Model):
    """One published version of one month's aggregated report for one scope. It holds only the
    publishable (suppressed) tables, never a raw count; once written it never changes."""

    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Empty for the national report."),
    )
    period = models.DateField(_("month"), help_text=_("First day of the month reported on."))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    published_at = models.DateTimeField(_("published at"))
    data = models.JSONField(_("published tables"))
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64)
    code_version = models.CharField(_("code version"), max_length=64)
    reason = models.TextField(_("reason for the correction"), blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
    )

    class Meta:
        ordering = ["-period", "province__code", "-version"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            models.UniqueConstraint(fields=["province", "period", "version"], name="monthly_report_version_unique"),
            # NULLs are distinct in a unique constraint, so the national scope needs its own.
            models.UniqueConstraint(
                fields=["period", "version"], condition=Q(province__isnull=True),
                name="monthly_report_national_version_unique",
            ),
            models.CheckConstraint(
                condition=(Q(version=1) & Q(supersedes__isnull=True) & Q(reason=""))
                | (Q(version__gt=1) & Q(supersedes__isnull=False) & ~Q(reason="")),
                name="monthly_report_correction_has_reason",
            ),
            models.CheckConstraint(condition=~Q(supersedes=F("id")), name="monthly_report_not_own_correction"),
        ]
        indexes = [models.Index(fields=["province", "period"])]

    def __str__(self) -> str:
        scope = self.province.name if self.province_id else _("national")
        return f"{self.period:%Y-%m} {scope} v{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ReportImmutableError("A published monthly report cannot be changed; publish a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReportImmutableError("A published monthly report cannot be deleted.")

    @property
    def is_national(self) -> bool:
        return self.province_id is None


class HeldCorrection(models.Model):
    """A correction that was not published: beside an earlier version of the same report it would
    describe the people it changes (a published count moved by fewer than the threshold). It is
    tried again when the next regular month is published, and the person who asked is told."""

    province = models.ForeignKey(Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    period = models.DateField(_("month"))
    reason = models.TextField(_("reason for the correction"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    # Which published counts would have changed by a small number (published values only).
    problems = models.JSONField(_("why it was held"), default=list)
    published = models.ForeignKey(
        MonthlyReport, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("The version published when the correction was tried again and passed."),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("held correction")
        verbose_name_plural = _("held corrections")

    def __str__(self) -> str:
        scope = self.province.name if self.province_id else _("national")
        return f"{self.period:%Y-%m} {scope}: {self.reason[:40]}"
