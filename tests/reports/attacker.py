"""The adversary of issue 9: a national analyst who holds every published report (the national one
and every province's, every month, every version) and solves them together as one integer program.

Written against the published data only; it shares no code with reports.joint:
* a count shown in several tables (or twice in one) is one unknown, named by what it counts (its
  population and its filters: province, type, sex, age band, …);
* a published number is exact (zeros too); "<t" is 1 … t−1; "x" is t or more (t: the entry's
  threshold); a withheld table says nothing;
* every line of every table adds up, and each national count is the sum of the same count in the
  provinces (an unknown even where no province publishes it);
* the versions of a correction are separate unknowns (the data changed); every version of a month
  is in the month's program.

The verdict on each hidden count is exact: "three values or more" only when three integer solutions
of everything published that give it three different values have been found (and checked in exact
integer arithmetic); otherwise its smallest and largest values are proved by the solver (HiGHS,
through SciPy's `milp`, relative gap 0) and a value between them is looked for.

It is fast by sound means only:
* published numbers are constants, so a count is linked to another only through a line where both
  are hidden (or unpublished): the system falls apart into independent components;
* a component of one line with unit coefficients is decided by counting (the other entries' sum
  takes every integer between its smallest and largest value);
* the other components are solved together, one count per component in each program (the
  objective is separable across components, so the optimum is every component's own), starting
  with integer points for random objectives: a count seen with three values needs nothing more;
* identical components (same lines, same constants, same bounds) are solved once.
"""

import math
from collections import Counter, defaultdict

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

CAP = 10**6  # an "x" or unpublished count above a million adds nothing: three values are far below
OPTIONS = {"mip_rel_gap": 0.0}


def entries(report: dict):
    """(key, published value, threshold, position) of every entry of every table a report publishes."""
    scope = report["scope"]
    base = (("province", scope["code"]),) if scope["level"] == "province" else ()
    for table in report["tables"]:
        if table["withheld"]:
            continue
        fixed = base + tuple((table.get("fixed") or {}).items())
        rows = [((table["row_dim"], r),) for r in table["rows"]] + [()]
        columns = [tuple(zip(table["col_dims"], c, strict=True)) for c in table["columns"]] + [()]
        limits = table.get("entry_thresholds")
        for i, row in enumerate(rows):
            for j, column in enumerate(columns):
                last_row, last_column = i == len(rows) - 1, j == len(columns) - 1
                if not last_row and not last_column:
                    value = table["cells"][i][j]
                    threshold = limits["cells"][i][j] if limits else table["threshold"]
                elif not last_row:
                    value = table["row_totals"][i]
                    threshold = limits["row_totals"][i] if limits else table["threshold"]
                elif not last_column:
                    value = table["column_totals"][j]
                    threshold = limits["column_totals"][j] if limits else table["threshold"]
                else:
                    value, threshold = table["total"], limits["total"] if limits else table["threshold"]
                key = (table["population"], frozenset(fixed + row + column))
                yield key, value, threshold, (i, j, len(rows), len(columns), table["key"])


class _Component:
    """Unknowns linked by lines that hold two or more of them, the published numbers moved to the
    right-hand side: Σ coefficient × unknown = rhs for every line."""

    def __init__(self, variables: list, lines: list, lower: list, upper: list):
        self.variables = variables
        self.position = {v: k for k, v in enumerate(variables)}
        self.lines = lines  # [(dict var -> coefficient, rhs)]
        self.lower = np.array([lower[v] for v in variables], dtype=float)
        self.upper = np.array([min(upper[v], CAP) for v in variables], dtype=float)
        entries = [(r, self.position[v], c) for r, (row, _rhs) in enumerate(lines) for v, c in row.items()]
        rows, columns, values = zip(*entries, strict=True) if entries else ((), (), ())
        self.matrix = sparse.csr_matrix((values, (rows, columns)), shape=(len(lines), len(variables)))
        self.rhs = np.array([rhs for _row, rhs in lines], dtype=float)

    def signature(self) -> tuple:
        return (
            tuple((tuple(sorted((self.position[v], c) for v, c in row.items())), rhs) for row, rhs in self.lines),
            tuple(self.lower), tuple(self.upper),
        )

    def holds(self, point: dict) -> bool:
        """Whether an integer point satisfies every line and bound exactly."""
        for v in self.variables:
            k = self.position[v]
            if not self.lower[k] <= point[v] <= self.upper[k]:
                return False
        return all(sum(c * point[v] for v, c in row.items()) == rhs for row, rhs in self.lines)


class Attack:
    """Everything published, as one integer program per month and population. `systems` maps a tag
    to the reports published together from one state of the data (all scopes of a first
    publication; one scope's correction). A tag is a tuple that starts with the month, or a plain
    name for the single month of a test."""

    def __init__(self, systems: dict):
        self.index: dict = {}
        self.lower: list = []
        self.upper: list = []
        self.rows: list[dict] = []
        self.hidden: set = set()
        self.shown: dict = defaultdict(list)  # var -> [(tag, scope, table, row, column, published)]
        self.tables = 0
        for tag, reports in systems.items():
            keys = []
            for report in reports:
                scope = report["scope"].get("code", "national")
                grids: dict = defaultdict(dict)
                for key, value, threshold, (i, j, m, n, table) in entries(report):
                    var = self._var((tag, key))
                    keys.append(key)
                    if isinstance(value, int):
                        low, high = value, value
                    elif value == "x":
                        low, high = threshold, math.inf
                        self.hidden.add(var)
                    else:
                        assert value == f"<{threshold}", value
                        low, high = 1, threshold - 1
                        self.hidden.add(var)
                    self.lower[var] = max(self.lower[var], low)
                    self.upper[var] = min(self.upper[var], high)
                    grids[table][(i, j)] = (var, m, n)
                    self.shown[var].append((tag, scope, table, i, j, value))
                self.tables += len(grids)
                for grid in grids.values():
                    (_v, m, n) = next(iter(grid.values()))
                    for i in range(m):
                        self._line({grid[(i, j)][0]: 1 for j in range(n - 1)}, grid[(i, n - 1)][0])
                    for j in range(n):
                        self._line({grid[(i, j)][0]: 1 for i in range(m - 1)}, grid[(m - 1, j)][0])
            provinces = sorted({r["scope"]["code"] for r in reports if r["scope"]["level"] == "province"})
            national = any(r["scope"]["level"] == "national" for r in reports)
            if national and provinces:
                for key in dict.fromkeys(keys):
                    if any(d == "province" for d, _ in key[1]):
                        continue
                    parts = {self._var((tag, (key[0], key[1] | {("province", p)}))): 1 for p in provinces}
                    self._line(parts, self.index[(tag, key)])
        self._names = {v: name for name, v in self.index.items()}
        self.solves = 0
        self.stats: dict = {}
        self._prepared = False

    def _var(self, name) -> int:
        if name not in self.index:
            self.index[name] = len(self.index)
            self.lower.append(0)
            self.upper.append(math.inf)
        return self.index[name]

    def _line(self, parts: dict, total: int) -> None:
        row = Counter(parts)
        row[total] -= 1
        self.rows.append({v: c for v, c in row.items() if c})

    def population(self, var: int):
        """The independent system a count belongs to: its population within one month."""
        tag, key = self._names[var]
        return (tag[0] if isinstance(tag, tuple) else None, key[0])

    # --- Components -----------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Published numbers become constants; the rest falls into components."""
        if self._prepared:
            return
        self._prepared = True
        for v, (low, high) in enumerate(zip(self.lower, self.upper, strict=True)):
            assert low <= high, f"the published reports contradict each other on {self._names[v]}"
        constant = {v: self.lower[v] for v in range(len(self.index)) if self.lower[v] == self.upper[v]}
        parent = list(range(len(self.index)))

        def find(v):
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        reduced = []
        for row in self.rows:
            rhs = -sum(c * constant[v] for v, c in row.items() if v in constant)
            free = {v: c for v, c in row.items() if v not in constant}
            if not free:
                assert rhs == 0, "the published reports do not add up"
                continue
            reduced.append((free, rhs))
            first, *others = free
            for v in others:
                a, b = find(first), find(v)
                if a != b:
                    parent[b] = a
        members = defaultdict(list)
        for v in range(len(self.index)):
            if v not in constant:
                members[find(v)].append(v)
        lines = defaultdict(list)
        for free, rhs in reduced:
            lines[find(next(iter(free)))].append((free, rhs))
        self.constant = constant
        self.component_of: dict = {}
        self._groups: list = []
        self._built: dict[int, _Component] = {}
        for root, variables in members.items():
            for v in variables:
                self.component_of[v] = len(self._groups)
            self._groups.append((variables, lines[root]))

    def component(self, c: int) -> _Component:
        if c not in self._built:
            self._built[c] = _Component(*self._groups[c], self.lower, self.upper)
        return self._built[c]

    @staticmethod
    def _counted(component: _Component, var: int) -> tuple[int, int] | None:
        """The exact range of an unknown of a component with at most one line with unit
        coefficients (None for any other component); every integer of it is a value."""
        k = component.position[var]
        low, high = component.lower[k], component.upper[k]
        if not component.lines:
            return int(low), int(high)
        if len(component.lines) > 1:
            return None
        row, rhs = component.lines[0]
        if any(abs(c) != 1 for c in row.values()):
            return None
        # a·x = rhs − S, S = Σ others a_i·x_i, which takes every integer between its bounds.
        s_low = s_high = 0.0
        for v, c in row.items():
            if v == var:
                continue
            p = component.position[v]
            lo, hi = (component.lower[p], component.upper[p]) if c > 0 else (-component.upper[p], -component.lower[p])
            s_low, s_high = s_low + lo, s_high + hi
        a = row[var]
        first, second = a * (rhs - s_high), a * (rhs - s_low)
        low, high = max(low, min(first, second)), min(high, max(first, second))
        return int(low), int(high)

    # --- Integer programs over several components at once -------------------------------------

    def _solve(self, components: list[int], objective: dict, bounds: dict | None = None) -> dict | None:
        """An optimal integer point of the given components together (None if there is none).
        `bounds` narrows some unknowns: {var: (low, high)}."""
        parts = [self.component(c) for c in components]
        variables = [v for part in parts for v in part.variables]
        position = {v: k for k, v in enumerate(variables)}
        lower = np.concatenate([part.lower for part in parts])
        upper = np.concatenate([part.upper for part in parts])
        for v, (low, high) in (bounds or {}).items():
            lower[position[v]], upper[position[v]] = low, high
        c = np.zeros(len(variables))
        for v, weight in objective.items():
            c[position[v]] = weight
        with_lines = [part for part in parts if part.lines]
        constraints = []
        if with_lines:
            # Components without lines contribute zero columns.
            blocks = [part.matrix if part.lines else sparse.csr_matrix((0, len(part.variables))) for part in parts]
            matrix = sparse.block_diag(blocks, format="csr")
            rhs = np.concatenate([part.rhs for part in parts])
            constraints = [LinearConstraint(matrix, rhs, rhs)]
        self.solves += 1
        result = milp(c, constraints=constraints, integrality=np.ones(len(variables)),
                      bounds=Bounds(lower, upper), options=OPTIONS)
        if result.status == 2:
            return None
        assert result.status == 0, result.message
        point = {v: round(result.x[position[v]]) for v in variables}
        for part in parts:
            assert part.holds(point), "the solver's point does not satisfy everything published"
        return point

    def _decide(self, pending: dict[int, list[int]], seen: dict, sample_rounds: int) -> dict:
        """For the hidden unknowns of multi-line components ({component: [vars]}), how many values
        each can take, counted up to three."""
        count: dict = {}
        rng = np.random.default_rng(0)
        self.to_decide = {c: list(vs) for c, vs in pending.items()}

        def see(point, components):
            for c in components:
                part = self.component(c)
                if part.holds(point):  # only exact solutions are evidence
                    for v in part.variables:
                        seen[v].add(point[v])

        def settle():
            for c in list(pending):
                pending[c] = [v for v in pending[c] if len(seen[v]) < 3]
                for v in self.component(c).variables:
                    if len(seen[v]) >= 3:
                        count[v] = 3
                if not pending[c]:
                    del pending[c]

        for round_ in range(sample_rounds):
            if not pending:
                break
            components = sorted(pending)
            hidden = [v for c in components for v in self.component(c).variables if v in self.hidden]
            if round_ < 2:  # all low, all high, then random directions
                objective = dict.fromkeys(hidden, 1.0 if round_ == 0 else -1.0)
            else:
                objective = {v: rng.choice((-1.0, 1.0)) * rng.integers(1, 4) for v in hidden}
            see(self._solve(components, objective), components)
            settle()
        settle()
        self.stats["counts left after sampling"] = sum(len(vs) for vs in pending.values())
        # Smallest and largest value of one count per component at a time.
        between: list[tuple[int, int, int, int]] = []  # (component, var, low, high)
        while pending:
            chosen = {c: vs[0] for c, vs in pending.items()}
            components = sorted(chosen)
            low = self._solve(components, {v: 1 for v in chosen.values()})
            high = self._solve(components, {v: -1 for v in chosen.values()})
            see(low, components)
            see(high, components)
            for c, v in chosen.items():
                pending[c].remove(v)
                if len(seen[v]) >= 3:
                    count[v] = 3
                elif high[v] - low[v] < 2:
                    count[v] = high[v] - low[v] + 1
                elif any(low[v] < x < high[v] for x in seen[v]):
                    count[v] = 3
                else:
                    between.append((c, v, low[v], high[v]))
            settle()
        # A value strictly between the two, for all such counts at once; an infeasible set is split
        # until each count's own answer is known (a count alone without one has two values).
        self.stats["counts needing a value between"] = len(between)
        stack = [between] if between else []
        while stack:
            group = [t for t in stack.pop() if len(seen[t[1]]) < 3]
            if not group:
                continue
            components = sorted({c for c, *_ in group})
            bounds = {v: (low + 1, high - 1) for _c, v, low, high in group}
            objective = {v: rng.choice((-1.0, 1.0)) for v in bounds}
            point = self._solve(components, objective, bounds)
            if point is not None:
                for _c, v, _low, _high in group:
                    count[v] = 3
                see(point, components)
            elif len(group) == 1:
                count[group[0][1]] = 2
            else:
                half = len(group) // 2
                stack += [group[:half], group[half:]]
        for c in self.to_decide:
            for v in self.to_decide[c]:
                if v not in count and len(seen[v]) >= 3:
                    count[v] = 3
        return count

    def narrowed(self, *, sample_rounds: int = 4) -> dict:
        """Hidden counts with fewer than three possible values: {name: how many}."""
        self._prepare()
        found = {}
        pending: dict[int, list[int]] = defaultdict(list)
        for var in sorted(self.hidden):
            if var in self.constant:
                found[self._names[var]] = 1
                continue
            c = self.component_of[var]
            part = self.component(c)
            counted = self._counted(part, var)
            if counted is not None:
                low, high = counted
                if high - low < 2:
                    found[self._names[var]] = high - low + 1
                continue
            pending[c].append(var)
        # Identical components (same lines, constants and bounds) are solved once: the first of
        # each kind stands for the others, for the union of their pending positions.
        kinds: dict = defaultdict(list)
        for c in pending:
            kinds[self.component(c).signature()].append(c)
        to_solve: dict[int, list[int]] = {}
        for twins in kinds.values():
            origin = self.component(twins[0])
            positions = sorted({self.component(c).position[v] for c in twins for v in pending[c]})
            to_solve[twins[0]] = [origin.variables[k] for k in positions]
        self.stats = {
            "hidden": len(self.hidden),
            "published as one value": sum(1 for v in self.hidden if v in self.constant),
            "components": len({self.component_of[v] for v in self.hidden if v not in self.constant}),
            "components for the solver": len(pending),
            "identical ones solved once": len(pending) - len(to_solve),
        }
        seen: dict = defaultdict(set)
        counts = self._decide(to_solve, seen, sample_rounds)
        for twins in kinds.values():
            origin = self.component(twins[0])
            for c in twins:
                for v in pending[c]:
                    n = counts[origin.variables[self.component(c).position[v]]]
                    if n < 3:
                        found[self._names[v]] = n
        return found

    def where(self, name) -> list:
        """Where a count is published: [(tag, scope, table, row, column, published value)]."""
        return self.shown[self.index[name]]

    # --- Linear forms (the change of a count between two versions) ----------------------------

    def values(self, weights: dict) -> int:
        """How many values the linear form Σ weight × unknown can take, counted up to three."""
        self._prepare()
        offset = sum(w * self.constant[v] for v, w in weights.items() if v in self.constant)
        free = {v: w for v, w in weights.items() if v not in self.constant}
        if not free:
            return 1
        components = sorted({self.component_of[v] for v in free})
        low = self._solve(components, free)
        high = self._solve(components, {v: -w for v, w in free.items()})
        low, high = (offset + sum(w * p[v] for v, w in free.items()) for p in (low, high))
        if high - low < 2:
            return high - low + 1
        form = self._with_form(components, free, low - offset + 1, high - offset - 1)
        return 3 if form else 2

    def _with_form(self, components: list[int], weights: dict, low: float, high: float) -> bool:
        parts = [self.component(c) for c in components]
        variables = [v for part in parts for v in part.variables]
        position = {v: k for k, v in enumerate(variables)}
        blocks = [part.matrix if part.lines else sparse.csr_matrix((0, len(part.variables))) for part in parts]
        row = np.zeros((1, len(variables)))
        for v, w in weights.items():
            row[0, position[v]] = w
        matrix = sparse.vstack([sparse.block_diag(blocks, format="csr"), sparse.csr_matrix(row)])
        rhs = np.concatenate([part.rhs for part in parts])
        constraints = [LinearConstraint(matrix, np.append(rhs, low), np.append(rhs, high))]
        self.solves += 1
        result = milp(np.zeros(len(variables)), constraints=constraints, integrality=np.ones(len(variables)),
                      bounds=Bounds(np.concatenate([p.lower for p in parts]), np.concatenate([p.upper for p in parts])),
                      options=OPTIONS)
        return result.status == 0

    def differences_narrowed(self, old_tag, new_tag, truth_old: dict, truth_new: dict, limits: dict) -> dict:
        """Counts of a corrected scope whose change between two versions is narrowed to fewer
        than three values while the change is a small number of people (1 … t−1)."""
        found = {}
        for (tag, key), var in self.index.items():
            if tag != new_tag or (old_tag, key) not in self.index:
                continue
            change = truth_new.get(key, 0) - truth_old.get(key, 0)
            if change == 0 or abs(change) >= limits["default"]:
                continue
            count = self.values({var: 1, self.index[(old_tag, key)]: -1})
            if count < 3:
                found[key] = count
        return found


class NaiveAttack(Attack):
    """The same reader without any shortcut: for every hidden count, its smallest and largest value
    over the whole program of its month and population, then a value between. Slow; the tests use
    it on small worlds to check that the shortcuts change no verdict."""

    def narrowed(self, *, sample_rounds: int = 0) -> dict:
        found = {}
        for var in sorted(self.hidden):
            count = self._naive_values(var)
            if count < 3:
                found[self._names[var]] = count
        return found

    def _naive_values(self, var: int) -> int:
        population = self.population(var)
        variables = [v for v in range(len(self.index)) if self.population(v) == population]
        position = {v: k for k, v in enumerate(variables)}
        rows = [r for r in self.rows if any(self.population(v) == population for v in r)]
        matrix = np.zeros((len(rows), len(variables)))
        for r, row in enumerate(rows):
            for v, c in row.items():
                matrix[r, position[v]] = c
        lower = np.array([self.lower[v] for v in variables], dtype=float)
        upper = np.array([min(self.upper[v], CAP) for v in variables], dtype=float)

        def solve(sign, low=None, high=None):
            c = np.zeros(len(variables))
            c[position[var]] = sign
            lo, hi = lower.copy(), upper.copy()
            if low is not None:
                lo[position[var]], hi[position[var]] = low, high
            constraints = [LinearConstraint(matrix, 0, 0)] if rows else []
            result = milp(c, constraints=constraints, integrality=np.ones(len(variables)), bounds=Bounds(lo, hi),
                          options=OPTIONS)
            return None if result.status != 0 else round(result.x[position[var]])

        low, high = solve(1), solve(-1)
        if high - low < 2:
            return high - low + 1
        return 3 if solve(0, low + 1, high - 1) is not None else 2
