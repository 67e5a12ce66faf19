"""Where the risk app tells the cases app the lowest risk level a case may be set to by hand.

A completed risk assessment sets the case's level (risk.services); professional judgement may raise
a level, never lower it, so a person editing the case (cases.services.case_update) may not set it
below the latest completed assessment's level. The assessments are the risk app's, which sits above
cases: it registers its provider from RiskConfig.ready(); until then nothing limits the level.
"""

from collections.abc import Callable

from .models import RiskLevel

RiskFloorProvider = Callable[[int], str | None]


def _no_floor(case_id: int) -> str | None:
    return None


_provider: RiskFloorProvider = _no_floor


def risk_floor_provider_set(provider: RiskFloorProvider | None) -> None:
    """Register the function that gives a case's lowest allowed level (None: no limit)."""
    global _provider
    _provider = provider or _no_floor


def risk_level_floor(case_id: int) -> str | None:
    return _provider(case_id)


def risk_level_below(level: str, floor: str) -> bool:
    order = list(RiskLevel.values)
    return order.index(level) < order.index(floor)
