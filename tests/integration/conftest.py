"""The integration stories run on the real-worker fixtures of the notification fault tests: Celery
worker processes on a queue of their own, the real broker (Redis when REDIS_URL is set, the
filesystem transport otherwise), emails written to files by the worker."""

from tests.notifications.conftest import coordinator, private_queue, reachable, time_limits  # noqa: F401
from tests.notifications.test_worker_faults import workers  # noqa: F401
