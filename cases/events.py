"""The case timeline's events: one writer per event type (saleor's order `events.py` pattern).

This is the only module that creates CaseEvent rows (tests/cases/test_events.py checks the whole
project's code for any other): through `event_create`, called by the writers alone. Each writer takes
typed keyword arguments and stores exactly the keys that the renderer of the same CaseEventType in
cases.timeline reads, so that a sentence never misses a key; the test renders every type in
Vietnamese and English. The apps built on the case write their own events the same way, in their
`events` module (handoffs.events, takedowns.events), registered with `writes` and
`cases.timeline.renders` when their AppConfig.ready() imports it: cases imports none of them.

What `data` may hold (issue 12: no text typed about a case in plaintext): codes of choices, ids of
rows, dates, the case number, and the names of agencies and staff accounts. Never a reason, an
outcome, a message or a note: those stay on their own row, sealed with the case key, and the event
refers to the row by id (`handoff_id`, `consent_id`, `takedown_id`, `deadline_id`).
"""

import datetime
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractUser

from agencies.models import Agency
from notifications.models import Deadline
from permissions.categories import GENERAL

from .models import Action, Case, CaseEvent, CaseEventType, CaseStatus, Consent, Incident, RiskLevel, Survivor

# Staff accounts (django.contrib.auth.models.User), annotated by its abstract base.
User = AbstractUser

# The case fields whose changes case_updated records (cases.services.case_update).
CASE_CHANGE_FIELDS = frozenset({"risk_level", "responsible", "statistics_consent"})


# The legal time limits a case starts (deadlines.services), by their code in
# notifications/data/time_limits.yaml; the timeline names them.
CHILD_SUPPORT_PLAN = "child_support_plan"
CHILD_SERIOUS_RISK = "child_serious_risk_intervention"


class DeadlineClosure(enum.StrEnum):
    """Why a case deadline closed: the code its timeline line keeps in `data`. No field's choices
    and no label: cases.timeline words each reason, in the viewer's language."""

    MET_BY_ACTION = "action"
    MARKED_DONE = "done"
    CASE_CLOSED = "case_closed"
    RISK_ASSESSED = "risk_assessed"  # met by a new risk assessment
    PLAN_CANCELLED = "plan_cancelled"  # the action plan item was cancelled


WRITERS: dict[str, Callable[..., CaseEvent]] = {}


def writes(event_type: CaseEventType) -> Callable[[Callable[..., CaseEvent]], Callable[..., CaseEvent]]:
    """Register the writer of one event type: one writer per type, checked at import."""

    def register(writer: Callable[..., CaseEvent]) -> Callable[..., CaseEvent]:
        if event_type in WRITERS:
            raise RuntimeError(f"two writers for the timeline event {event_type!r}")
        WRITERS[event_type] = writer
        return writer

    return register


def event_create(*, case_id: int, type: CaseEventType, at: datetime.datetime, actor: User | None,
                 agency: Agency | None, data: dict[str, Any], category: str = GENERAL,
                 action: Action | None = None) -> CaseEvent:
    return CaseEvent.objects.create(case_id=case_id, type=type, at=at, actor=actor, agency=agency,
                                    category=category, action=action, data=data)


# --- The case ------------------------------------------------------------------------------------


@writes(CaseEventType.OPENED)
def case_opened(*, case: Case, actor: User | None, agency: Agency, at: datetime.datetime) -> CaseEvent:
    return event_create(case_id=case.pk, type=CaseEventType.OPENED, at=at, actor=actor, agency=agency,
                        data={"number": case.number, "risk_level": case.risk_level})


def person_ref(user: User | None) -> dict[str, Any] | None:
    """A staff account as a case change names it: its id, and its name for the sentence."""
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


@writes(CaseEventType.UPDATED)
def case_updated(*, case: Case, actor: User | None, agency: Agency | None, at: datetime.datetime,
                 changes: Mapping[str, Sequence[Any]]) -> CaseEvent:
    """`changes`: field -> (old, new) for the fields of CASE_CHANGE_FIELDS; a responsible person
    as person_ref gives it."""
    unknown = set(changes) - CASE_CHANGE_FIELDS
    if unknown or not changes:
        raise ValueError(f"case_updated records changes of {sorted(CASE_CHANGE_FIELDS)}, not {sorted(unknown)}")
    return event_create(case_id=case.pk, type=CaseEventType.UPDATED, at=at, actor=actor, agency=agency,
                        data={"changes": {field: [old, new] for field, (old, new) in changes.items()}})


@writes(CaseEventType.SURVIVOR_UPDATED)
def survivor_updated(*, case: Case, actor: User | None, agency: Agency, at: datetime.datetime, category: str,
                     fields: Sequence[str]) -> CaseEvent:
    """The names of the survivor's fields that changed (never their values), in one data category."""
    names = {f.name for f in Survivor._meta.concrete_fields}
    if not fields or not set(fields) <= names:
        raise ValueError(f"not fields of the survivor: {sorted(set(fields) - names)}")
    return event_create(case_id=case.pk, type=CaseEventType.SURVIVOR_UPDATED, at=at, actor=actor, agency=agency,
                        category=category, data={"survivor_fields": list(fields)})


@writes(CaseEventType.STATUS_CHANGED)
def status_changed(*, case: Case, actor: User | None, agency: Agency, at: datetime.datetime, old: str,
                   new: str) -> CaseEvent:
    if old not in CaseStatus.values or new not in CaseStatus.values:
        raise ValueError(f"unknown case status {old!r} or {new!r}")
    return event_create(case_id=case.pk, type=CaseEventType.STATUS_CHANGED, at=at, actor=actor, agency=agency,
                        data={"from": old, "to": new})


@writes(CaseEventType.INCIDENT_RECORDED)
def incident_recorded(*, incident: Incident, actor: User | None, agency: Agency, at: datetime.datetime,
                      tech_forms: Sequence[str]) -> CaseEvent:
    return event_create(case_id=incident.case_id, type=CaseEventType.INCIDENT_RECORDED, at=at, actor=actor,
                        agency=agency, data={"incident_id": incident.pk, "gbv_type": incident.gbv_type,
                                        "tech_forms": list(tech_forms)})


def _action_logged_values(action: Action) -> dict[str, Any]:
    return {"case_id": action.case_id, "type": CaseEventType.ACTION_LOGGED, "at": action.created_at,
            "actor": action.actor, "agency": action.agency, "category": action.category, "action": action,
            "data": {"action_type": action.type}}


@writes(CaseEventType.ACTION_LOGGED)
def action_logged(*, action: Action) -> CaseEvent:
    """The action's line, in the action's category; its text is read from the action row."""
    return event_create(**_action_logged_values(action))


def action_logged_unsaved(*, action: Action) -> CaseEvent:
    """action_logged's line, not yet written: for the service that writes it in one statement with its
    action, which has no id yet (cases.combined_writes)."""
    return CaseEvent(**_action_logged_values(action))


# --- Consent -------------------------------------------------------------------------------------


def _recipient(consent: Consent) -> dict[str, Any]:
    agency = consent.receiving_agency
    return {"consent_id": consent.pk, "recipient_agency": agency.name if agency else "",
            "recipient_sector": consent.receiving_sector, "granted": list(consent.granted_categories)}


@writes(CaseEventType.CONSENT_RECORDED)
def consent_recorded(*, consent: Consent, actor: User | None, agency: Agency, at: datetime.datetime) -> CaseEvent:
    data = _recipient(consent) | {"refused": list(consent.refused_categories),
                                  "override": consent.emergency_override}
    return event_create(case_id=consent.case_id, type=CaseEventType.CONSENT_RECORDED, at=at, actor=actor,
                        agency=agency, data=data)


@writes(CaseEventType.CONSENT_WITHDRAWN)
def consent_withdrawn(*, consent: Consent, actor: User | None, agency: Agency, at: datetime.datetime) -> CaseEvent:
    return event_create(case_id=consent.case_id, type=CaseEventType.CONSENT_WITHDRAWN, at=at, actor=actor,
                        agency=agency, data=_recipient(consent))


# --- Deadlines of the case (deadlines.services) -------------------------------------------------------
# Legal time limits, follow-ups and action plans: the deadlines every viewer of the case sees on it
# (deadlines.selectors.case_deadline_list). A handoff's response deadline is the handoff's story.


def _deadline_data(deadline: Deadline, **data: Any) -> dict[str, Any]:
    if deadline.case_id is None:
        raise ValueError(f"deadline {deadline.pk} belongs to no case")
    return {"deadline_id": deadline.pk, "kind": deadline.kind, "rule": deadline.rule.code if deadline.rule_id else "",
            "due_at": deadline.due_at.isoformat(), "owner_agency": deadline.owner_agency.name, **data}


def _deadline(deadline: Deadline, type: CaseEventType, *, actor: User | None, agency: Agency | None,
              at: datetime.datetime, **data: Any) -> CaseEvent:
    return event_create(case_id=deadline.case_id, type=type, at=at, actor=actor, agency=agency,
                        data=_deadline_data(deadline, **data))


@writes(CaseEventType.DEADLINE_STARTED)
def deadline_started(*, deadline: Deadline, actor: User | None, agency: Agency,
                     at: datetime.datetime) -> CaseEvent:
    return _deadline(deadline, CaseEventType.DEADLINE_STARTED, actor=actor, agency=agency, at=at)


@writes(CaseEventType.DEADLINE_CLOSED)
def deadline_closed(*, deadline: Deadline, reason: DeadlineClosure, actor: User | None, agency: Agency | None,
                    at: datetime.datetime, action: Action | None = None) -> CaseEvent:
    """`action`: the action that met it (reason MET_BY_ACTION), named by id only: the line does not
    say what the action was, which its own line tells in its own category."""
    reason = DeadlineClosure(reason)
    if (reason == DeadlineClosure.MET_BY_ACTION) != (action is not None):
        raise ValueError("a deadline met by an action names the action, and only then")
    return _deadline(deadline, CaseEventType.DEADLINE_CLOSED, actor=actor, agency=agency, at=at,
                     reason=reason.value, action_id=action.pk if action else None)


@writes(CaseEventType.DEADLINE_OVERDUE)
def deadline_overdue(*, deadline: Deadline, at: datetime.datetime) -> CaseEvent:
    """Written by the deadline sweep (no person acts): the due time passed with the thing not done."""
    return _deadline(deadline, CaseEventType.DEADLINE_OVERDUE, actor=None, agency=None, at=at)


@writes(CaseEventType.DEADLINE_ESCALATED)
def deadline_escalated(*, deadline: Deadline, at: datetime.datetime) -> CaseEvent:
    return _deadline(deadline, CaseEventType.DEADLINE_ESCALATED, actor=None, agency=None, at=at)


_SWEEP_TYPES = {Deadline.Stage.OVERDUE: CaseEventType.DEADLINE_OVERDUE,
                Deadline.Stage.ESCALATED: CaseEventType.DEADLINE_ESCALATED}


def deadline_stages_passed(*, reached: Sequence[tuple[Deadline, str, datetime.datetime]]) -> list[CaseEvent]:
    """The deadline sweep's batch of deadline_overdue and deadline_escalated lines, each (deadline,
    stage, the stage's time), in one INSERT: the same rows those two writers write one at a time."""
    return CaseEvent.objects.bulk_create([
        CaseEvent(case_id=deadline.case_id, type=_SWEEP_TYPES[stage], at=at, actor=None, agency=None,
                  category=GENERAL, data=_deadline_data(deadline))
        for deadline, stage, at in reached
    ])
# --- Risk (risk.services) -------------------------------------------------------------------------
# The level is a coordination fact (general); the answers and a judgement's reason stay on the
# assessment row, sealed, in the psychosocial category. The risk app sits above cases, so these
# writers take plain values.

# Why a risk review became due (risk.services.RISK_REVIEW_TRIGGERS).
RISK_REVIEW_TRIGGERS = frozenset({"new_incident", "separation", "breach"})


@writes(CaseEventType.RISK_ASSESSED)
def risk_assessed(*, case_id: int, assessment_id: int, actor: User | None, agency: Agency, at: datetime.datetime,
                  level: str, computed_level: str, variant: str, version: str) -> CaseEvent:
    if level not in RiskLevel.values or computed_level not in RiskLevel.values:
        raise ValueError(f"unknown risk level {level!r} or {computed_level!r}")
    return event_create(case_id=case_id, type=CaseEventType.RISK_ASSESSED, at=at, actor=actor, agency=agency,
                        data={"assessment_id": assessment_id, "level": level, "computed_level": computed_level,
                         "variant": variant, "version": version})


@writes(CaseEventType.RISK_REVIEW_DUE)
def risk_review_due(*, deadline: Deadline, trigger: str, actor: User | None, agency: Agency | None,
                    at: datetime.datetime) -> CaseEvent:
    if trigger not in RISK_REVIEW_TRIGGERS:
        raise ValueError(f"unknown risk review trigger {trigger!r}")
    return _deadline(deadline, CaseEventType.RISK_REVIEW_DUE, actor=actor, agency=agency, at=at, trigger=trigger)


# --- Case meetings (conferences.services) ----------------------------------------------------------
# That a case is on a meeting's agenda, that the meeting was held and that its minutes were signed
# are coordination facts; what was said stays on the contribution and decision rows, sealed.


@writes(CaseEventType.MEETING_CASE_ADDED)
def meeting_case_added(*, case_id: int, meeting_id: int, actor: User | None, agency: Agency, at: datetime.datetime,
                       scheduled_for: datetime.datetime) -> CaseEvent:
    return event_create(case_id=case_id, type=CaseEventType.MEETING_CASE_ADDED, at=at, actor=actor, agency=agency,
                        data={"meeting_id": meeting_id, "scheduled_for": scheduled_for.isoformat()})


@writes(CaseEventType.MEETING_HELD)
def meeting_held(*, case_id: int, meeting_id: int, actor: User | None, agency: Agency, at: datetime.datetime,
                 held_on: datetime.date) -> CaseEvent:
    return event_create(case_id=case_id, type=CaseEventType.MEETING_HELD, at=at, actor=actor, agency=agency,
                        data={"meeting_id": meeting_id, "held_on": held_on.isoformat()})


@writes(CaseEventType.MINUTES_SIGNED)
def minutes_signed(*, case_id: int, meeting_id: int, version: int, actor: User | None, agency: Agency,
                   at: datetime.datetime) -> CaseEvent:
    return event_create(case_id=case_id, type=CaseEventType.MINUTES_SIGNED, at=at, actor=actor, agency=agency,
                        data={"meeting_id": meeting_id, "version": version})
