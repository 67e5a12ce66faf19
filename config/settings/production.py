"""Production: PostgreSQL, Redis, HTTPS behind a TLS-terminating proxy.

Refuses to start when left with development defaults, so a forgotten variable fails the deploy
instead of running an insecure or single-machine installation.
"""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    AUDIT_ANCHOR_KEYS,
    DATABASES,
    DEV_AUDIT_ANCHOR_KEY,
    DEV_FIELD_ENCRYPTION_KEY,
    DEV_SEARCH_HASH_KEY,
    FIELD_ENCRYPTION_KEYS,
    POSTGRESQL_ENGINE,
    REDIS_URL,
    SEARCH_HASH_KEY,
    SECRET_KEY,
    env,
)

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured(
        "DEBUG is on in config.settings.production: it shows settings and case data in error pages. "
        "Unset DEBUG or set DEBUG=0."
    )
# The same rule as Django's security.W009 check, which only warns.
if SECRET_KEY.startswith("dev-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default or too weak: set SECRET_KEY to a random value of at "
        "least 50 characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
    )
# The development encryption keys are in the repository: survivor data encrypted with them is readable by anyone.
if not FIELD_ENCRYPTION_KEYS or DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS holds the public development key: set it to your own Fernet key(s), newest first, "
        "e.g. the output of python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'."
    )
for key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(key.encode())
    except ValueError as exc:
        # Found now rather than at the first survivor saved; the message leaves the key out of the logs.
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key: {exc}") from None
if SEARCH_HASH_KEY == DEV_SEARCH_HASH_KEY or len(SEARCH_HASH_KEY) < 32:
    raise ImproperlyConfigured(
        "SEARCH_HASH_KEY is the public development key or shorter than 32 characters: set it to a random value."
    )
# The anchors of the audit trail are only as good as the secrecy of their key.
if not AUDIT_ANCHOR_KEYS or DEV_AUDIT_ANCHOR_KEY in AUDIT_ANCHOR_KEYS or any(len(k) < 32 for k in AUDIT_ANCHOR_KEYS):
    raise ImproperlyConfigured(
        "AUDIT_ANCHOR_KEYS holds the public development key or a key shorter than 32 characters: set it to "
        "random value(s), newest first, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'."
    )
# No localhost default: the hosts this installation answers to must be named.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names HopLuc is served under (comma-separated).")
if DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE:
    raise ImproperlyConfigured("Set DATABASE_URL to a PostgreSQL database (postgres://user:password@host:5432/name).")
# Notification links point here; the development default (http://127.0.0.1) would send people nowhere.
SITE_URL = env.str("SITE_URL", default="")
if not SITE_URL:
    raise ImproperlyConfigured("Set SITE_URL to the public address of HopLuc (https://hopluc.example.gov.vn).")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "Set REDIS_URL (redis://host:6379/0): the filesystem broker cannot be shared between machines."
    )

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

# Monitoring reads /healthz/detail with this token; a short one could be guessed.
HEALTHZ_DETAIL_TOKEN = env.str("HEALTHZ_DETAIL_TOKEN", default="")
if HEALTHZ_DETAIL_TOKEN and len(HEALTHZ_DETAIL_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTHZ_DETAIL_TOKEN must be empty or at least 32 random characters.")

# No published authenticator secret, even for a demo installation seeded with --allow-production:
# everyone enrols their own at first sign-in.
DEMO_SECOND_FACTOR = False

# TLS ends at the proxy in front of gunicorn, which must set X-Forwarded-Proto and strip any
# value the client sent.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# collectstatic runs when the image is built; whitenoise then serves the hashed, compressed files.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
