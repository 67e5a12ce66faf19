"""State machines declared once.

Each machine (handoff, case status, case deadline, takedown outcome, data-subject request, case
meeting, meeting minutes, action plan item) is one table of actions next to its model: the states an action starts
from, the state it leads to and who may take it (a case right, the side of a handoff, a part in a
meeting). The services check an action with `machine.check`, the pages show the buttons of
`machine.available` and the API lists the same `allowed_actions`; tests/cases/test_transitions.py
walks every (state, action) pair of every machine (the meeting's, the minutes' and the plan item's:
tests/conferences/test_transitions.py).

The tables: handoffs.models.HANDOFF_MACHINE (services in handoffs.services) and CASE_STATUS_MACHINE
(cases.services.case_change_status), deadlines.selectors.CASE_DEADLINE_MACHINE,
takedowns.selectors.TAKEDOWN_MACHINE, privacy.models.REQUEST_MACHINE (privacy.services),
conferences.models.MEETING_MACHINE, MINUTES_MACHINE and PLAN_ITEM_MACHINE (conferences.services).

Refusals are `TransitionNotAllowed`: a ValidationError (the pages show its message as they show any
other), which the API answers with 409 Conflict.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from config.exceptions import StateConflict


class TransitionNotAllowed(StateConflict):
    """The object's state (or a rule of the machine) does not allow this action now: 409 on the API."""


@dataclass(frozen=True)
class Transition:
    action: str
    # The states the action may start from.
    sources: frozenset[str]
    # The states it may lead to: one for most actions, several when the service decides (a decision
    # that grants or refuses), none when the object keeps its state (sending a declined handoff on).
    targets: frozenset[str]
    # Who may take it: a CaseRight, or for a handoff the side ("sender" or "receiver").
    right: str
    # A further rule on the object beyond its state, and the message when it does not hold.
    guard: Callable[[object], bool] | None = None
    refusal: Callable[[], str] | None = None
    # This action's own message when the state does not allow it (else the machine's).
    wrong_state: Callable[[], str] | None = None

    def allows(self, obj) -> bool:
        return self.guard is None or bool(self.guard(obj))


def transition(action: str, sources: Iterable[str], targets: Iterable[str] | str, right: str, *,
               guard: Callable[[object], bool] | None = None, refusal: Callable[[], str] | None = None,
               wrong_state: Callable[[], str] | None = None) -> Transition:
    targets = (targets,) if isinstance(targets, str) else targets
    # Plain strings, as the database gives them back (not the Choices members).
    return Transition(action, frozenset(_plain(s) for s in sources), frozenset(_plain(t) for t in targets),
                      _plain(right), guard, refusal, wrong_state)


def _plain(value) -> str:
    return getattr(value, "value", value)


@dataclass(frozen=True)
class StateMachine:
    # The model field that holds the state.
    field: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    # The message when the state does not allow the action, given the object; and the error key.
    wrong_state: Callable[[object], str] | None = None
    error_key: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(_plain(s) for s in self.states))
        actions = [t.action for t in self.transitions]
        assert len(set(actions)) == len(actions), f"an action is declared twice: {actions}"
        for t in self.transitions:
            assert t.sources <= set(self.states) and t.targets <= set(self.states), t

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(t.action for t in self.transitions)

    def __getitem__(self, action: str) -> Transition:
        for t in self.transitions:
            if t.action == action:
                return t
        raise KeyError(action)

    def state_of(self, obj) -> str:
        return getattr(obj, self.field)

    def allows(self, action: str, obj) -> bool:
        """Whether the object's state (and the action's own rule) allows the action, whoever asks."""
        t = self[action]
        return self.state_of(obj) in t.sources and t.allows(obj)

    def check(self, action: str, obj) -> Transition:
        """The action's transition, or TransitionNotAllowed saying why not."""
        t = self[action]
        state = self.state_of(obj)
        key = self.error_key or self.field
        if state not in t.sources:
            if t.wrong_state is not None:
                message = t.wrong_state()
            elif self.wrong_state is not None:
                message = self.wrong_state(obj)
            else:
                label = getattr(obj, f"get_{self.field}_display", lambda: state)()
                message = _("This is %(state)s and cannot be changed that way.") % {"state": label}
            raise TransitionNotAllowed({key: [message]})
        if not t.allows(obj):
            raise TransitionNotAllowed({key: [t.refusal() if t.refusal else _("This cannot be done now.")]})
        return t

    def available(self, obj, *, may: Callable[[str], bool]) -> list[str]:
        """The actions a viewer may take on the object now: allowed by its state and held by the
        viewer (`may(right)`). What the page shows as buttons and the API as allowed_actions."""
        return [t.action for t in self.transitions if self.allows(t.action, obj) and may(t.right)]

    def next_states(self) -> dict[str, frozenset[str]]:
        """state -> the states reachable from it in one action."""
        reachable: dict[str, set[str]] = {state: set() for state in self.states}
        for t in self.transitions:
            for source in t.sources:
                reachable[source] |= t.targets
        return {state: frozenset(targets) for state, targets in reachable.items()}

    def action_to(self, source: str, target: str) -> Transition | None:
        """The action that moves from `source` to `target`, if one does."""
        for t in self.transitions:
            if source in t.sources and target in t.targets:
                return t
        return None
