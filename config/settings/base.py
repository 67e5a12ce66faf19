"""Settings shared by every HopLuc deployment.

Everything that differs between machines comes from the environment. The defaults are the
*embedded* topology (SQLite, a filesystem broker) so that a fresh checkout runs with nothing set.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.enum_names import VocabularyEnumNames

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("HOPLUC_VAR_DIR", default=str(BASE_DIR / "var")))
# SQLite creates its file but not the folder; every process (manage.py, web, worker, tests) needs it.
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-hopluc-secret-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "guardian",
    "audit",
    "agencies",
    "accounts",
    "permissions",
    "cases",
    "notifications",
    "reports",
    "supervision",
]

MIDDLEWARE = [
    # First, so that every response, even an early redirect, carries the request id.
    "audit.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionEndedMiddleware",
    "accounts.middleware.ActingAgencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    # An empty DATABASE_URL (as `DATABASE_URL= make test` gives) means the embedded default too.
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'hopluc.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database lets a real Celery worker process open the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-hopluc.sqlite3")}
    # IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads and then writes
    # (as audit_record does with the chain head) fails with "database is locked" at once when
    # another process wrote in between, instead of waiting for the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # libpq waits for ever on an unreachable host; a bound turns that into an error (and a 503 on /healthz).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after SESSION_IDLE_MINUTES without a request: the cookie age is renewed on every
# request, so it is an idle timeout rather than an absolute one.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.HopLucAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HopLuc API",
    "DESCRIPTION": "Multi-agency case coordination for violence against women and children.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Every vocabulary (a Choices class of our apps) gets one enum name, beyond any listed above.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = VocabularyEnumNames(SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES"))

# guardian: object permissions are granted to agency-role groups only, never to the anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# --- Encryption at rest ---------------------------------------------------------------------------
# Development keys are fixed and public; production.py refuses them.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktaG9wbHVjLWZpZWxkLWtleS0wMDAwMDA="
DEV_SEARCH_HASH_KEY = "dev-only-hopluc-search-hash-key"
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])
SEARCH_HASH_KEY = env.str("SEARCH_HASH_KEY", default=DEV_SEARCH_HASH_KEY)

# --- Email and SMS -------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# A stalled SMTP server must fail the send, not hold a worker until the task time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="HopLuc <no-reply@hopluc.invalid>")
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10)

# --- Celery --------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_FS_DIR = Path(env.str("CELERY_FS_DIR", default=str(VAR_DIR / "broker")))
# One visibility timeout for broker and result backend, longer than any task may run: a task
# acknowledged late is redelivered only when its worker has really died.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT} s) must exceed the task time limit "
        f"({CELERY_TASK_TIME_LIMIT} s), or Redis hands running tasks to a second worker."
    )
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Bounded sockets keep a web request that enqueues a task from hanging on a Redis that has gone
    # away without closing the connection (failover, NAT timeout).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 5,
        "socket_timeout": 10,
    }
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5
else:
    # The embedded default: kombu's filesystem transport needs no server, so `make run` works
    # anywhere. It has no visibility timeout: a message is taken off the queue when a worker
    # fetches it, and a warm shutdown puts unfinished ones back. Folders are created by
    # config.celery at start-up; every folder is set because kombu's defaults are relative to
    # the current directory.
    # The host part is ignored by the transport; naming it silences kombu's "no hostname" warning.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # The transport polls its folder; kombu's 1 s default caps a worker at a few tasks a second.
        "polling_interval": 0.2,
        "data_folder_in": str(CELERY_FS_DIR / "queue"),
        "data_folder_out": str(CELERY_FS_DIR / "queue"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_FS_DIR / 'results'}"

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# With late acks a task cut off by a lost broker connection is redelivered; cancelling the
# running copy keeps it from executing twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule lives here, in code. Exactly one beat process runs it.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "config.tasks.heartbeat", "schedule": crontab(minute="*/5")},
    "audit-checkpoint": {"task": "audit.tasks.checkpoint_chain", "schedule": crontab(hour=0, minute=15)},
    # Agency groups are a cache of memberships: report and repair any drift (audited).
    "agency-groups-reconcile": {
        "task": "agencies.tasks.reconcile_agency_groups", "schedule": crontab(hour=1, minute=30),
    },
    "deadline-sweep": {"task": "notifications.tasks.sweep_deadlines", "schedule": crontab(minute="*")},
    "outbox-relay": {"task": "notifications.tasks.relay_outbox", "schedule": crontab(minute="*")},
    # CELERY_TIMEZONE is Asia/Ho_Chi_Minh: 02:00 on the 1st, local time, builds last month's reports.
    "monthly-reports": {
        "task": "reports.tasks.build_due_monthly_reports", "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
}

# --- Deadlines and notifications -----------------------------------------------------------------
# Overrides of notifications/data/time_limits.yaml by code, e.g. "handoff_response_emergency=2 hours".
TIME_LIMIT_OVERRIDES = env.dict("TIME_LIMIT_OVERRIDES", default={})
# Reminder before the due time: this share of the time allowed, at most the maximum.
DEADLINE_REMINDER_SHARE = env.float("DEADLINE_REMINDER_SHARE", default=0.25)
DEADLINE_REMINDER_MAX_MINUTES = env.int("DEADLINE_REMINDER_MAX_MINUTES", default=24 * 60)
# Still overdue after this further window (the time allowed, within these bounds): the sender's
# supervisors and the province coordinators are told.
DEADLINE_ESCALATION_MIN_MINUTES = env.int("DEADLINE_ESCALATION_MIN_MINUTES", default=60)
DEADLINE_ESCALATION_MAX_MINUTES = env.int("DEADLINE_ESCALATION_MAX_MINUTES", default=24 * 60)
DEADLINE_DUE_SOON_HOURS = env.int("DEADLINE_DUE_SOON_HOURS", default=24)
# The Celery queue of delivery tasks (tests give each real worker its own).
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="celery")
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=3600)
# An undelivered outbox row is enqueued again this long after it was last handed to Celery.
NOTIFICATIONS_RELAY_GRACE_SECONDS = env.int("NOTIFICATIONS_RELAY_GRACE_SECONDS", default=120)
# A row being sent belongs to its worker this long; it must exceed the task's hard time limit.
NOTIFICATIONS_SEND_LEASE_SECONDS = env.int("NOTIFICATIONS_SEND_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)

# --- Audit trail ---------------------------------------------------------------------------------
# Daily copies of the audit chain head, kept outside the database: point this at storage the
# database's administrators cannot rewrite.
AUDIT_CHECKPOINT_DIR = Path(env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints")))
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
AUDIT_TRUSTED_PROXIES = env.int("AUDIT_TRUSTED_PROXIES", default=0)

# --- Break-glass and supervision ------------------------------------------------------------------
# A break-glass opening of a case lasts this long and then ends by itself.
BREAK_GLASS_HOURS = env.int("BREAK_GLASS_HOURS", default=4)
BREAK_GLASS_REASON_MIN_LENGTH = env.int("BREAK_GLASS_REASON_MIN_LENGTH", default=20)
# The supervisors' review queue page reloads itself this often, so a new break-glass use shows up.
SUPERVISION_QUEUE_REFRESH_SECONDS = env.int("SUPERVISION_QUEUE_REFRESH_SECONDS", default=30)

# --- Monthly reports -----------------------------------------------------------------------------
# Counts from 1 to threshold-1 are published as "<threshold"; child and commune tables use the higher one.
REPORT_SMALL_COUNT_THRESHOLD = env.int("REPORT_SMALL_COUNT_THRESHOLD", default=5)
REPORT_CHILD_THRESHOLD = env.int("REPORT_CHILD_THRESHOLD", default=10)
# How many missed months the scheduled run builds at most when it finds it has fallen behind.
REPORT_CATCH_UP_MONTHS = env.int("REPORT_CATCH_UP_MONTHS", default=12)
# A TrueType font with Vietnamese letters for PDF reports; empty: the first system font found.
REPORT_PDF_FONT = env.str("REPORT_PDF_FONT", default="")
# DHIS2: empty DHIS2_URL turns pushing off; the mapping file names data elements and option combos.
DHIS2_URL = env.str("DHIS2_URL", default="")
DHIS2_USER = env.str("DHIS2_USER", default="")
DHIS2_PASSWORD = env.str("DHIS2_PASSWORD", default="")
DHIS2_MAPPING_FILE = Path(
    env.str("DHIS2_MAPPING_FILE", default=str(BASE_DIR / "reports" / "dhis2_mapping.example.json"))
)
DHIS2_PUSH_ON_PUBLISH = env.bool("DHIS2_PUSH_ON_PUBLISH", default=False)
DHIS2_TIMEOUT = env.float("DHIS2_TIMEOUT", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
