"""Writes of the reports app: publishing monthly reports and their corrections. Reports only read
the domain (cases, agencies); the one table they write is their own, and they tell analysts
through notifications.notify()."""

import datetime
import functools
import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Province
from audit.services import audit_checkpoint_write_safely
from cases.identifiers import text_names_a_case_or_phone
from config.db_router import replica_reads
from notifications.models import NotificationKind
from notifications.services import notify

from .indicators import NATIONAL, consent_as_of
from .models import HeldCorrection, MonthlyReport
from .periods import last_complete_month, local_today, month_add, month_check_complete, month_start
from .protection import published_entries, version_difference_problems
from .publication import month_publishable
from .selectors import monthly_report_latest, report_recipients

logger = logging.getLogger(__name__)


class ReportScopeError(ValueError):
    """A scope that has no report for the month (unknown province, or one not in force then)."""


class CorrectionHeld(Exception):
    """The correction was not published (see HeldCorrection); `held` says why."""

    def __init__(self, held: HeldCorrection):
        super().__init__(_("The correction was held: beside the published version it would describe the people "
                           "it changes (%(problems)s). It will be tried again with next month's report.")
                         % {"problems": "; ".join(held.problems[:5])})
        self.held = held


def _published_before(period: datetime.date) -> list[MonthlyReport]:
    """Every report of the month already published, every scope and version: what a reader holds."""
    return list(MonthlyReport.objects.filter(period=period).select_related("province").order_by("published_at", "pk"))


@functools.cache
def code_version() -> str:
    """The commit the report was built with: $GIT_COMMIT (set by the deployment), else the working
    copy's HEAD, else the application version."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"][:64]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=5,  # noqa: S607
            check=True,
        )
        return result.stdout.strip()[:64]
    except (OSError, subprocess.SubprocessError):
        return f"hopluc-{settings.SPECTACULAR_SETTINGS['VERSION']}"


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: dict) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


@dataclass
class BuildOutcome:
    period: datetime.date
    created: list[MonthlyReport] = field(default_factory=list)
    existing: list[MonthlyReport] = field(default_factory=list)


def _province_ids(codes: Iterable[str]) -> dict[str, int]:
    return dict(Province.objects.filter(code__in=list(codes)).values_list("code", "id"))


def _check_scopes(scopes: Iterable[str | None], available: Iterable[str | None], period: datetime.date) -> None:
    missing = [s for s in scopes if s not in set(available)]
    if missing:
        raise ReportScopeError(_("No province with code %(codes)s is in force in %(month)s or has data then") % {
            "codes": ", ".join(sorted(missing)), "month": f"{period:%Y-%m}",
        })


def _after_publication(reports: list[MonthlyReport]) -> None:
    # A published report is a moment worth fixing in the audit trail: anchor the head now.
    audit_checkpoint_write_safely(why="report")
    for report in reports:
        report_published_notify(report=report)
    if settings.DHIS2_URL and settings.DHIS2_PUSH_ON_PUBLISH:
        from .tasks import push_monthly_report_to_dhis2

        for report in reports:
            push_monthly_report_to_dhis2.delay(report.pk)


def monthly_reports_build(
    *, period: datetime.date, scopes: Iterable[str | None] | None = None, today: datetime.date | None = None,
) -> BuildOutcome:
    """Publish version 1 of the month's report for each scope (None: national; a province code) that
    does not have one yet. All scopes are suppressed together even when only some are published,
    so that a report built later agrees with the ones built before. Running it again publishes
    nothing new."""
    period = month_start(period)
    month_check_complete(period, today=today or local_today())
    earlier = _published_before(period)
    first = min((r.published_at for r in earlier), default=None)
    # A scope built after others of the month: counted with consent as it stood then, and checked
    # together with what they published.
    # The counting reads the read replica when one is configured (config/db_router.py); what was
    # published before, consent and everything in the transaction below read the primary.
    consent = consent_as_of(first)
    with replica_reads():
        month, publishable = month_publishable(period, earlier=[r.data for r in earlier], consent=consent)
    wanted = list(publishable) if scopes is None else list(dict.fromkeys(scopes))
    _check_scopes(wanted, publishable, period)
    outcome = BuildOutcome(period=period)
    province_ids = _province_ids(s for s in wanted if s is not NATIONAL)
    published_at = timezone.now()
    version_of_code = code_version()
    try:
        with transaction.atomic():
            existing = {
                (r.province.code if r.province_id else NATIONAL): r
                for r in MonthlyReport.objects.filter(period=period, version=1).select_related("province")
            }
            for scope in wanted:
                if scope in existing:
                    outcome.existing.append(existing[scope])
                    continue
                data = publishable[scope]
                outcome.created.append(MonthlyReport.objects.create(
                    province_id=province_ids.get(scope), period=period, version=1, published_at=published_at,
                    data=data, content_hash=content_hash(data), code_version=version_of_code,
                ))
            created = list(outcome.created)
            # robust: the reports are published whatever happens to the notices about them.
            transaction.on_commit(lambda: _after_publication(created), robust=True)
    except IntegrityError:
        # Another run published the same month at the same moment; its reports stand.
        logger.info("Monthly reports of %s were published concurrently by another run", f"{period:%Y-%m}")
        outcome = BuildOutcome(period=period, existing=list(
            MonthlyReport.objects.filter(period=period, version=1).select_related("province")
        ))
    logger.info(
        "Monthly reports %s: %d published, %d already there", f"{period:%Y-%m}", len(outcome.created),
        len(outcome.existing),
    )
    return outcome


def monthly_report_correct(
    *, period: datetime.date, scope: str | None, reason: str, today: datetime.date | None = None,
    requested_by=None, held: HeldCorrection | None = None,
) -> MonthlyReport | None:
    """Publish a new version of one scope's report from today's data, with the reason for it.
    Returns None when the data has not changed (no new version is needed). Earlier versions stay.

    The policy (README, "Corrections"): statistics consent counts as it stood when the month was
    first published (a withdrawal takes effect from the next month's report); counts hidden by any
    earlier version stay hidden; and the new version is published only when no count it shows as
    a number changed by 1 … t−1 from a version already published. Otherwise it is held
    (HeldCorrection, tried again with the next regular month), the person who asked is told, and
    CorrectionHeld is raised."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError(_("A correction needs a reason"))
    if text_names_a_case_or_phone(reason):
        raise ValueError(_("A correction's reason is published with the report for good: it must not hold a case "
                           "number or a phone number"))
    period = month_start(period)
    month_check_complete(period, today=today or local_today())
    latest = monthly_report_latest(period=period, scope=scope)
    if latest is None:
        raise ReportScopeError(
            _("There is no published report of %(month)s for this scope to correct") % {"month": f"{period:%Y-%m}"}
        )
    earlier = _published_before(period)
    first = min(r.published_at for r in earlier)
    _month, publishable = month_publishable(period, earlier=[r.data for r in earlier], consent=consent_as_of(first))
    _check_scopes([scope], publishable, period)
    data = publishable[scope]
    digest = content_hash(data)
    if digest == latest.content_hash or _hides_more_only(data, latest.data):
        return None
    versions = [r for r in earlier if r.province_id == latest.province_id]
    problems = version_difference_problems(data, [r.data for r in versions])
    if problems:
        with transaction.atomic():
            if held is None:
                held = HeldCorrection.objects.create(
                    province_id=latest.province_id, period=period, reason=reason, requested_by=requested_by,
                    requested_at=timezone.now(), problems=problems,
                )
            if held.requested_by_id is not None:
                params = {"period": f"{period:%Y-%m}"}
                if latest.province_id is not None:
                    params["province_code"] = latest.province.code
                notify(
                    recipients=[held.requested_by_id], kind=NotificationKind.REPORT_CORRECTION_HELD,
                    link=reverse("reports:detail", args=[latest.pk]), params=params,
                    event_key=f"correction-held:{held.pk}:{local_today():%Y-%m}",
                )
        logger.info("Correction of %s held: %d count(s) would change by a small number", latest, len(problems))
        raise CorrectionHeld(held)
    with transaction.atomic():
        report = MonthlyReport.objects.create(
            province_id=latest.province_id, period=period, version=latest.version + 1, published_at=timezone.now(),
            data=data, content_hash=digest, code_version=code_version(), reason=reason, supersedes=latest,
        )
        if held is not None:
            HeldCorrection.objects.filter(pk=held.pk).update(published=report, resolved_at=report.published_at)
        transaction.on_commit(lambda: _after_publication([report]), robust=True)
    return report


def _hides_more_only(new: dict, old: dict) -> bool:
    """Whether `new` publishes nothing `old` did not: same counts, some of them hidden now (the
    joint check may draw a wider pattern once earlier versions are part of what it checks). Such
    a version would correct nothing."""
    before = {key: value for key, value, _t in published_entries(old)}
    after = {key: value for key, value, _t in published_entries(new)}
    if set(before) != set(after) or len(new.get("statistics", [])) != len(old.get("statistics", [])):
        return False
    return all(after[k] == v or (isinstance(v, int) and not isinstance(after[k], int)) for k, v in before.items())


def held_corrections_retry(*, today: datetime.date | None = None) -> list[MonthlyReport]:
    """Try every held correction again (the schedule does it after each regular month)."""
    published = []
    for held in HeldCorrection.objects.filter(resolved_at__isnull=True).select_related("province"):
        scope = held.province.code if held.province_id else NATIONAL
        try:
            report = monthly_report_correct(
                period=held.period, scope=scope, reason=held.reason, today=today, requested_by=held.requested_by,
                held=held,
            )
        except CorrectionHeld:
            continue
        if report is None:  # the data went back to what was published: nothing left to correct
            HeldCorrection.objects.filter(pk=held.pk).update(resolved_at=timezone.now())
        else:
            published.append(report)
    return published


def monthly_reports_due(*, today: datetime.date) -> list[datetime.date]:
    """Months whose reports the schedule should build: every month after the last one built, up to
    last month, at most REPORT_CATCH_UP_MONTHS of them (the most recent)."""
    last = last_complete_month(today)
    latest_built = MonthlyReport.objects.filter(province__isnull=True, version=1).aggregate(p=Max("period"))["p"]
    start = last if latest_built is None else month_add(latest_built, 1)
    start = max(start, month_add(last, -(max(settings.REPORT_CATCH_UP_MONTHS, 1) - 1)))
    months = []
    while start <= last:
        months.append(start)
        start = month_add(start, 1)
    return months


def monthly_reports_build_due(*, today: datetime.date | None = None) -> list[BuildOutcome]:
    """The scheduled run: last month's reports for every scope, and any months missed before it.
    Each month commits on its own, so a run cut short keeps what it finished."""
    today = today or local_today()
    outcomes = [monthly_reports_build(period=period, today=today) for period in monthly_reports_due(today=today)]
    if any(outcome.created for outcome in outcomes):
        held_corrections_retry(today=today)
    return outcomes


def report_published_notify(*, report: MonthlyReport) -> list:
    """Tell the analysts of the report's scope that it is published, in the app and by email: the
    month, the scope and a link, never a figure. The event key is the report's id, so building
    the month again (which publishes nothing new) never tells anyone twice; a correction is a new
    report and is announced as such."""
    recipients = list(report_recipients(report=report))
    params = {"period": f"{report.period:%Y-%m}"}
    if report.province_id is not None:
        params["province_code"] = report.province.code
    notices = notify(
        recipients=recipients, kind=NotificationKind.REPORT_PUBLISHED, link=reverse("reports:detail", args=[report.pk]),
        params=params, event_key=f"report:{report.pk}",
    )
    logger.info("Monthly report %s published: %d analyst(s) notified", report.pk, len(notices))
    return recipients
