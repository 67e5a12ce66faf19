"""The deadline tests build their cases with the case tests' helpers and fixtures."""

from tests.cases.conftest import shared_case, time_limits  # noqa: F401 (fixtures shared with the case tests)
