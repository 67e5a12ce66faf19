"""Reads of published reports. Every page and endpoint gets its report through
`monthly_report_get_for_user`, so who may read which report is decided here only.

Access: analysts only (agencies.AnalystScope). A national analyst reads the national report and
every province's; a provincial analyst reads the reports of their province(s) only, not the
national one nor another province's. Nobody else reads a report, whatever their role in an agency.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet

from agencies.models import AnalystScope
from config.exceptions import NotFound

from .models import MonthlyReport
from .periods import month_add


@dataclass(frozen=True)
class ReportReader:
    national: bool
    province_ids: frozenset[int]

    def q(self) -> Q:
        return Q() if self.national else Q(province_id__in=self.province_ids)


def report_reader_for_user(*, user: User) -> ReportReader | None:
    """What the user may read, or None when they are not an analyst."""
    if not getattr(user, "is_authenticated", False):
        return None
    provinces = list(AnalystScope.objects.filter(user=user).values_list("province_id", flat=True))
    if not provinces:
        return None
    return ReportReader(national=None in provinces, province_ids=frozenset(p for p in provinces if p is not None))


def _reader_or_refuse(user: User) -> ReportReader:
    reader = report_reader_for_user(user=user)
    if reader is None:
        raise PermissionDenied
    return reader


def monthly_report_list_visible_to(*, user: User, latest_only: bool = True) -> QuerySet[MonthlyReport]:
    """The reports the user may read, newest month first, national before the provinces. Raises
    PermissionDenied for anyone who is not an analyst."""
    reader = _reader_or_refuse(user)
    queryset = (
        MonthlyReport.objects.filter(reader.q()).select_related("province").defer("data")
        .annotate(is_latest=~Exists(MonthlyReport.objects.filter(supersedes=OuterRef("pk"))))
    )
    if latest_only:
        queryset = queryset.filter(superseded_by__isnull=True)
    return queryset.order_by("-period", "province__code", "-version")


def monthly_report_get_for_user(*, user: User, report_id: int) -> MonthlyReport:
    """The report, if the user may read it: PermissionDenied for non-analysts, 404 for a report
    outside the analyst's scope (its existence is not confirmed either)."""
    reader = _reader_or_refuse(user)
    report = MonthlyReport.objects.filter(reader.q(), pk=report_id).select_related("province").first()
    if report is None:
        raise NotFound
    return report


def _scope_q(province_id: int | None) -> Q:
    return Q(province__isnull=True) if province_id is None else Q(province_id=province_id)


def monthly_report_latest(*, period: datetime.date, scope: str | None) -> MonthlyReport | None:
    """The newest version of one scope's report (scope None: national; else a province code)."""
    q = Q(province__isnull=True) if scope is None else Q(province__code=scope)
    return MonthlyReport.objects.filter(q, period=period).order_by("-version").first()


def monthly_report_versions(*, report: MonthlyReport) -> list[MonthlyReport]:
    return list(
        MonthlyReport.objects.filter(_scope_q(report.province_id), period=report.period)
        .defer("data").order_by("version")
    )


def monthly_report_trend(*, report: MonthlyReport, months: int = 12) -> list[MonthlyReport]:
    """The scope's reports of the `months` months up to the report's own, each in the newest version
    published no later than this one, so that a report's trend chart never changes afterwards."""
    first = month_add(report.period, -(months - 1))
    rows = MonthlyReport.objects.filter(
        _scope_q(report.province_id), period__gte=first, period__lte=report.period,
        published_at__lte=report.published_at,
    ).order_by("period", "version")
    by_period: dict[datetime.date, MonthlyReport] = {}
    for row in rows:
        by_period[row.period] = row
    by_period[report.period] = report
    return [by_period[p] for p in sorted(by_period)]


def report_recipients(*, report: MonthlyReport) -> QuerySet:
    """Analysts to tell about a published report: those whose scope is exactly the report's
    (national analysts are not told about each of the 34 province reports)."""
    return get_user_model().objects.filter(
        is_active=True, analyst_scopes__in=AnalystScope.objects.filter(_scope_q(report.province_id))
    ).distinct().order_by("pk")
