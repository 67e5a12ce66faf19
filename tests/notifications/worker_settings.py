"""Settings of the Celery worker processes that test_worker_faults.py starts (never pytest's own).

Everything else comes from the environment the test gives the worker: DATABASE_URL (the test
database), REDIS_URL or HOPLUC_VAR_DIR (the broker), NOTIFICATIONS_QUEUE, the lease and the delivery's
time limit (NOTIFICATIONS_DELIVERY_TIME_LIMIT), and SMTP or SMS servers when a drill uses them.
"""

import os

from config.settings.test import *  # noqa: F403

# Emails land in files the test counts, unless a drill points the worker at its SMTP sink.
EMAIL_BACKEND = os.environ.get("HOPLUC_TEST_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ["HOPLUC_TEST_EMAIL_DIR"]
