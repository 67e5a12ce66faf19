"""Settings of the Celery worker processes that test_worker_faults.py starts (never pytest's own).

Everything else comes from the environment the test gives the worker: DATABASE_URL (the test
database), REDIS_URL or HOPLUC_VAR_DIR (the broker), NOTIFICATIONS_QUEUE and the lease.
"""

import os

from config.settings.test import *  # noqa: F403

# Emails land in files the test counts; SMTP is never contacted.
EMAIL_BACKEND = os.environ.get("HOPLUC_TEST_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ["HOPLUC_TEST_EMAIL_DIR"]
# Short limits keep the lease (which must exceed them) and so the tests short.
CELERY_TASK_TIME_LIMIT = int(os.environ.get("HOPLUC_TEST_TASK_TIME_LIMIT", "300"))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 1
