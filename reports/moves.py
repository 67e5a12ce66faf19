"""Constructive proofs that a hidden count keeps three values: integer moves of the true tables.

Pure functions over keys; no database, no Django. A key is `(population, frozenset of (dimension,
value) pairs)`: the people a count is of (reports.protection.entry_keys), e.g. incidents with
province 01, type rape, sex female.

The reader's system (reports.joint) is linear: every line adds up, national = Σ provinces. The true
counts t solve it. A *move* is an integer vector d with every line's Σ c·d = 0; then t + m·d solves
every line for any integer m, and it solves the whole system when every count it changes stays
within what is published about it (a hidden count within its `<t` or `x` range, a published
number never changed). Each such point is an integer solution the reader cannot rule out, so the
values a count takes across t and the feasible points t ± d, t ± 2d are values it can have.

Moves are generated from the tables' meaning and then *checked*, never trusted: a count is a sum of
records over the cells of the full cross-classification (province × every dimension of the
population). Take 2^k records that agree on everything but k dimensions, where each of those takes
one of two values, and give them alternating signs ±1 (a k-dimensional "cube": k = 2 is the 2 × 2
rectangle of the field, k = 3 that rectangle in one province mirrored in another). A count that
does not filter on all k dimensions sees the signs cancel; a count that does sees exactly one
corner. So the move changes only the few counts that filter on all k dimensions, and every line
of every table (a row of a table is a sum over one dimension) still adds up. Every generated
move is verified against every line it touches before it is used, so a table whose lines are not
sums of that kind (a count of several tech forms per incident, for instance) just gives no move.

What this does not prove is left to the exact solver (reports.joint): the moves only remove work,
they never decide that a count is exposed. The work is bounded by counts, not by time: at most
MAX_CANDIDATES cubes per count, so the same month always gives the same proofs.
"""

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

from .joint import key_name

Key = Hashable
MIN_VALUES = 3
# Cubes tried per count (each is one candidate move, checked exactly). Bounds the work per count.
MAX_CANDIDATES = 48
# Values of an unchosen dimension tried for the records' common part.
MAX_EXTRA_CHOICES = 40


class MoveProver:
    """The month's keys indexed by what they filter on, to build and check moves quickly."""

    def __init__(self, truth: Mapping[Key, int], lines: Sequence[Sequence[tuple[Key, int]]]):
        self.truth = truth
        self.lines = lines
        # key → (line, coefficient) of every line it is in
        self.lines_of: dict[Key, list[tuple[int, int]]] = {}
        for index, line in enumerate(lines):
            for key, coefficient in line:
                self.lines_of.setdefault(key, []).append((index, coefficient))
        # population → dimension set (sorted tuple) → values (tuple in that order) → key
        self.index: dict[Hashable, dict[tuple[str, ...], dict[tuple, Key]]] = {}
        self.values: dict[tuple[Hashable, str], list] = {}
        seen_values: dict[tuple[Hashable, str], set] = {}
        for key in truth:
            population, filters = key
            items = sorted(filters)
            dims = tuple(d for d, _v in items)
            self.index.setdefault(population, {}).setdefault(dims, {})[tuple(v for _d, v in items)] = key
            for d, v in items:
                seen_values.setdefault((population, d), set()).add(v)
        for name, values in seen_values.items():
            self.values[name] = sorted(values, key=repr)
        self._orders: dict[tuple, list[tuple[str, ...]]] = {}
        self._found: list[dict[Key, int]] = []

    # -- one move ---------------------------------------------------------------------------------

    def _open(self, key: Key | None, bounds) -> bool:
        """Whether a move may change this count: not a published number."""
        if key is None:
            return True
        low, high = bounds.get(key, (0, math.inf))
        return low != high

    def move(self, population, base: Mapping[str, object], cube: Sequence[tuple[str, object, object]], bounds):
        """The move of the cube `cube` ((dimension, value, other value), …) with every other
        dimension as in `base` (and chosen here where `base` says nothing), or None."""
        cube_dims = frozenset(d for d, _a, _b in cube)
        corners = []
        for choice in itertools.product((0, 1), repeat=len(cube)):
            corner = {d: (b if pick else a) for pick, (d, a, b) in zip(choice, cube, strict=True)}
            corners.append((corner, -1 if sum(choice) % 2 else 1))
        order_name = (population, cube_dims, frozenset(base))
        signatures = self._orders.get(order_name)
        if signatures is None:
            # Signatures whose other dimensions are all known first, then the others by how many
            # dimensions remain to be chosen.
            signatures = sorted(
                (s for s in self.index.get(population, {}) if cube_dims <= set(s)),
                key=lambda s: (sum(1 for d in s if d not in cube_dims and d not in base), s),
            )
            self._orders[order_name] = signatures
        chosen: dict[str, object] = {}
        move: dict[Key, int] = {}
        for signature in signatures:
            table = self.index[population][signature]
            unknown = [d for d in signature if d not in cube_dims and d not in base and d not in chosen]
            options = [()]
            if unknown:
                options = itertools.islice(
                    itertools.product(*(self.values[(population, d)] for d in unknown)), MAX_EXTRA_CHOICES
                )
            for option in options:
                picked = dict(zip(unknown, option, strict=True))
                touched = []
                for corner, sign in corners:
                    values = tuple(
                        corner[d] if d in corner else base[d] if d in base else chosen[d] if d in chosen else picked[d]
                        for d in signature
                    )
                    touched.append((table.get(values), sign))
                if all(self._open(key, bounds) for key, _sign in touched):
                    chosen.update(picked)
                    for key, sign in touched:
                        if key is not None:
                            move[key] = move.get(key, 0) + sign
                    break
            else:
                return None
        move = {k: c for k, c in move.items() if c}
        if not move:
            return None
        balance: dict[int, int] = {}
        for key, change in move.items():
            for index, coefficient in self.lines_of.get(key, ()):
                balance[index] = balance.get(index, 0) + coefficient * change
        if any(balance.values()):
            return None
        return move

    # -- proofs -----------------------------------------------------------------------------------

    def _cubes(self, key: Key, bounds) -> Iterable[tuple[dict, list]]:
        """Candidate cubes through `key`: its own dimensions, three at a time, then two, then one;
        each other value only where the count it leads to can move."""
        population, filters = key
        base = dict(filters)
        dims = sorted(base)
        table = self.index[population]
        for size in (3, 2, 1):
            for chosen in itertools.combinations(dims, size):
                others = []
                for d in chosen:
                    signature = tuple(dims)
                    alternatives = []
                    for value in self.values[(population, d)]:
                        if value == base[d]:
                            continue
                        flipped = table[signature].get(tuple(value if e == d else base[e] for e in dims))
                        if self._open(flipped, bounds):
                            alternatives.append(value)
                    others.append(alternatives)
                for picks in itertools.product(*others):
                    flip = dict(zip(chosen, picks, strict=True))
                    # Every corner of the cube in the count's own table must be able to move.
                    if all(
                        self._open(table[signature].get(tuple(
                            flip[e] if e in flip and pick[chosen.index(e)] else base[e] for e in dims
                        )), bounds)
                        for pick in itertools.product((0, 1), repeat=size) if sum(pick) > 1
                    ):
                        yield base, [(d, base[d], v) for d, v in zip(chosen, picks, strict=True)]

    def prove(self, targets: Iterable[Key], bounds) -> dict[Key, set[int]]:
        """For each target, the values shown by moves (its true value included)."""
        targets = sorted(targets, key=key_name)
        target_set = set(targets)
        values: dict[Key, set[int]] = {k: {int(self.truth[k])} for k in targets}
        # Moves found for earlier patterns of the same month: the lines have not changed, so each
        # is still a move, and only the bounds are checked again.
        for move in self._found:
            self._record(move, values, target_set, bounds)
        tried: set = set()
        for key in targets:
            if len(values[key]) >= MIN_VALUES:
                continue
            for base, cube in itertools.islice(self._cubes(key, bounds), MAX_CANDIDATES):
                # The same cube seen from another of its corners is the same move (up to its sign,
                # and every step of both signs is tried): build it once.
                cube_dims = {d for d, _a, _b in cube}
                name = (
                    key[0], frozenset((d, v) for d, v in base.items() if d not in cube_dims),
                    frozenset((d, frozenset((a, b))) for d, a, b in cube),
                )
                if name in tried:
                    continue
                tried.add(name)
                move = self.move(key[0], base, cube, bounds)
                if move is None:
                    continue
                if self._record(move, values, target_set, bounds):
                    self._found.append(move)
                if len(values[key]) >= MIN_VALUES:
                    break
        return values

    def _record(self, move, values, target_set, bounds) -> bool:
        """Add the values of every feasible point truth + step × move; whether there was one."""
        feasible = False
        for step in (1, -1, 2, -2):
            if all(
                bounds.get(k, (0, math.inf))[0] <= self.truth[k] + step * c <= bounds.get(k, (0, math.inf))[1]
                for k, c in move.items()
            ):
                feasible = True
                for k, c in move.items():
                    if k in target_set:
                        values[k].add(int(self.truth[k] + step * c))
        return feasible
