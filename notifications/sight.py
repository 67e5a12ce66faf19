"""Who may be shown, and told of, a deadline about a case: an agency that sees the case now.

A deadline names its case by plain values (case_id, case_number, link): this app imports no case code,
so the rule of who sees a case is registered by the app that holds it (cases.apps registers
cases.selectors.case_seen_by_agency). Without one, no agency sees a deadline about a case: the rule fails
closed.

- A deadline about a case is listed for an agency, and its reminder, overdue notice and escalation are sent
  to that agency's people, only while that agency sees the case: at the instant a consent is withdrawn or
  expires, a handoff ends or the lead moves, with no task to run and nothing written (the access rows'
  validity, cases.selectors.viewing_rows).
- While its owner agency cannot see the case, the deadline is answered by the agency it escalates to (a plan
  item's coordinating agency; the lead, for a follow-up another agency set), if that agency sees the case:
  its supervisors list it, are reminded and told when it is overdue, as the owner's people would be; it
  returns to the owner when the owner sees the case again. With no such agency it is listed for no one and
  its escalation reaches the province's coordinators alone, as any escalation does.
- Deadlines answered under their subject's own access are left out (their apps register the subject's
  prefix): a handoff's response deadline is the receiving agency's answer to a handoff it reads before it
  sees the case (handoffs), a supervisor's review follow-up is about a handoff, an override or a break-glass
  use that supervisor reviews (supervision). A deadline about no case is everyone's it names.
"""

import datetime
from collections.abc import Callable

from django.db.models import BooleanField, Expression, ExpressionWrapper, OuterRef, Q

# condition(case_id=..., agency_id=..., now=...): a boolean expression (an EXISTS) that the agency sees the
# case at `now`; the case and agency are values or expressions of the outer query (OuterRef).
_case_sight: Callable[..., Expression] | None = None
_own_access_prefixes: list[str] = []


def deadline_case_sight_register(condition: Callable[..., Expression]) -> None:
    """The case app's rule of who sees a case (called from its AppConfig.ready)."""
    global _case_sight
    _case_sight = condition


def deadline_own_access_register(prefix: str) -> None:
    """Deadlines whose subject starts with `prefix` are answered under that subject's own access, not the
    case's (called from the AppConfig.ready of the app that writes them)."""
    if prefix and prefix not in _own_access_prefixes:
        _own_access_prefixes.append(prefix)


def deadline_seen(*, agency, now: datetime.datetime) -> Q:
    """A condition on deadlines: the agency (an id, or an expression such as OuterRef("owner_agency_id"))
    may be shown the deadline and told of it at `now` (module docstring)."""
    outside_case_sight = Q(case_id__isnull=True)
    for prefix in _own_access_prefixes:
        outside_case_sight |= Q(subject__startswith=prefix)
    if _case_sight is None:
        return outside_case_sight
    return outside_case_sight | Q(_case_sight(case_id=OuterRef("case_id"), agency_id=agency, now=now))


def deadline_sight_annotations(*, now: datetime.datetime) -> dict[str, ExpressionWrapper]:
    """`owner_sees` and `escalation_sees` for a queryset of deadlines (no query of their own): what
    deadline_answering_agency_id reads."""
    return {
        name: ExpressionWrapper(deadline_seen(agency=OuterRef(field), now=now), output_field=BooleanField())
        for name, field in (("owner_sees", "owner_agency_id"), ("escalation_sees", "escalate_agency_id"))
    }


def deadline_escalation_sees(deadline) -> bool:
    """Whether the agency the deadline escalates to may be told of it now (deadline_sight_annotations)."""
    return deadline.escalate_agency_id is not None and bool(deadline.escalation_sees)


def deadline_answering_agency_id(deadline) -> int | None:
    """The agency that answers for the deadline now, from the annotations of deadline_sight_annotations: its
    owner agency while it sees the case, else the agency it escalates to while that one does, else none."""
    if deadline.owner_sees:
        return deadline.owner_agency_id
    if deadline_escalation_sees(deadline):
        return deadline.escalate_agency_id
    return None
