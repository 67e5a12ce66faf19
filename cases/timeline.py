"""The readable case timeline: one human sentence per CaseEvent, newest first.

One small function per event type, as saleor's order events: cases.events writes each type, and
RENDERERS here reads it, keyed by the same CaseEventType (the apps built on the case register theirs
with `renders` from their `events` module: handoffs.events, takedowns.events) (tests/cases/test_events.py renders every
type in both languages). A renderer reads its keys strictly: a missing one is a writer's bug that
the test finds, and the page shows a plain "updated the case" rather than failing. A viewer who
lacks an event's data category sees that something happened, by which agency and when, but not what:
"Công an phường Ba Đình logged a medical note." The raw who-read-what is the audit trail, not this.
"""

import datetime
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case as DbCase
from django.db.models import F, Value, When
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from agencies.models import Sector
from config.compiled import CompiledValuesByShape
from encryption import crypto
from encryption.fields import EncryptedTextField
from notifications.models import Deadline
from permissions.categories import GENERAL, DataCategory

from .events import CHILD_SERIOUS_RISK, CHILD_SUPPORT_PLAN, DeadlineClosure
from .models import ActionType, CaseEvent, CaseEventType, CaseStatus, GbvType, RiskLevel, Survivor, TechForm
from .selectors import CaseAccess

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    type: str
    category: str
    agency: str
    actor: str
    sentence: str
    # The action's own text, only when the viewer sees its category.
    details: str = ""
    hidden: bool = False
    action_id: int | None = None


def choice_label(choices, value) -> str:
    try:
        return _labels_in(get_language(), choices)[value]
    except (KeyError, TypeError):  # a value no longer among the choices (an old row), or not one at all
        return str(value)


@functools.cache
def _labels_in(language: str | None, choices) -> dict[str, str]:
    """The labels of `choices` by value in `language`, the active one: translated once per process."""
    return {value: str(label) for value, label in choices.choices}


def _categories(values) -> str:
    return ", ".join(choice_label(DataCategory, v) for v in values)


def _recipient(data: dict) -> str:
    if data["recipient_agency"]:
        return data["recipient_agency"]
    return _("agencies of the %(sector)s sector") % {"sector": choice_label(Sector, data["recipient_sector"])}


def _opened(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s opened the case %(number)s.") % {"agency": agency, "number": event.data["number"]}


def _case_change(field: str, old, new, agency: str) -> str:
    if field == "risk_level":
        return _("%(agency)s changed the risk level from %(old)s to %(new)s.") % {
            "agency": agency, "old": choice_label(RiskLevel, old), "new": choice_label(RiskLevel, new)}
    if field == "responsible":
        name = (new or {}).get("name") or _("nobody")
        return _("%(agency)s made %(name)s responsible for the case.") % {"agency": agency, "name": name}
    if field == "statistics_consent":
        if new:
            return _("%(agency)s recorded that the survivor agrees to anonymous statistics.") % {"agency": agency}
        return _("%(agency)s recorded that the survivor does not agree to anonymous statistics.") % {"agency": agency}
    return _("%(agency)s updated the case.") % {"agency": agency}


def _updated(event: CaseEvent, agency: str) -> str:
    changes = event.data["changes"]
    sentences = [_case_change(field, old, new, agency) for field, (old, new) in sorted(changes.items())]
    return " ".join(sentences) or _("%(agency)s updated the case.") % {"agency": agency}


def _survivor_updated(event: CaseEvent, agency: str) -> str:
    names = []
    for field in event.data["survivor_fields"]:
        try:
            names.append(str(Survivor._meta.get_field(field).verbose_name))
        except Exception:  # noqa: BLE001 - a field renamed since the event was written
            names.append(field)
    return _("%(agency)s updated the survivor's %(fields)s.") % {"agency": agency, "fields": ", ".join(names)}


def _status_changed(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s changed the status from %(old)s to %(new)s.") % {
        "agency": agency, "old": choice_label(CaseStatus, event.data["from"]),
        "new": choice_label(CaseStatus, event.data["to"])}


def _incident_recorded(event: CaseEvent, agency: str) -> str:
    gbv_type = choice_label(GbvType, event.data["gbv_type"])
    forms = event.data["tech_forms"]
    if forms:
        return _("%(agency)s recorded an incident: %(type)s; technology-facilitated: %(forms)s.") % {
            "agency": agency, "type": gbv_type, "forms": ", ".join(choice_label(TechForm, f) for f in forms)}
    return _("%(agency)s recorded an incident: %(type)s.") % {"agency": agency, "type": gbv_type}


def _action_logged(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s logged an action: %(type)s.") % {
        "agency": agency, "type": choice_label(ActionType, event.data["action_type"])}


def _consent_recorded(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "recipient": _recipient(data), "categories": _categories(data["granted"])}
    if data["override"]:
        sentence = _("%(agency)s shared %(categories)s with %(recipient)s without consent (emergency override, "
                     "for supervisor review).") % values
    elif data["granted"]:
        sentence = _("%(agency)s recorded the survivor's consent to share %(categories)s with %(recipient)s.") % values
    else:
        sentence = _("%(agency)s recorded the survivor's decision about sharing with %(recipient)s.") % values
    if data["refused"]:
        sentence += " " + _("Refused: %(categories)s.") % {"categories": _categories(data["refused"])}
    return sentence


def _consent_withdrawn(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s recorded that consent to share %(categories)s with %(recipient)s was withdrawn.") % {
        "agency": agency, "recipient": _recipient(event.data), "categories": _categories(event.data["granted"])}


# The legal time limits a case starts (deadlines.services), by their rule's description (the texts of
# notifications/data/time_limits.yaml, translated in the catalogue): no query per line.
LEGAL_LIMIT_NAMES = {
    CHILD_SERIOUS_RISK: gettext_lazy("Child at serious risk: emergency intervention"),
    CHILD_SUPPORT_PLAN: gettext_lazy("Child support and intervention plan"),
}


def _deadline_name(data: dict) -> str:
    name = LEGAL_LIMIT_NAMES.get(data["rule"]) or choice_label(Deadline.Kind, data["kind"])
    due = formats.date_format(timezone.localtime(datetime.datetime.fromisoformat(data["due_at"])), "DATETIME_FORMAT")
    return _("%(deadline)s (due %(due)s)") % {"deadline": name, "due": due}


def _deadline_started(event: CaseEvent, agency: str) -> str:
    values = {"agency": agency, "deadline": _deadline_name(event.data)}
    if event.data["kind"] == Deadline.Kind.LEGAL_LIMIT:
        return _("The legal deadline started: %(deadline)s.") % values
    return _("%(agency)s set a deadline: %(deadline)s.") % values


def _deadline_closed(event: CaseEvent, agency: str) -> str:
    values = {"agency": agency, "deadline": _deadline_name(event.data)}
    reason = event.data["reason"]
    if reason == DeadlineClosure.MET_BY_ACTION:
        return _("%(agency)s met the deadline %(deadline)s by logging an action.") % values
    if reason == DeadlineClosure.MARKED_DONE:
        return _("%(agency)s marked the deadline %(deadline)s done.") % values
    if reason == DeadlineClosure.RISK_ASSESSED:
        return _("%(agency)s met the deadline %(deadline)s with a new risk assessment.") % values
    if reason == DeadlineClosure.PLAN_CANCELLED:
        return _("%(agency)s cancelled the action plan item %(deadline)s.") % values
    return _("The deadline %(deadline)s ended when the case was closed.") % values


def _deadline_overdue(event: CaseEvent, agency: str) -> str:
    return _("The deadline %(deadline)s of %(owner)s has passed.") % {
        "deadline": _deadline_name(event.data), "owner": event.data["owner_agency"]}


def _deadline_escalated(event: CaseEvent, agency: str) -> str:
    return _("The overdue deadline %(deadline)s of %(owner)s was escalated to the supervisors.") % {
        "deadline": _deadline_name(event.data), "owner": event.data["owner_agency"]}


def _risk_assessed(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "level": choice_label(RiskLevel, data["level"]),
              "computed": choice_label(RiskLevel, data["computed_level"])}
    if data["level"] != data["computed_level"]:
        return _("%(agency)s assessed the risk: %(computed)s by the checklist, raised to %(level)s by "
                 "professional judgement.") % values
    return _("%(agency)s assessed the risk: %(level)s.") % values


RISK_REVIEW_TRIGGER_NAMES = {
    "new_incident": gettext_lazy("a new incident"),
    "separation": gettext_lazy("a separation"),
    "breach": gettext_lazy("a breach of an order"),
}


def _risk_review_due(event: CaseEvent, agency: str) -> str:
    trigger = RISK_REVIEW_TRIGGER_NAMES.get(event.data["trigger"], event.data["trigger"])
    return _("After %(trigger)s, a new risk assessment is due: %(deadline)s.") % {
        "trigger": trigger, "deadline": _deadline_name(event.data)}


def _meeting_case_added(event: CaseEvent, agency: str) -> str:
    when = formats.date_format(timezone.localtime(datetime.datetime.fromisoformat(event.data["scheduled_for"])),
                               "DATETIME_FORMAT")
    return _("%(agency)s put the case on the agenda of the case meeting of %(when)s.") % {
        "agency": agency, "when": when}


def _meeting_held(event: CaseEvent, agency: str) -> str:
    day = formats.date_format(datetime.date.fromisoformat(event.data["held_on"]), "DATE_FORMAT")
    return _("The case was discussed at the case meeting held on %(day)s.") % {"day": day}


def _minutes_signed(event: CaseEvent, agency: str) -> str:
    return _("The chair signed version %(version)s of the case meeting's minutes.") % {
        "version": event.data["version"]}


RENDERERS: dict[str, Callable[[CaseEvent, str], str]] = {
    CaseEventType.MEETING_CASE_ADDED: _meeting_case_added,
    CaseEventType.MEETING_HELD: _meeting_held,
    CaseEventType.MINUTES_SIGNED: _minutes_signed,
    CaseEventType.RISK_ASSESSED: _risk_assessed,
    CaseEventType.RISK_REVIEW_DUE: _risk_review_due,
    CaseEventType.OPENED: _opened,
    CaseEventType.UPDATED: _updated,
    CaseEventType.STATUS_CHANGED: _status_changed,
    CaseEventType.INCIDENT_RECORDED: _incident_recorded,
    CaseEventType.ACTION_LOGGED: _action_logged,
    CaseEventType.CONSENT_RECORDED: _consent_recorded,
    CaseEventType.CONSENT_WITHDRAWN: _consent_withdrawn,
    CaseEventType.SURVIVOR_UPDATED: _survivor_updated,
    CaseEventType.DEADLINE_STARTED: _deadline_started,
    CaseEventType.DEADLINE_CLOSED: _deadline_closed,
    CaseEventType.DEADLINE_OVERDUE: _deadline_overdue,
    CaseEventType.DEADLINE_ESCALATED: _deadline_escalated,
}


def renders(event_type: CaseEventType) -> Callable[[Callable[[CaseEvent, str], str]], Callable[[CaseEvent, str], str]]:
    """Register the renderer of an event type written by an app built on the case (its `events`
    module, imported by its AppConfig.ready()): one renderer per type, checked at import."""

    def register(render: Callable[[CaseEvent, str], str]) -> Callable[[CaseEvent, str], str]:
        if event_type in RENDERERS:
            raise RuntimeError(f"two renderers for the timeline event {event_type!r}")
        RENDERERS[event_type] = render
        return render

    return register


def event_sentence(event: CaseEvent, agency: str) -> str:
    """The event's sentence for a viewer who may read it; a plain "updated the case" for a type or a
    shape no renderer knows (an old row), logged, never a failed page."""
    render = RENDERERS.get(event.type)
    try:
        if render is not None:
            return render(event, agency)
    except (KeyError, TypeError, ValueError):
        logger.warning("Timeline event %s (%s) does not match its renderer", event.pk, event.type, exc_info=True)
    else:
        logger.warning("Timeline event %s has a type no renderer knows: %s", event.pk, event.type)
    return _("%(agency)s updated the case.") % {"agency": agency}


def _hidden(event: CaseEvent, agency: str) -> str:
    """What a viewer without the event's category learns: that it happened, not what it says."""
    if event.type == CaseEventType.ACTION_LOGGED:
        sentences = {
            DataCategory.MEDICAL: _("%(agency)s logged a medical note."),
            DataCategory.POLICE_LEGAL: _("%(agency)s logged a police or legal note."),
            DataCategory.EDUCATION: _("%(agency)s logged an education note."),
            DataCategory.PSYCHOSOCIAL: _("%(agency)s logged a psychosocial note."),
            DataCategory.CONTACT: _("%(agency)s logged a note with contact or address details."),
            DataCategory.IDENTITY: _("%(agency)s logged a note with identity details."),
        }
        return sentences.get(event.category, _("%(agency)s logged a note you cannot see.")) % {"agency": agency}
    return _("%(agency)s updated details you cannot see.") % {"agency": agency}


# The columns of an event the timeline reads (_TimelineEvent's, then the agency's name, the actor's names
# and the action's text): no model instance per event, agency and actor.
_EVENT_COLUMNS = ("id", "type", "at", "category", "data", "action_id", "agency__name",
                  "actor_id", "actor__first_name", "actor__last_name", "actor__username")


class _TimelineEvent:
    """What a renderer reads of a CaseEvent (its id, type, time, category, data and action), read as
    values rather than as a model instance."""

    __slots__ = ("action_id", "at", "category", "data", "id", "type")

    def __init__(self, id, type, at, category, data, action_id):  # noqa: A002 - a CaseEvent's names
        self.id, self.type, self.at, self.category, self.data, self.action_id = id, type, at, category, data, action_id

    @property
    def pk(self) -> int:
        return self.id


def _events_query(seen: tuple[str, ...], case_id: int):
    return (
        CaseEvent.objects.filter(case_id=case_id)
        .annotate(action_text=DbCase(When(action__isnull=False, category__in=seen, then=F("action__text")),
                                     default=Value(""), output_field=EncryptedTextField()))
        .order_by("-at", "-id")
        .values_list(*_EVENT_COLUMNS, "action_text")
    )


# Compiled once for each set of categories a reader sees: building and compiling it cost the case page
# about a millisecond of CPU every time.
_EVENTS = CompiledValuesByShape(_events_query, case_id="int")


def case_timeline(*, access: CaseAccess) -> list[TimelineEntry]:
    """The case's events, newest first, as the viewer of `access` may read them. One query: an
    action's text comes with its event, and only when the viewer sees the event's category (the
    database leaves the others' sealed text where it is)."""
    seen = (GENERAL, *sorted(c for c in access.categories if access.sees(c)))
    rows = _EVENTS.values(seen, case_id=access.case.pk, model=CaseEvent)
    # Opened here, as the field opens it (encryption.fields): the case's key came with the case.
    texts = {row[5]: crypto.unseal(row[-1]) if isinstance(row[-1], crypto.Sealed) else row[-1]
             for row in rows if row[5] and row[-1]}
    system = None
    entries = []
    for (event_id, event_type, at, category, data, action_id, agency_name,
         actor_id, first_name, last_name, username, _action_text) in rows:
        if agency_name is None:
            agency = system = system or _("The system")
        else:
            agency = agency_name
        # As User.get_full_name() or get_username().
        actor = (f"{first_name} {last_name}".strip() or username) if actor_id is not None else ""
        event = _TimelineEvent(event_id, event_type, at, category, data, action_id)
        visible = category == GENERAL or access.sees(category)
        sentence = event_sentence(event, agency) if visible else _hidden(event, agency)
        # A hidden line names no type but "an action logged" or "updated": a takedown's outcome in a
        # category the viewer lacks must not say that it is one.
        shown_type = event_type if visible or event_type == CaseEventType.ACTION_LOGGED else CaseEventType.UPDATED
        entries.append(TimelineEntry(
            at=at, type=shown_type, category=category, agency=agency, actor=actor, sentence=sentence,
            details=texts.get(action_id, "") if visible else "", hidden=not visible,
            action_id=action_id if visible else None,
        ))
    return entries
