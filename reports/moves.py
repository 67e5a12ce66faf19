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

import numpy as np

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
        # The same tables as arrays: every key has a number, and each signature of a population is
        # an array over its dimensions' values (in the order of self.values) holding the number of
        # the key of each combination, or -1 where there is none. A count's cubes are then array
        # operations over its own table, shared by every count of the same shape.
        self.keys: list[Key] = list(truth)
        self.number = {key: n for n, key in enumerate(self.keys)}
        self._truth_array = np.array([truth[k] for k in self.keys] + [0], dtype=np.int64)
        self._position = {
            name: {value: i for i, value in enumerate(values)} for name, values in self.values.items()
        }
        self._arrays: dict[tuple[Hashable, tuple[str, ...]], np.ndarray] = {}
        for population, signatures in self.index.items():
            for dims, table in signatures.items():
                array = np.full([len(self.values[(population, d)]) for d in dims], -1, dtype=np.int64)
                for values, key in table.items():
                    array[tuple(self._position[(population, d)][v] for d, v in zip(dims, values, strict=True))] = (
                        self.number[key]
                    )
                self._arrays[(population, dims)] = array
        self._orders: dict[tuple, list[tuple[str, ...]]] = {}
        self._within_cache: dict[tuple, list[tuple[np.ndarray, list[int]]]] = {}
        self._found: list[dict[Key, int]] = []
        self._found_names: set = set()
        self._found_by_key: dict[Key, list[int]] = {}
        # What a cube (or a count's list of cubes) was built from: every count it asked "may this
        # move?" about, split by the answer. When every one of them gets the same answer under
        # later bounds, building it again would give the same result (it reads nothing else), so it
        # is re-used: exact, and a later check of the month only builds what its changes touch.
        self._moves: dict[tuple, tuple[dict[Key, int] | None, frozenset, frozenset]] = {}

    @staticmethod
    def _still(probes_open: frozenset, probes_closed: frozenset, closed) -> bool:
        """Whether every count asked about gets the same answer under `closed`."""
        return probes_open.isdisjoint(closed) and probes_closed <= closed

    # -- one move ---------------------------------------------------------------------------------

    def move(self, population, base: Mapping[str, object], cube: Sequence[tuple[str, object, object]], closed,
             seen: set):
        """The move of the cube `cube` ((dimension, value, other value), …) with every other
        dimension as in `base` (and chosen here where `base` says nothing), or None. `closed` are
        the published numbers (counts a move may not change); every count looked at is added to
        `seen`."""
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
                keys = [key for key, _sign in touched if key is not None]
                seen.update(keys)
                if closed.isdisjoint(keys):
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

    def _move(self, name, population, base, cube, closed):
        """`move`, re-used from an earlier check when nothing it looked at changed."""
        cached = self._moves.get(name)
        if cached is not None and self._still(cached[1], cached[2], closed):
            return cached[0]
        seen: set = set()
        result = self.move(population, base, cube, closed, seen)
        self._moves[name] = (result, frozenset(seen - closed), frozenset(seen & closed))
        return result

    # -- proofs -----------------------------------------------------------------------------------

    def _cubes(self, key: Key, state) -> Iterable[tuple[dict, list]]:
        """Candidate cubes through `key`, at most MAX_CANDIDATES: its own dimensions, three at a
        time, then two, then one, each combination of other values in the order of self.values;
        each other value only where the count it leads to can move (is not a published number),
        and only where every corner of the cube in the count's own table can move. Of those, only
        the cubes whose corners allow a step (`_corner_steps`) are given: the others count towards
        the limit but their move would add nothing. (Such a cube fails the same way seen from any
        of its corners: the same counts, all signs reversed, and the steps tried are symmetric.)"""
        closed, low, high = state
        population, filters = key
        base = dict(filters)
        dims = sorted(base)
        ids = self._arrays[(population, tuple(dims))]
        movable = ~closed[ids]  # a missing combination (-1) reads the last entry: not closed
        origin = tuple(self._position[(population, d)][base[d]] for d in dims)
        left = MAX_CANDIDATES
        for size in (3, 2, 1):
            for chosen in itertools.combinations(range(len(dims)), size):
                # mask[x1, …, xk]: every corner with two or more flipped dimensions can move, and
                # so can every count one flip away (the other values tried).
                mask = None
                for pick in itertools.product((0, 1), repeat=size):
                    if not any(pick):
                        continue
                    flipped = {chosen[t] for t in range(size) if pick[t]}
                    part = movable[tuple(slice(None) if e in flipped else origin[e] for e in range(len(dims)))]
                    part = part.reshape([ids.shape[c] if c in flipped else 1 for c in chosen])
                    mask = part if mask is None else mask & part
                for t, c in enumerate(chosen):
                    own = [slice(None) if u == t else None for u in range(size)]
                    not_base = np.ones(ids.shape[c], dtype=bool)
                    not_base[origin[c]] = False
                    mask = mask & not_base[tuple(own)]
                picks = np.argwhere(mask)[:left]
                if not len(picks):
                    continue
                left -= len(picks)
                steps = self._corner_steps(population, dims, origin, chosen, picks, low, high)
                for row in picks[steps].tolist():
                    yield base, [
                        (dims[c], base[dims[c]], self.values[(population, dims[c])][x])
                        for c, x in zip(chosen, row, strict=True)
                    ]
                if not left:
                    return

    def _within(self, population, dims, chosen) -> list[tuple[np.ndarray, list[int]]]:
        """The signatures a move of a cube over `chosen` (positions in `dims`) meets with every
        dimension known: those holding the chosen dimensions and no dimension outside `dims`; each
        as its array and the position in `dims` of each of its dimensions."""
        name = (population, dims, chosen)
        found = self._within_cache.get(name)
        if found is None:
            need = {dims[c] for c in chosen}
            found = [
                (self._arrays[(population, signature)], [dims.index(d) for d in signature])
                for signature in sorted(self.index[population])
                if need <= set(signature) <= set(dims)
            ]
            self._within_cache[name] = found
        return found

    def _corner_steps(self, population, dims, origin, chosen, picks, low, high) -> np.ndarray:
        """For each cube (a row of `picks`: the other value of each chosen dimension), whether some
        step in ±1, ±2 keeps every corner of it within its bounds, in every table signature whose
        dimensions are all known (the count's own table among them). The move of the cube changes
        each of those counts by exactly its corner's sign (move() takes its only combination there;
        each corner is a different count), and a published number cannot move at all (its bounds
        are one value): when no common step passes here, move() finds no move or `_record` no
        feasible point, so it need not be built."""
        size, count = len(chosen), len(picks)
        corners = []
        for ids, positions in self._within(population, tuple(dims), chosen):
            index: list = []
            for position in positions:
                if position in chosen:
                    t = chosen.index(position)
                    both = np.stack([np.full(count, origin[position]), picks[:, t]])
                    index.append(both.reshape([2 if u == t else 1 for u in range(size)] + [count]))
                else:
                    index.append(origin[position])
            corners.append(ids[tuple(index)].reshape(2**size, count))
        corner = np.concatenate(corners)
        # The sign of each corner: −1 for an odd number of flipped dimensions (C order of the picks).
        flips = np.array([sum(pick) for pick in itertools.product((0, 1), repeat=size)] * len(corners))
        sign = np.where(flips % 2 == 1, -1, 1)[:, None]
        value, low, high = self._truth_array[corner], low[corner], high[corner]
        ok = np.ones((4, count), dtype=bool)
        for s, step in enumerate((1, -1, 2, -2)):
            moved = value + step * sign
            ok[s] = ((corner < 0) | ((low <= moved) & (moved <= high))).all(axis=0)
        return ok.any(axis=0)

    def _state(self, bounds):
        """The bounds as arrays over key numbers (one more entry for "no key": open, unbounded)."""
        closed = np.zeros(len(self.keys) + 1, dtype=bool)
        low = np.zeros(len(self.keys) + 1)
        high = np.full(len(self.keys) + 1, math.inf)
        for key, (lo, hi) in bounds.items():
            n = self.number.get(key)
            if n is not None:
                closed[n], low[n], high[n] = lo == hi, lo, hi
        return closed, low, high

    def prove(self, targets: Iterable[Key], bounds) -> dict[Key, set[int]]:
        """For each target, the values shown by moves (its true value included)."""
        targets = sorted(targets, key=key_name)
        target_set = set(targets)
        closed = {k for k, (low, high) in bounds.items() if low == high}
        state = self._state(bounds)
        values: dict[Key, set[int]] = {k: {int(self.truth[k])} for k in targets}
        # Moves found for earlier patterns of the same month: the lines have not changed, so each
        # is still a move, and only the bounds are checked again (only those through a target can
        # add a value).
        for index in sorted({i for k in targets for i in self._found_by_key.get(k, ())}):
            self._record(self._found[index], values, target_set, bounds)
        tried: set = set()
        for key in targets:
            if len(values[key]) >= MIN_VALUES:
                continue
            for base, cube in self._cubes(key, state):
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
                move = self._move(name, key[0], base, cube, closed)
                if move is None:
                    continue
                if self._record(move, values, target_set, bounds) and name not in self._found_names:
                    self._found_names.add(name)
                    for k in move:
                        self._found_by_key.setdefault(k, []).append(len(self._found))
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
