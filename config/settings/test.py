"""Tests: like development, with fast password hashing."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

# `flush` (run by the test runner after every transactional test) lifts the audit trail's
# append-only triggers; it must exist here and nowhere else.
INSTALLED_APPS = [*INSTALLED_APPS, "audit.testing"]

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests never run collectstatic: whitenoise serves from the app and project static folders
# (as in development) instead of warning that STATIC_ROOT does not exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
