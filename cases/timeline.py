"""The readable case timeline: one human sentence per CaseEvent, newest first.

One small function per event type, as saleor's order events. A viewer who lacks an event's data
category sees that something happened, by which agency and when, but not what: "Công an phường
Ba Đình logged a medical note." The raw who-read-what is the audit trail, not this.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from agencies.models import Sector
from permissions.categories import GENERAL, DataCategory

from .models import (
    Action,
    ActionType,
    CaseEvent,
    CaseEventType,
    CaseStatus,
    GbvType,
    HandoffKind,
    HandoffService,
    RiskLevel,
    Survivor,
    TechForm,
    Urgency,
)
from .selectors import CaseAccess


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


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _categories(values) -> str:
    return ", ".join(_label(DataCategory, v) for v in values)


def _recipient(data: dict) -> str:
    if data.get("recipient_agency"):
        return data["recipient_agency"]
    return _("agencies of the %(sector)s sector") % {"sector": _label(Sector, data.get("recipient_sector", ""))}


def _opened(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s opened the case %(number)s.") % {"agency": agency, "number": event.data.get("number", "")}


def _case_change(field: str, old, new, agency: str) -> str:
    if field == "risk_level":
        return _("%(agency)s changed the risk level from %(old)s to %(new)s.") % {
            "agency": agency, "old": _label(RiskLevel, old), "new": _label(RiskLevel, new)}
    if field == "responsible":
        name = (new or {}).get("name") or _("nobody")
        return _("%(agency)s made %(name)s responsible for the case.") % {"agency": agency, "name": name}
    if field == "statistics_consent":
        if new:
            return _("%(agency)s recorded that the survivor agrees to anonymous statistics.") % {"agency": agency}
        return _("%(agency)s recorded that the survivor does not agree to anonymous statistics.") % {"agency": agency}
    return _("%(agency)s updated the case.") % {"agency": agency}


def _updated(event: CaseEvent, agency: str) -> str:
    if "survivor_fields" in event.data:
        names = []
        for field in event.data["survivor_fields"]:
            try:
                names.append(str(Survivor._meta.get_field(field).verbose_name))
            except Exception:  # noqa: BLE001 - a field renamed since the event was written
                names.append(field)
        return _("%(agency)s updated the survivor's %(fields)s.") % {"agency": agency, "fields": ", ".join(names)}
    changes = event.data.get("changes", {})
    sentences = [_case_change(field, old, new, agency) for field, (old, new) in sorted(changes.items())]
    return " ".join(sentences) or _("%(agency)s updated the case.") % {"agency": agency}


def _status_changed(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s changed the status from %(old)s to %(new)s.") % {
        "agency": agency, "old": _label(CaseStatus, event.data.get("from")),
        "new": _label(CaseStatus, event.data.get("to"))}


def _incident_recorded(event: CaseEvent, agency: str) -> str:
    gbv_type = _label(GbvType, event.data.get("gbv_type"))
    forms = event.data.get("tech_forms") or []
    if forms:
        return _("%(agency)s recorded an incident: %(type)s; technology-facilitated: %(forms)s.") % {
            "agency": agency, "type": gbv_type, "forms": ", ".join(_label(TechForm, f) for f in forms)}
    return _("%(agency)s recorded an incident: %(type)s.") % {"agency": agency, "type": gbv_type}


def _action_logged(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s logged an action: %(type)s.") % {
        "agency": agency, "type": _label(ActionType, event.data.get("action_type"))}


def _consent_recorded(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "recipient": _recipient(data), "categories": _categories(data.get("granted", []))}
    if data.get("override"):
        sentence = _("%(agency)s shared %(categories)s with %(recipient)s without consent (emergency override, "
                     "for supervisor review).") % values
    elif data.get("granted"):
        sentence = _("%(agency)s recorded the survivor's consent to share %(categories)s with %(recipient)s.") % values
    else:
        sentence = _("%(agency)s recorded the survivor's decision about sharing with %(recipient)s.") % values
    if data.get("refused"):
        sentence += " " + _("Refused: %(categories)s.") % {"categories": _categories(data["refused"])}
    return sentence


def _consent_withdrawn(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s recorded that consent to share %(categories)s with %(recipient)s was withdrawn.") % {
        "agency": agency, "recipient": _recipient(event.data), "categories": _categories(event.data.get("granted", []))}


def _handoff_sent(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "to": data.get("to_agency", ""), "urgency": _label(Urgency, data.get("urgency")),
              "services": ", ".join(_label(HandoffService, s) for s in data.get("services", []))}
    if data.get("kind") == HandoffKind.TRANSFER:
        return _("%(agency)s asked %(to)s to take over the case (%(urgency)s): %(services)s.") % values
    return _("%(agency)s referred the case to %(to)s (%(urgency)s): %(services)s.") % values


def _handoff_accepted(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s accepted the handoff.") % {"agency": agency}


def _handoff_declined(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s declined the handoff.") % {"agency": agency}


def _handoff_withdrawn(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s withdrew the handoff.") % {"agency": agency}


def _handoff_completed(event: CaseEvent, agency: str) -> str:
    return _("%(agency)s completed the handoff.") % {"agency": agency}


def _lead_transferred(event: CaseEvent, agency: str) -> str:
    return _("%(to)s now leads the case, taking over from %(from)s.") % {
        "to": event.data.get("to_agency", agency), "from": event.data.get("from_agency", "")}


RENDERERS: dict[str, Callable[[CaseEvent, str], str]] = {
    CaseEventType.HANDOFF_SENT: _handoff_sent,
    CaseEventType.HANDOFF_ACCEPTED: _handoff_accepted,
    CaseEventType.HANDOFF_DECLINED: _handoff_declined,
    CaseEventType.HANDOFF_WITHDRAWN: _handoff_withdrawn,
    CaseEventType.HANDOFF_COMPLETED: _handoff_completed,
    CaseEventType.LEAD_TRANSFERRED: _lead_transferred,
    CaseEventType.OPENED: _opened,
    CaseEventType.UPDATED: _updated,
    CaseEventType.STATUS_CHANGED: _status_changed,
    CaseEventType.INCIDENT_RECORDED: _incident_recorded,
    CaseEventType.ACTION_LOGGED: _action_logged,
    CaseEventType.CONSENT_RECORDED: _consent_recorded,
    CaseEventType.CONSENT_WITHDRAWN: _consent_withdrawn,
}


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


def case_timeline(*, access: CaseAccess) -> list[TimelineEntry]:
    """The case's events, newest first, as the viewer of `access` may read them. Two queries."""
    events = list(
        CaseEvent.objects.filter(case_id=access.case.pk).select_related("agency", "actor").order_by("-at", "-id")
    )
    visible_action_ids = [e.action_id for e in events if e.action_id and access.sees(e.category)]
    # Objects, not values_list: the text is opened by the field (cases.fields), the case key once.
    texts = {a.pk: a.text for a in Action.objects.filter(pk__in=visible_action_ids).only("pk", "text")} \
        if visible_action_ids else {}
    entries = []
    for event in events:
        agency = event.agency.name if event.agency else _("The system")
        actor = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else ""
        visible = event.category == GENERAL or access.sees(event.category)
        render = RENDERERS.get(event.type)
        sentence = render(event, agency) if visible and render else _hidden(event, agency)
        entries.append(TimelineEntry(
            at=event.at, type=event.type, category=event.category, agency=agency, actor=actor, sentence=sentence,
            details=texts.get(event.action_id, "") if visible else "", hidden=not visible,
            action_id=event.action_id if visible else None,
        ))
    return entries
