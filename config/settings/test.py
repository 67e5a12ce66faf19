"""Tests: like development, with fast password hashing."""

import uuid

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

# `flush` (run by the test runner after every transactional test) lifts the audit trail's
# append-only triggers; it must exist here and nowhere else.
INSTALLED_APPS = [*INSTALLED_APPS, "config.testing"]

DEBUG = False
# A method a Jinja2 template reads and forgets to call fails the test (config/jinja2.py).
TEMPLATE_STRICT_CALLS = True
# Tests start from an empty calendar and load the years they count on (tests/notifications).
CALENDAR_PRELOAD_YEARS = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests never run collectstatic: whitenoise serves from the app and project static folders
# (as in development) instead of warning that STATIC_ROOT does not exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The suite makes thousands of API calls from one address and user ids recur between test databases:
# rates no test reaches (tests/accounts/test_throttling.py lowers them), and a cache prefix of this
# process so that counts left in Redis or var/cache by an earlier run never apply.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min", "auth_token": "100000/min"},
}
CACHES["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"  # noqa: F405
# The file cache (no REDIS_URL) is shared by the test processes and by earlier runs' files: with Django's
# 300 entries it deletes a random third of them whenever it is full, so an entry a test wrote (a lockout
# count, a throttle) could vanish under it. Tests never fill it that far on purpose: no culling.
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["OPTIONS"] = {**CACHES["default"].get("OPTIONS", {}), "MAX_ENTRIES": 10_000_000}  # noqa: F405

# The test client's login() calls authenticate() without a request, which axes refuses; this backend
# lets that one call through. Every request-borne sign-in still goes through axes' own checks.
AUTHENTICATION_BACKENDS = [
    "tests.support.auth_backends.LockoutBackend" if backend == "axes.backends.AxesStandaloneBackend" else backend
    for backend in AUTHENTICATION_BACKENDS  # noqa: F405
]

# On PostgreSQL, a `replica` alias on the test database itself (TEST MIRROR: a second connection, no
# second database) with the router installed but switched off (DATABASE_REPLICA_READS): every test
# reads `default` as without a replica; the replica tests switch it on. A replica is a PostgreSQL
# deployment: SQLite runs get no alias (a second connection to one file only waits on its lock).
if "replica" in DATABASES:  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
    DATABASE_REPLICA_READS = False
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
