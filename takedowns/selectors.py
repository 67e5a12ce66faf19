"""Content takedown requests, read: the requests of a case the viewer may read, and what they may do
with one (TAKEDOWN_MACHINE, the table the services check too). Writes: takedowns.services."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cases.selectors import CaseAccess, case_page_has_none
from cases.transitions import StateMachine, transition
from config.compiled import CompiledModelsByShape
from permissions.categories import GENERAL, CaseRight
from takedowns.models import TAKEDOWN_PANEL, TakedownOutcome, TakedownRequest

# The outcome of a request (cases.transitions): each action records the outcome it is named after.
# A later outcome replaces an earlier one (the same one again corrects its time); a request goes back
# to pending only from an outcome. The service, the case page's choices and the API's
# allowed_actions all read this table.
_RESOLVED = [o for o in TakedownOutcome.values if o != TakedownOutcome.PENDING]
TAKEDOWN_MACHINE = StateMachine(
    field="outcome", states=tuple(TakedownOutcome.values),
    transitions=(
        *(transition(outcome, TakedownOutcome.values, outcome, CaseRight.LOG_ACTION) for outcome in _RESOLVED),
        transition(TakedownOutcome.PENDING, _RESOLVED, TakedownOutcome.PENDING, CaseRight.LOG_ACTION),
    ),
    wrong_state=lambda takedown: _("This outcome is already recorded."),
)


def _takedowns_of(visible: tuple[str, ...], case_id: int) -> QuerySet[TakedownRequest]:
    return (
        TakedownRequest.objects.filter(case_id=case_id, action__category__in=visible)
        .select_related("action", "action__agency")
        .order_by("-requested_at", "-id")
    )


def _visible(access: CaseAccess) -> tuple[str, ...]:
    return tuple(sorted({GENERAL, *access.categories}))


def takedown_list_for_case(*, access: CaseAccess) -> QuerySet[TakedownRequest]:
    """The case's takedown requests whose action the viewer may read (by its data category)."""
    return _takedowns_of(_visible(access), access.case.pk)


# Compiled once for each set of categories a reader sees.
_TAKEDOWNS = CompiledModelsByShape(_takedowns_of, case_id="int")


def takedowns_for_case_page(*, access: CaseAccess) -> list[TakedownRequest]:
    """takedown_list_for_case's requests, read by a query compiled once (the case page's block); none
    read when the case page's statement found that the case has none (cases.selectors.case_page_has_none)."""
    if case_page_has_none(access, TAKEDOWN_PANEL):
        return []
    return _TAKEDOWNS.objects(_visible(access), case_id=access.case.pk, model=TakedownRequest)


def takedown_actions(*, access: CaseAccess, takedown: TakedownRequest) -> list[str]:
    """The outcomes the viewer may record on the request now, in TakedownOutcome's order: the case
    page's choices and the API's allowed_actions. Nothing for a person who may only read."""
    if access.agency is None or access.must_choose_agency:
        return []
    return TAKEDOWN_MACHINE.available(takedown, may=access.can)
