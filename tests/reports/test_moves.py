"""The constructive proofs of reports.moves and the determinism of the month's protection.

Every value the prover claims for a count must come from an integer solution of everything
published: it is checked here independently (each kept move adds up on every line of the month and
each claimed value is the truth plus a multiple of a move that stays within every bound). And the
protection has no wall-clock budget any more: the same month gives the same publication.
"""

import math
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings

from reports import joint
from reports.disclosure import LinkedTable, protect_linked
from reports.moves import MoveProver
from reports.protection import _Month, additive_lines, protect_month

from .test_attacker import LIMITS, month_drafts, worlds


def _month(records):
    drafts = month_drafts(records)
    order = [(scope, d) for scope, ds in drafts.items() for d in ds]
    additive = additive_lines(drafts)
    return order, additive, _Month(order, LIMITS, additive, [])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=worlds)
def test_every_move_adds_up_on_every_line_and_every_claimed_value_is_a_solution(records):
    order, additive, month = _month(records)
    linked = [
        LinkedTable(cells=d.cells, threshold=t, keys=k, name=f"{s}:{d.key}")
        for (s, d), k, t in zip(order, month.keys, month.thresholds, strict=True)
    ]
    results = protect_linked(linked, additive=additive)
    system = month.system(results)
    prover: MoveProver = month.prover
    for move in prover._found:
        for line in month.lines:
            assert sum(c * move.get(k, 0) for k, c in line) == 0
    for key, values in system.proven.items():
        assert key in system.targets
        for value in values - {month.truth[key]}:
            witnesses = [
                move for move in prover._found if key in move
                and (value - month.truth[key]) % move[key] == 0
                and all(
                    system.bounds.get(k, (0, math.inf))[0]
                    <= month.truth[k] + (value - month.truth[key]) // move[key] * c
                    <= system.bounds.get(k, (0, math.inf))[1]
                    for k, c in move.items()
                )
            ]
            assert witnesses, f"{key}: {value} claimed without a solution"


def test_the_check_has_no_time_budget():
    assert not hasattr(joint, "CHECK_TIME_BUDGET")
    assert not hasattr(joint, "SOLVE_TIME_LIMIT")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=worlds)
def test_the_same_month_is_protected_the_same_way_every_time(records):
    order, additive, _month_ = _month(records)
    first = protect_month(order, LIMITS, additive=additive)
    second = protect_month(order, LIMITS, additive=additive)
    assert [(r.withheld, r.hidden) for r in first.results] == [(r.withheld, r.hidden) for r in second.results]


_FINGERPRINT = """
import hashlib, django
django.setup()
from reports.protection import additive_lines, protect_month
from tests.reports.test_attacker import LIMITS, month_drafts
records = [
    ("01", "rape", "female", "0-11", "0-3", "within_72h", "referred", "c1"),
    ("01", "rape", "female", "12-17", "4-30", "over_3_days", "referred", "c2"),
    ("01", "physical_assault", "male", "18-25", "unknown", "over_3_days", "not_referred", "c1"),
    ("46", "rape", "female", "26-40", "0-3", "within_72h", "not_referred", "c3"),
    ("46", "psychological_abuse", "female", "18-25", "4-30", "over_3_days", "referred", "c3"),
    ("79", "physical_assault", "female", "26-40", "0-3", "within_72h", "referred", "c2"),
] * 3
drafts = month_drafts(records)
order = [(scope, d) for scope, ds in drafts.items() for d in ds]
outcome = protect_month(order, LIMITS, additive=additive_lines(drafts))
print(hashlib.sha256(repr([(r.withheld, sorted(r.hidden)) for r in outcome.results]).encode()).hexdigest())
"""


def test_the_outcome_does_not_depend_on_pythons_hash_seed():
    """repr() of a key lists its filters in hash order: nothing may be ordered by it."""
    outputs = set()
    for seed in ("1", "2"):
        environment = dict(os.environ, PYTHONHASHSEED=seed)
        environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        run = subprocess.run(
            [sys.executable, "-c", _FINGERPRINT], env=environment, capture_output=True, text=True, check=True,
        )
        outputs.add(run.stdout.strip().splitlines()[-1])
    assert len(outputs) == 1
