"""A takedown request's line on the case timeline: its writer and the renderer of the same type,
registered with cases.events.writes and cases.timeline.renders (cases imports no takedown code).
Imported by TakedownsConfig.ready(), so the type has its writer and renderer once apps are loaded.
"""

import datetime

from django.utils.translation import gettext as _

from agencies.models import Agency
from cases.events import User, event_create, writes
from cases.models import CaseEvent, CaseEventType
from cases.timeline import choice_label, renders

from .models import TakedownOutcome, TakedownPlatform, TakedownRequest

# --- Writer ----------------------------------------------------------------------------------------


@writes(CaseEventType.TAKEDOWN_OUTCOME)
def takedown_outcome_recorded(*, takedown: TakedownRequest, actor: User | None, agency: Agency,
                              at: datetime.datetime, previous: str) -> CaseEvent:
    """What the platform did, in the category of the request's action: a viewer who may not read the
    request learns only that something they cannot see was updated."""
    if takedown.outcome not in TakedownOutcome.values or previous not in TakedownOutcome.values:
        raise ValueError(f"unknown takedown outcome {takedown.outcome!r} or {previous!r}")
    return event_create(case_id=takedown.case_id, type=CaseEventType.TAKEDOWN_OUTCOME, at=at, actor=actor,
                        agency=agency, category=takedown.action.category,
                        data={"takedown_id": takedown.pk, "platform": takedown.platform,
                              "outcome": takedown.outcome, "previous": previous})


# --- Renderer --------------------------------------------------------------------------------------


@renders(CaseEventType.TAKEDOWN_OUTCOME)
def _takedown_outcome(event: CaseEvent, agency: str) -> str:
    data = event.data
    values = {"agency": agency, "platform": choice_label(TakedownPlatform, data["platform"]),
              "outcome": choice_label(TakedownOutcome, data["outcome"])}
    if data["outcome"] == TakedownOutcome.PENDING:
        return _("%(agency)s set the takedown request to %(platform)s back to pending.") % values
    return _("%(agency)s recorded the outcome of the takedown request to %(platform)s: %(outcome)s.") % values
