"""The joint check: can a reader who solves everything published together narrow a hidden count?

Pure functions over counts and their keys; no database, no Django. The solver is HiGHS, through
SciPy's `milp` (an exact branch-and-bound integer program solver).

The reader modelled here holds every table of a month, of every scope and every version already
published, and knows the rules:

* a published number is exact (zeros included);
* "<t" is 1 … t−1 and "x" is t or more, with t the entry's own threshold;
* a count shown in several tables is one unknown (one key);
* every line of every table adds up, and a national count is the sum of the same count in every
  province;
* nothing is published about a withheld table.

A *protected* count (a hidden one that is not zero) must keep at least MIN_VALUES possible values
among all integer solutions of that system. We prove it by exhibiting them: every integer point
found satisfies every published fact, so the values a count takes across the points found are
values the reader cannot rule out. Most points come from reports.moves (the true counts plus or
minus a checked integer move: `JointSystem.proven`); for the counts those leave, points come from
HiGHS, on components of at most MAX_SOLVED_UNKNOWNS unknowns: a few solves with random objectives
(they move many counts at once), then solves that maximise and minimise one count and look between
the values found. A count for which three values cannot be exhibited is reported as exposed: the
answer errs only on the side of hiding more. Every limit is a limit of work (solves, branch-and-
bound nodes, size), never of time, so the answer does not depend on the machine's load: the same
month always gives the same publication.

The system falls apart into independent components: a count is linked to another only through a
line where both are hidden (published counts are constants), and different populations (cases,
incidents, actions, …) and months never share a line. Each component is solved on its own, which
keeps the integer programs small.
"""

import math
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds as VariableBounds
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_array

MIN_VALUES = 3
# An upper bound for counts published as "x" (t or more): the reader knows none, and a bound only
# narrows what the solver may show, so the check stays on the safe side.
UNBOUNDED = 10**7
RANDOM_ROUNDS = 4
# Work limits, not time limits: the same month must always give the same publication, whatever
# the load of the machine. A solve explores at most SOLVE_NODE_LIMIT branch-and-bound nodes (any
# integer point it returns is checked exactly, optimal or not); a check makes at most MAX_SOLVES
# solves over all components together and MAX_GAP_SOLVES solves for values in between.
SOLVE_NODE_LIMIT = 50
MAX_SOLVES = 40
MAX_GAP_SOLVES = 200
# Components with more unknowns than this are not given to the solver at all (HiGHS's work on its
# root node is not bounded by the node limit, and on the national month's largest components it
# takes minutes of CPU): their targets are decided by the constructive proofs of reports.moves only.
MAX_SOLVED_UNKNOWNS = 400

Key = Hashable
Line = Sequence[tuple[Key, int]]  # Σ coefficient × count = 0


@dataclass
class JointSystem:
    """What a reader knows. `bounds` maps every key to what is published about it (lo == hi: an
    exact number; hi may be math.inf); `lines` are the linear facts; `truth` is a known solution
    when there is one (the raw counts when building, none for an attacker); `targets` are the keys
    that must keep MIN_VALUES values."""

    bounds: dict[Key, tuple[float, float]]
    lines: list[Line]
    targets: set[Key]
    truth: Mapping[Key, int] | None = None
    stats: dict = field(default_factory=dict)
    # Values already exhibited for targets by integer solutions found elsewhere (reports.moves:
    # each one a checked solution of every line and bound). A target with MIN_VALUES of them is
    # protected; the others start from them.
    proven: Mapping[Key, set[int]] = field(default_factory=dict)


_KEY_NAMES: dict = {}
_KEY_NAMES_LIMIT = 1_000_000


def key_name(key) -> str:
    """A name of a key that is the same in every process: repr() of a frozenset lists its members in
    hash order, which changes with Python's hash seed, so it must not decide any order (which count
    is hidden next, which counts share a solve): the same month must give the same publication.
    Names are remembered (a month sorts the same keys again and again); the memory is bounded."""
    if isinstance(key, set):
        return _key_name(key)
    name = _KEY_NAMES.get(key)
    if name is None:
        if len(_KEY_NAMES) >= _KEY_NAMES_LIMIT:
            _KEY_NAMES.clear()
        name = _KEY_NAMES[key] = _key_name(key)
    return name


def _key_name(key) -> str:
    if isinstance(key, frozenset | set):
        return "{" + ", ".join(sorted(_key_name(member) for member in key)) + "}"
    if isinstance(key, tuple):
        return "(" + ", ".join(_key_name(member) for member in key) + ")"
    return repr(key)


def _find(parent: dict, key):
    while parent[key] != key:
        parent[key] = parent[parent[key]]
        key = parent[key]
    return key


def _components(unknowns: Iterable[Key], lines: list[list[tuple[Key, int]]]) -> list[list[Key]]:
    parent = {k: k for k in unknowns}
    for line in lines:
        first = _find(parent, line[0][0])
        for key, _c in line[1:]:
            other = _find(parent, key)
            if other != first:
                parent[other] = first
    groups: dict[Key, list[Key]] = {}
    for key in parent:
        groups.setdefault(_find(parent, key), []).append(key)
    return list(groups.values())


class _Component:
    """One independent part of the system as an integer program."""

    def __init__(self, keys: list[Key], lines: list[tuple[list[tuple[Key, int]], int]], bounds):
        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        rows, columns, data, rhs = [], [], [], []
        for r, (terms, constant) in enumerate(lines):
            for key, coefficient in terms:
                rows.append(r)
                columns.append(self.index[key])
                data.append(coefficient)
            rhs.append(constant)
        self.matrix = coo_array((data, (rows, columns)), shape=(len(lines), len(keys))).tocsr()
        self.rhs = np.array(rhs, dtype=float)
        self.lower = np.array([bounds[k][0] for k in keys], dtype=float)
        self.upper = np.array([min(bounds[k][1], UNBOUNDED) for k in keys], dtype=float)
        self.solves = 0

    def solve(self, objective: np.ndarray, lower=None, upper=None) -> np.ndarray | None:
        """An integer point minimising the objective, checked exactly against every fact."""
        self.solves += 1
        constraints = [LinearConstraint(self.matrix, self.rhs, self.rhs)] if self.matrix.shape[0] else []
        result = milp(
            objective, constraints=constraints, integrality=np.ones(len(self.keys)),
            bounds=VariableBounds(self.lower if lower is None else lower, self.upper if upper is None else upper),
            options={"node_limit": SOLVE_NODE_LIMIT, "presolve": True},
        )
        if result.x is None:
            return None
        point = np.rint(result.x)
        low = self.lower if lower is None else lower
        high = self.upper if upper is None else upper
        if np.any(point < low) or np.any(point > high):
            return None
        if self.matrix.shape[0] and np.any(self.matrix @ point != self.rhs):
            return None
        return point


def _gap_values(component: _Component, key: Key, values: set[int]) -> None:
    """Look for values of `key` strictly between the values already found, until MIN_VALUES are
    known or no gap is left."""
    i = component.index[key]
    while len(values) < MIN_VALUES:
        known = sorted(values)
        gaps = [(a + 1, b - 1) for a, b in zip(known, known[1:], strict=False) if b - a >= 2]
        found = False
        for low, high in gaps:
            lower, upper = component.lower.copy(), component.upper.copy()
            lower[i], upper[i] = low, high
            point = component.solve(np.zeros(len(component.keys)), lower, upper)
            if point is not None:
                values.add(int(point[i]))
                found = True
                break
        if not found:
            return


def _single_line_values(terms: list[tuple[Key, int]], constant: int, bounds, key: Key) -> int:
    """How many values `key` can take in the integer solutions of one line Σ c·x = constant with
    every c = ±1 and each x within its bounds: every integer between the smallest and the largest
    value the others allow (they can absorb any step of one), so the count is exact."""
    own = dict(terms)[key]
    low_rest = high_rest = 0
    for other, coefficient in terms:
        if other == key:
            continue
        lo, hi = bounds[other]
        lo, hi = lo * coefficient, hi * coefficient
        low_rest += min(lo, hi)
        high_rest += max(lo, hi)
    # own·x = constant − rest, rest in [low_rest, high_rest]
    a, b = (constant - high_rest) * own, (constant - low_rest) * own
    lo, hi = bounds[key]
    lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    if hi == math.inf:
        return MIN_VALUES
    return max(0, int(hi - lo + 1))


def _peel(reduced, bounds, targets):
    """Drop every line that only defines a count nothing bounds. Such a count u has nothing
    published about it (a cell of a withheld table; not a target), is in no other line, has
    coefficient ±1, and is the total of its line: every other unknown has the opposite sign and
    the constant the sign that makes u = constant' + Σ |c|·x, which is an integer of at least 0
    for any other unknowns x at least 0. So the line constrains nothing else: the integer
    solutions of the other lines are exactly those of the whole (u takes the value the line
    gives). Repeated until none is left."""
    def free(key):
        return key not in targets and bounds.get(key, (0, math.inf)) == (0, math.inf)

    uses: dict[Key, int] = {}
    for terms, _c in reduced:
        for key, _ in terms:
            uses[key] = uses.get(key, 0) + 1
    alive = [True] * len(reduced)
    changed = True
    while changed:
        changed = False
        for index, (terms, constant) in enumerate(reduced):
            if not alive[index]:
                continue
            for key, coefficient in terms:
                if (
                    uses[key] == 1 and abs(coefficient) == 1 and free(key) and constant * coefficient >= 0
                    and all(c * coefficient < 0 and bounds.get(k, (0, math.inf))[0] >= 0 for k, c in terms if k != key)
                ):
                    alive[index] = False
                    for k, _ in terms:
                        uses[k] -= 1
                    changed = True
                    break
    return [line for line, keep in zip(reduced, alive, strict=True) if keep]


def exposed_keys(system: JointSystem, *, seed: int = 0) -> set[Key]:
    """The targets a reader can narrow to fewer than MIN_VALUES values."""
    bounds = system.bounds
    proven = system.proven
    all_targets = {k for k in system.targets if len(proven.get(k, ())) < MIN_VALUES}
    exposed: set[Key] = set()
    reduced: list[tuple[list[tuple[Key, int]], int]] = []
    for line in system.lines:
        terms: dict[Key, int] = {}
        constant = 0
        for key, coefficient in line:
            low, high = bounds.get(key, (0, math.inf))
            if low == high:
                constant -= coefficient * int(low)
            else:
                terms[key] = terms.get(key, 0) + coefficient
        terms = {k: c for k, c in terms.items() if c}
        if terms:
            reduced.append((sorted(terms.items(), key=lambda kc: key_name(kc[0])), constant))
    reduced = _peel(reduced, bounds, all_targets)
    unknowns = {k for terms, _c in reduced for k, _ in terms} | {
        k for k in all_targets if bounds.get(k, (0, math.inf))[0] != bounds.get(k, (0, math.inf))[1]
    }
    full_bounds = {k: bounds.get(k, (0, math.inf)) for k in unknowns}
    for k in all_targets:
        low, high = full_bounds.get(k, bounds.get(k, (0, math.inf)))
        if high - low + 1 < MIN_VALUES:
            exposed.add(k)
    rng = random.Random(seed)
    # In an order that does not depend on Python's hash seed: which counts share a solve, and so
    # which points are found, must be the same in every process (the same month, the same result).
    names = {k: key_name(k) for k in unknowns}
    components = sorted(
        (sorted(keys, key=names.__getitem__) for keys in _components(sorted(unknowns, key=names.__getitem__),
                                                                      [terms for terms, _c in reduced])),
        key=lambda keys: names[keys[0]],
    )
    line_of: dict[Key, list[int]] = {}
    for index, (terms, _c) in enumerate(reduced):
        for key, _ in terms:
            line_of.setdefault(key, []).append(index)
    largest = 0
    hard: list[tuple[list[Key], list[int], list[Key], tuple]] = []
    for keys in components:
        targets = [k for k in keys if k in all_targets and k not in exposed]
        if not targets:
            continue
        line_ids = sorted({i for k in keys for i in line_of.get(k, ())})
        if not line_ids:
            continue  # each count on its own: its bounds were checked above
        largest = max(largest, len(keys))
        if len(line_ids) == 1 and all(abs(c) == 1 for _k, c in reduced[line_ids[0]][0]):
            terms, constant = reduced[line_ids[0]]
            exposed.update(
                k for k in targets if _single_line_values(terms, constant, full_bounds, k) < MIN_VALUES
            )
            continue
        if len(keys) > MAX_SOLVED_UNKNOWNS:
            # Too large to solve with a bounded amount of work: what the moves (system.proven) did not
            # show is counted as exposed, and the caller hides more.
            exposed.update(targets)
            continue
        hard.append((keys, line_ids, targets, None))
    solves = 0
    if hard:
        # Independent components solved as one integer program: with an objective that is a sum
        # over components, its optimum is each component's optimum, so one solve serves them all.
        union_keys = sorted({k for keys, *_ in hard for k in keys}, key=names.__getitem__)
        union = _Component(union_keys, [reduced[i] for _k, ids, *_ in hard for i in ids], full_bounds)
        values: dict[Key, set[int]] = {k: set() for _k, _i, targets, _s in hard for k in targets}
        if system.truth is not None:
            for k in values:
                values[k].add(int(system.truth[k]))
        for k in values:
            values[k] |= set(proven.get(k, ()))
        pending = [k for k in values if len(values[k]) < MIN_VALUES]

        def record(point):
            nonlocal pending
            if point is None:
                return
            for k in pending:
                values[k].add(int(point[union.index[k]]))
            pending = [k for k in pending if len(values[k]) < MIN_VALUES]

        for _round in range(RANDOM_ROUNDS):
            if not pending:
                break
            record(union.solve(np.array([rng.choice((-1.0, 1.0)) for _ in union_keys])))
        for sign in (-1.0, 1.0):  # push every pending count up, then down
            if pending:
                objective = np.zeros(len(union_keys))
                objective[[union.index[k] for k in pending]] = sign
                record(union.solve(objective))
        group_of = {k: g for g, (_keys, _ids, targets, _s) in enumerate(hard) for k in targets}
        tried: set[tuple[Key, float]] = set()
        gap_solves = 0
        while pending and union.solves < MAX_SOLVES:
            # One pending count per component and direction per solve.
            chosen: dict[int, tuple[Key, float]] = {}
            for k in pending:
                for sign in (-1.0, 1.0):
                    if (k, sign) not in tried and group_of[k] not in chosen:
                        chosen[group_of[k]] = (k, sign)
            if not chosen:
                break
            objective = np.zeros(len(union_keys))
            for k, sign in chosen.values():
                objective[union.index[k]] = sign
                tried.add((k, sign))
            record(union.solve(objective))
        for keys, ids, targets, _signature in hard:
            short = [k for k in targets if len(values[k]) < MIN_VALUES]
            if short and gap_solves < MAX_GAP_SOLVES:
                component = _Component(sorted(keys, key=names.__getitem__), [reduced[i] for i in ids], full_bounds)
                for k in short:
                    if gap_solves + component.solves >= MAX_GAP_SOLVES:
                        break
                    _gap_values(component, k, values[k])
                gap_solves += component.solves
                solves += component.solves
            found = frozenset(k for k in targets if len(values[k]) < MIN_VALUES)
            exposed |= found
        solves += union.solves
    system.stats.update(components=len(components), largest=largest, solves=solves, exposed=len(exposed))
    return exposed
