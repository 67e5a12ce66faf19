"""Retention of closed cases: the schedule (privacy/data/retention.yaml), the 30-day notice to the
lead agency's supervisors, legal holds that suspend it, and anonymisation at its end.

`retention_apply` is run daily by beat (privacy.tasks.apply_retention). For each closed case not yet
anonymised and not under a legal hold:
- from RETENTION_NOTICE_DAYS before its retention ends, a notice is given (a RetentionNotice row, a
  notification to the lead's supervisors, an audit event) naming the day it will be anonymised: the
  end of retention, or RETENTION_NOTICE_DAYS after the notice when the notice comes late;
- once that day has passed, the case is anonymised (cases.erasure.anonymise_case) and audited.
A legal hold or a reopening cancels a pending notice at once (privacy.receivers.case_reopened_notice_cancel); the count
starts again with a new notice. A notice given before the case's current closing is never acted on:
the run cancels it and counts from the new closing.
"""

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from agencies.models import Role
from audit.models import AuditAction
from audit.services import audit_record
from cases.erasure import anonymise_case
from cases.models import Case, CaseStatus
from notifications.calendar import VIETNAM
from notifications.models import NotificationKind
from notifications.services import notify

from .models import LegalHold, RetentionNotice

logger = logging.getLogger(__name__)

KINDS = ("adult", "child", "age_unknown")
CHOSEN = "chosen, not from law"
RETENTION_PATH = "/privacy/retention/"


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    description: str
    years_after_closure: int
    source: str
    note: str = ""
    years_after_age_18: int | None = None

    @property
    def from_law(self) -> bool:
        return self.source.strip().lower() != CHOSEN


def _positive_int(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ImproperlyConfigured(f"{where} must be a positive whole number of years, not {value!r}")
    return value


def retention_schedule_parse(entries) -> dict[str, RetentionRule]:
    """Rules by kind from the YAML's list; ImproperlyConfigured on anything missing or unknown, so a
    broken schedule stops the run rather than anonymising on a guess."""
    if not isinstance(entries, list):
        raise ImproperlyConfigured("The retention schedule must be a list of rules")
    rules: dict[str, RetentionRule] = {}
    for index, entry in enumerate(entries):
        where = f"retention schedule entry {index + 1}"
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(f"{where} is not a mapping")
        unknown = set(entry) - {"kind", "description", "years_after_closure", "years_after_age_18", "source", "note"}
        if unknown:
            raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}")
        kind = entry.get("kind")
        if kind not in KINDS or kind in rules:
            raise ImproperlyConfigured(f"{where}: kind must be one of {KINDS}, once each (got {kind!r})")
        source = str(entry.get("source") or "").strip()
        if not source:
            raise ImproperlyConfigured(f"{where}: give the legal source, or {CHOSEN!r}")
        after_18 = entry.get("years_after_age_18")
        rules[kind] = RetentionRule(
            kind=kind, description=str(entry.get("description") or kind), source=source,
            years_after_closure=_positive_int(entry.get("years_after_closure"), f"{where}: years_after_closure"),
            years_after_age_18=None if after_18 is None else _positive_int(after_18, f"{where}: years_after_age_18"),
            note=str(entry.get("note") or ""),
        )
    missing = set(KINDS) - set(rules)
    if missing:
        raise ImproperlyConfigured(f"The retention schedule has no rule for {sorted(missing)}")
    return rules


def retention_schedule() -> dict[str, RetentionRule]:
    """The schedule file (RETENTION_SCHEDULE_FILE), with RETENTION_OVERRIDES (kind=years after
    closure) applied. Read at every run: an edit applies from the next one."""
    path = Path(settings.RETENTION_SCHEDULE_FILE)
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"Cannot read the retention schedule {path}: {exc}") from exc
    rules = retention_schedule_parse(entries)
    for kind, years in settings.RETENTION_OVERRIDES.items():
        if kind not in rules:
            raise ImproperlyConfigured(f"RETENTION_OVERRIDES: unknown kind {kind!r}; use one of {KINDS}")
        try:
            years = _positive_int(int(years), f"RETENTION_OVERRIDES[{kind}]")
        except ValueError as exc:
            raise ImproperlyConfigured(f"RETENTION_OVERRIDES[{kind}] must be a whole number of years") from exc
        rule = rules[kind]
        rules[kind] = RetentionRule(**{**rule.__dict__, "years_after_closure": years,
                                       "source": f"{CHOSEN} (RETENTION_OVERRIDES)"})
    return rules


def _add_years(moment: datetime.datetime, years: int) -> datetime.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def retention_kind(case: Case) -> str:
    """child when she was under 18 on the day the case was opened (erring young, as the case pages
    do), adult when she was not, age_unknown without a birth year."""
    minor = case.survivor.is_minor_on(timezone.localtime(case.created_at, VIETNAM).date())
    if minor is None:
        return "age_unknown"
    return "child" if minor else "adult"


def retention_end(case: Case, *, schedule: dict[str, RetentionRule]) -> datetime.datetime:
    """When the closed case's retention ends."""
    kind = retention_kind(case)
    rule = schedule[kind]
    end = _add_years(case.closed_at, rule.years_after_closure)
    if kind == "child" and rule.years_after_age_18:
        # The end of the year she turns 18 at the latest (only the birth year is known).
        adult_on = datetime.datetime(case.survivor.birth_year + 19, 1, 1, tzinfo=VIETNAM)
        end = max(end, _add_years(adult_on, rule.years_after_age_18))
    return end


def case_on_hold(case_id: int) -> bool:
    return LegalHold.objects.filter(case_id=case_id, released_at__isnull=True).exists()


def lead_supervisors(agency_id: int):
    return get_user_model().objects.filter(
        memberships__agency_id=agency_id, memberships__role=Role.SUPERVISOR, memberships__agency__active=True,
        is_active=True,
    ).distinct()


@dataclass
class RetentionRun:
    notified: int = 0
    anonymised: int = 0
    cancelled: int = 0
    held: int = 0


def retention_notice_cancel(*, case: Case, reason: str, actor: User | None = None,
                            agency_id: int | None = None) -> int:
    """Cancel the case's pending notice (a hold, a reopening, a closing after the notice); the next run
    starts the count again. `reason` is a code, kept on the notice and in the audit event, which names
    the notice as its other steps do (`actor` None: the daily run; the event is the lead agency's
    unless `agency_id` says who acted). Returns how many were cancelled (0 or 1)."""
    notice = RetentionNotice.objects.filter(case_id=case.pk, status=RetentionNotice.Status.PENDING).first()
    if notice is None:
        return 0
    # Conditional on still pending: of two cancellations racing, one cancels and audits.
    cancelled = RetentionNotice.objects.filter(pk=notice.pk, status=RetentionNotice.Status.PENDING).update(
        status=RetentionNotice.Status.CANCELLED, cancelled_reason=reason[:30], resolved_at=timezone.now()
    )
    if cancelled:
        audit_record(actor=actor, action=AuditAction.CHANGE, case_id=case.pk,
                     agency_id=agency_id or case.lead_agency_id, target=f"retention_notice:{notice.pk}",
                     details={"retention": "cancelled", "cancelled_reason": reason[:30]})
    return cancelled


def _notice_give(*, case: Case, kind: str, end: datetime.datetime, now: datetime.datetime) -> RetentionNotice:
    notice_days = datetime.timedelta(days=settings.RETENTION_NOTICE_DAYS)
    notice = RetentionNotice.objects.create(
        case=case, retention_kind=kind, retention_ends_at=end, notified_at=now,
        anonymise_after=max(end, now + notice_days),
    )
    recipients = list(lead_supervisors(case.lead_agency_id))
    if not recipients:
        logger.warning("Case %s: retention notice with no supervisor to tell", case.pk)
    notify(recipients=recipients, kind=NotificationKind.RETENTION_NOTICE, case_number=case.number,
           link=RETENTION_PATH, params={"due_at": notice.anonymise_after.isoformat()},
           event_key=f"retention:{notice.pk}")
    audit_record(actor=None, action=AuditAction.CHANGE, case_id=case.pk, agency_id=case.lead_agency_id,
                 target=f"retention_notice:{notice.pk}",
                 details={"retention": "notice", "kind": kind, "anonymise_after": notice.anonymise_after})
    return notice


def _case_step(case_id: int, *, now: datetime.datetime, schedule, run: RetentionRun) -> None:
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("survivor").get(pk=case_id)
        pending = RetentionNotice.objects.filter(case_id=case.pk, status=RetentionNotice.Status.PENDING).first()
        if case.anonymised_at is not None or case.status != CaseStatus.CLOSED or case.closed_at is None:
            if pending is not None:
                run.cancelled += retention_notice_cancel(case=case, reason="reopened")
            return
        if case_on_hold(case.pk):
            run.held += 1
            if pending is not None:
                run.cancelled += retention_notice_cancel(case=case, reason="legal hold")
            return
        if pending is not None and pending.notified_at < case.closed_at:
            # Given for an earlier closing: the case was reopened and closed again after it (a reopening
            # cancels the notice at once, cases.signals.case_reopened; this is the backstop for a notice
            # that outlived one). Its day counts from the old closing: never anonymise on it.
            run.cancelled += retention_notice_cancel(case=case, reason="closed again")
            pending = None
        notice_days = datetime.timedelta(days=settings.RETENTION_NOTICE_DAYS)
        if pending is None:
            end = retention_end(case, schedule=schedule)
            if now >= end - notice_days:
                _notice_give(case=case, kind=retention_kind(case), end=end, now=now)
                run.notified += 1
            return
        if now < pending.anonymise_after:
            return
        anonymise_case(case, actor=None, reason="retention")
        from .services import privacy_text_shred

        privacy_text_shred(case_id=case.pk)
        RetentionNotice.objects.filter(pk=pending.pk).update(status=RetentionNotice.Status.DONE, resolved_at=now)
        audit_record(actor=None, action=AuditAction.CHANGE, case_id=case.pk, agency_id=case.lead_agency_id,
                     target=f"retention_notice:{pending.pk}",
                     details={"retention": "anonymised", "kind": pending.retention_kind})
        run.anonymised += 1


def retention_apply(*, now: datetime.datetime | None = None) -> RetentionRun:
    """One daily run (see the module docstring). Each case is handled in its own transaction, so one
    failure neither undoes nor stops the others."""
    now = now or timezone.now()
    schedule = retention_schedule()
    shortest = min(rule.years_after_closure for rule in schedule.values())
    horizon = _add_years(now + datetime.timedelta(days=settings.RETENTION_NOTICE_DAYS), -shortest)
    run = RetentionRun()
    due = set(
        Case.objects.filter(status=CaseStatus.CLOSED, anonymised_at__isnull=True, closed_at__lte=horizon)
        .values_list("pk", flat=True)
    )
    pending = set(
        RetentionNotice.objects.filter(status=RetentionNotice.Status.PENDING).values_list("case_id", flat=True)
    )
    for case_id in sorted(due | pending):
        try:
            _case_step(case_id, now=now, schedule=schedule, run=run)
        except Exception:
            logger.exception("Retention of case %s failed; tried again at the next run", case_id)
    logger.info("Retention: %s", run)
    return run
