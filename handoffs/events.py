"""A handoff's lines on the case timeline: one writer per event type and the renderer of the same
type, registered with cases.events.writes and cases.timeline.renders (cases imports no handoff code).
Imported by HandoffsConfig.ready(), so every type has its writer and renderer once apps are loaded.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agencies.models import Agency
from cases.events import User, event_create, writes
from cases.models import CaseEvent, CaseEventType
from cases.timeline import choice_label, renders

from .models import Handoff, HandoffKind, HandoffService, Urgency

# --- Writers ---------------------------------------------------------------------------------------
# Each names its handoff (`handoff_id`), which handoffs.selectors.handoff_timeline reads them by; the
# reasons and the outcome stay on the handoff, sealed.


def _handoff(handoff: Handoff, type: CaseEventType, *, actor: User | None, agency: Agency,
             at: datetime.datetime, **data: Any) -> CaseEvent:
    return event_create(case_id=handoff.case_id, type=type, at=at, actor=actor, agency=agency,
                        data={"handoff_id": handoff.pk, "kind": handoff.kind, **data})


@writes(CaseEventType.HANDOFF_SENT)
def handoff_sent(*, handoff: Handoff, actor: User | None, at: datetime.datetime) -> CaseEvent:
    return _handoff(handoff, CaseEventType.HANDOFF_SENT, actor=actor, agency=handoff.from_agency, at=at,
                    to_agency=handoff.to_agency.name, urgency=handoff.urgency, services=list(handoff.services),
                    categories=list(handoff.categories))


def _handoff_step(event_type: CaseEventType, *, by_sender: bool) -> Callable[..., CaseEvent]:
    """The writer of a step that records the handoff alone, made by the sending agency (by_sender)
    or by the receiving one."""

    @writes(event_type)
    def write(*, handoff: Handoff, actor: User | None, at: datetime.datetime) -> CaseEvent:
        agency = handoff.from_agency if by_sender else handoff.to_agency
        return _handoff(handoff, event_type, actor=actor, agency=agency, at=at)

    return write


handoff_accepted = _handoff_step(CaseEventType.HANDOFF_ACCEPTED, by_sender=False)
handoff_declined = _handoff_step(CaseEventType.HANDOFF_DECLINED, by_sender=False)
handoff_withdrawn = _handoff_step(CaseEventType.HANDOFF_WITHDRAWN, by_sender=True)
handoff_completed = _handoff_step(CaseEventType.HANDOFF_COMPLETED, by_sender=False)


@writes(CaseEventType.LEAD_TRANSFERRED)
def lead_transferred(*, handoff: Handoff, actor: User | None, at: datetime.datetime) -> CaseEvent:
    return _handoff(handoff, CaseEventType.LEAD_TRANSFERRED, actor=actor, agency=handoff.to_agency, at=at,
                    from_agency=handoff.from_agency.name, to_agency=handoff.to_agency.name)


# --- Renderers -------------------------------------------------------------------------------------


@renders(CaseEventType.HANDOFF_SENT)
def _handoff_sent(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "to": data["to_agency"], "urgency": choice_label(Urgency, data["urgency"]),
              "services": ", ".join(choice_label(HandoffService, s) for s in data["services"])}
    if data["kind"] == HandoffKind.TRANSFER:
        return _("%(agency)s asked %(to)s to take over the case (%(urgency)s): %(services)s.") % values
    return _("%(agency)s referred the case to %(to)s (%(urgency)s): %(services)s.") % values


def _step_sentence(event_type: CaseEventType, sentence: str) -> Callable[[CaseEvent, str], str]:
    """The renderer of a step that names only the agency that took it; `sentence` is translated when
    the timeline is read."""

    @renders(event_type)
    def render(event: CaseEvent, agency: str) -> str:
        return _(sentence) % {"agency": agency}

    return render


_step_sentence(CaseEventType.HANDOFF_ACCEPTED, gettext_noop("%(agency)s accepted the handoff."))
_step_sentence(CaseEventType.HANDOFF_DECLINED, gettext_noop("%(agency)s declined the handoff."))
_step_sentence(CaseEventType.HANDOFF_WITHDRAWN, gettext_noop("%(agency)s withdrew the handoff."))
_step_sentence(CaseEventType.HANDOFF_COMPLETED, gettext_noop("%(agency)s completed the handoff."))


@renders(CaseEventType.LEAD_TRANSFERRED)
def _lead_transferred(event: CaseEvent, agency: str) -> str:
    return _("%(to)s now leads the case, taking over from %(from)s.") % {
        "to": event.data["to_agency"], "from": event.data["from_agency"]}
