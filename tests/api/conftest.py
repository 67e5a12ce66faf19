from tests.cases.conftest import api, shared_case, time_limits  # noqa: F401 (fixtures shared with the case tests)
