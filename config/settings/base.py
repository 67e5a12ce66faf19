"""Settings shared by every HopLuc deployment.

Everything that differs between machines comes from the environment. The defaults are the
*embedded* topology (SQLite, a filesystem broker) so that a fresh checkout runs with nothing set.
"""

from datetime import timedelta
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
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    "agencies",
    "accounts",
    "permissions",
    "cases",
    "handoffs",
    "takedowns",
    "deadlines",
    "notifications",
    "reports",
    "supervision",
    "privacy",
    "scale",
    "risk",
    "conferences",
]

MIDDLEWARE = [
    # First, so that every response, even an early redirect, carries the request id.
    "audit.middleware.RequestIdMiddleware",
    # The request id, client address and user agent that audit_record reads (audit.context).
    "audit.middleware.AuditContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files keep their long cache lifetime; everything else is no-store.
    "config.middleware.SecurityHeadersMiddleware",
    "config.middleware.CSPMiddleware",
    # Django's, except that a passive poll (X-HopLuc-Passive) does not renew the idle timeout.
    "accounts.middleware.SessionMiddleware",
    # Django's, without reading the path for a language when no i18n_patterns are used (config.middleware).
    "config.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, moving sessions signed in through Django's ModelBackend to accounts.backends'.
    "accounts.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    # Under DEBUG only: the friendly 404/403 page instead of Django's technical one (config.errors).
    "config.errors.DebugFriendlyErrorsMiddleware",
    # A domain NotFound from a service or selector (config.exceptions) answers 404, as Http404 does.
    "config.errors.DomainErrorsMiddleware",
    "accounts.middleware.SessionEndedMiddleware",
    # After authentication and messages: a person who must use a second factor and has not yet
    # given one this session reaches only the sign-in, enrolment and code pages.
    "accounts.middleware.SecondFactorGateMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "accounts.middleware.SignInSessionMiddleware",
    "accounts.middleware.ActingAgencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused during a lockout into the lockout answer (accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATE_CONTEXT_PROCESSORS = [
    "django.template.context_processors.request",
    "django.template.context_processors.i18n",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
    "notifications.context_processors.unread_notifications",
    "accounts.navigation.navigation",
    "accounts.context_processors.page_frame",
    "accounts.context_processors.session_timeout",
    "cases.context_processors.intake_resume",
]
# The pages' (Jinja2) templates read none of what Django's `request` (render() puts the request in their
# context itself) and `i18n` (they call language_code()) processors give: two calls of get_language() a page.
JINJA2_CONTEXT_PROCESSORS = [
    name for name in TEMPLATE_CONTEXT_PROCESSORS
    if name not in ("django.template.context_processors.request", "django.template.context_processors.i18n")
]
TEMPLATES = [
    # The pages (jinja2_templates/): Jinja2 through Django's backend, first so that its templates win.
    # config/jinja2.py says what their environment has.
    {
        "NAME": "jinja2",
        "BACKEND": "config.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2_templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "config.jinja2.environment",
            "context_processors": JINJA2_CONTEXT_PROCESSORS,
        },
    },
    # Django's template language: the admin, the form widgets and the API docs' pages.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": TEMPLATE_CONTEXT_PROCESSORS},
    },
]

DATABASES = {
    # An empty DATABASE_URL (as `DATABASE_URL= make test` gives) means the embedded default too.
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'hopluc.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Django's PostgreSQL backend whose health check (CONN_HEALTH_CHECKS below) asks the socket before it
# sends `SELECT 1` (config/postgresql/base.py).
POSTGRESQL_ENGINE = "config.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
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
# Server-side parameter binding with prepared statements (README, "PostgreSQL settings"; on by default
# on PostgreSQL, unlike Django): a statement psycopg has run DATABASE_PREPARE_THRESHOLD times on one
# connection is prepared there, and PostgreSQL no longer parses it nor, once its generic plan costs no
# more than a fresh one, plans it again. The whole suite runs with it on PostgreSQL, so a query
# PostgreSQL refuses with bound parameters fails there. DATABASE_SERVER_SIDE_BINDING=0 goes back to
# client-side binding, which never prepares anything: needed behind PgBouncer in transaction mode
# unless it is 1.21 or later with max_prepared_statements set.
DATABASE_PREPARED_STATEMENTS: dict[str, object] = {}
if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASE_PREPARED_STATEMENTS = {"server_side_binding": True,
                                    "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=5)}
    DATABASES["default"]["OPTIONS"].update(DATABASE_PREPARED_STATEMENTS)
# An optional read replica (README, "Scaling out"): unset, there is no `replica` alias and no router,
# everything reads and writes `default`. Set, the monthly report's counting and the supervision
# dashboard, queue and access-log pages read it; access, secrets and transactions stay on the
# primary (config/db_router.py). Reads fall back to the primary when the replica is further behind
# than REPLICA_MAX_LAG_SECONDS or cannot be reached.
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
REPLICA_MAX_LAG_SECONDS = env.int("REPLICA_MAX_LAG_SECONDS", default=30)
DATABASE_REPLICA_READS = bool(REPLICA_DATABASE_URL)
DATABASE_ROUTERS: list[str] = []
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["ENGINE"] = POSTGRESQL_ENGINE
    for key in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        if key in DATABASES["default"]:
            DATABASES["replica"][key] = DATABASES["default"][key]
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    DATABASES["replica"]["OPTIONS"].update(DATABASE_PREPARED_STATEMENTS)
    DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# The role web, worker and beat log in as, kept in step by `migrate` (run as the tables' owner): it
# is created if missing, gets DML on every table and owns none (audit/database_roles.py). Empty: no
# role is managed (development, tests, a single-role installation).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="")
DATABASE_APP_PASSWORD = env.str("DATABASE_APP_PASSWORD", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# No guardian object backend: access to a case is decided by cases.selectors.case_get_for_user, which
# honours validity (valid_until). guardian's ObjectPermissionBackend ignored it, so `user.has_perm(perm,
# case)` answered yes after the right had ended; its rows are no longer written (issue 15). Object
# checks on cases answer from the access rows instead (cases.permission_backend), validity included.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with a cheaper read of the signed-in user on each request.
    "accounts.backends.ModelBackend",
    # Authenticates nobody: `has_perm(perm, case)` from the access rows.
    "cases.permission_backend.CaseAccessBackend",
]
# guardian warns when its backend is missing; leaving it out is the point (its tables stay, empty).
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
# ASVS 4.0 V2.1: at least 12 characters, not a known common password, not like the person's names.
PASSWORD_MIN_LENGTH = 12
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Second factor (django-otp): TOTP apps and one-time recovery codes. The issuer names the entry in
# the person's authenticator app. Secrets never show in the Django admin.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="HopLuc")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Each wrong code doubles the wait before the next one is checked (1 s, 2 s, 4 s, ...), per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
MFA_RECOVERY_CODES = env.int("MFA_RECOVERY_CODES", default=10)
# seed_demo enrols a published authenticator secret for the demo accounts that need a second factor.
# Never from the environment: production.py turns it off, whatever else it is told.
DEMO_SECOND_FACTOR = True

# Sessions end after SESSION_IDLE_MINUTES without a request: the cookie age is renewed on every
# request, so it is an idle timeout rather than an absolute one.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
# ...and SESSION_ABSOLUTE_HOURS after sign-in however active it is (accounts.middleware).
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
# The one-time password an agency admin hands a new colleague stops working after this long, and
# must be changed at the first sign-in before anything else is reachable.
INITIAL_PASSWORD_HOURS = env.int("INITIAL_PASSWORD_HOURS", default=72)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
# Database sessions that skip the renewal write of a request that changed nothing when the stored
# expiry is less than SESSION_RENEW_SECONDS old (accounts.session_store): the idle timeout then ends
# a session up to that much earlier, never later, and most requests write nothing; a renewal outside
# a transaction is one UPDATE, without BEGIN and COMMIT.
SESSION_ENGINE = "accounts.session_store"
SESSION_RENEW_SECONDS = env.int("SESSION_RENEW_SECONDS", default=60)
if not 0 <= SESSION_RENEW_SECONDS < SESSION_COOKIE_AGE // 2:
    raise ImproperlyConfigured("SESSION_RENEW_SECONDS must be at least 0 and less than half the idle timeout.")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A refused form shows the Vietnamese/English 403 page with what to do (config.errors).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only; no
# inline script or style, no plugins, no framing, forms post only here. The API documentation pages
# loosen style-src alone (config.urls), for Redoc's generated styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Browser features no HopLuc page uses, refused to every page and anything it could embed.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default="accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()",
)
# --- Sign-in lockout (django-axes) and API tokens (django-rest-knox) ---------------------------------
# After this many failed sign-ins for one username, or from one client address, signing in is refused
# for LOGIN_LOCKOUT_MINUTES after the last failure (web form and API token endpoint alike).
LOGIN_LOCKOUT_USERNAME_FAILURES = env.int("LOGIN_LOCKOUT_USERNAME_FAILURES", default=5)
LOGIN_LOCKOUT_IP_FAILURES = env.int("LOGIN_LOCKOUT_IP_FAILURES", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
if min(LOGIN_LOCKOUT_USERNAME_FAILURES, LOGIN_LOCKOUT_IP_FAILURES, LOGIN_LOCKOUT_MINUTES) < 1:
    raise ImproperlyConfigured(
        "LOGIN_LOCKOUT_USERNAME_FAILURES, LOGIN_LOCKOUT_IP_FAILURES and LOGIN_LOCKOUT_MINUTES must be at least 1."
    )
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The handler compares each parameter with its own limit; axes sees the username limit. Both read the
# LOGIN_LOCKOUT_* settings at each sign-in.
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
# A success clears the username's count only (LockoutHandler): an attacker holding one valid account
# must not wipe the count of the address they guess from.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "audit.context.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Sign-ins are in the audit trail already; axes keeps only the failure counts.
AXES_DISABLE_ACCESS_LOG = True
# Masked in the request data axes keeps with a failure (it masks "password" itself).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp", "code", "csrfmiddlewaretoken"]
# Sign-in lockouts are shown and lifted (audited) through accounts.admin, not axes' own admin.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# API tokens are stored as SHA-512 digests and end API_TOKEN_HOURS after sign-in, however much they
# are used (not sliding): a token copied off a device works for one working day at most.
API_TOKEN_HOURS = env.int("API_TOKEN_HOURS", default=8)
if API_TOKEN_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_HOURS must be at least 1.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_HOURS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# The cache holds the API throttle counters, so it must be shared by every web process: Redis when
# there is one, else files in HOPLUC_VAR_DIR (the embedded default runs on one machine).
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            # Django's, with one Redis client per connection pool instead of one per call (config.cache).
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "hopluc",
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": "hopluc",
        }
    }

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
# One date and time format per language: config/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["config.formats"]
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
        "accounts.authentication.ApiTokenAuthentication",
    ],
    # Every API endpoint: per signed-in user, per address for anonymous callers, and a stricter
    # per-address scope on the token endpoint. Answered with 429 and Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.AnonymousRateThrottle",
        "accounts.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "auth_token": env.str("API_THROTTLE_AUTH_TOKEN", default="10/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.HopLucAutoSchema",
    # One error shape for every API view (config.api): field messages by dotted path, else {"detail"};
    # a domain NotFound answers 404 and a state conflict 409.
    "EXCEPTION_HANDLER": "config.api.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    # JSON bodies over API_JSON_MAX_BYTES or nested deeper than API_JSON_MAX_DEPTH are answered 400.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    # Swagger UI and Redoc are served from this installation (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
# Unwrapped per-case data keys are kept in memory for one request or task, and at most this long
# (seconds) in a long-running process: a key destroyed by an erasure stops working everywhere within it.
CASE_KEY_CACHE_SECONDS = env.int("CASE_KEY_CACHE_SECONDS", default=60)

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
# The default limits are for the long tasks (monthly report builds); notification deliveries, which
# send one message, have their own short ones (NOTIFICATIONS_DELIVERY_TIME_LIMIT below).
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
    # filesystem:// is kombu's filesystem transport with each message written whole before a consumer
    # can see it (config/filesystem_broker.py, registered under kombu's name for it by config.celery:
    # kombu's own loses messages to a consumer polling mid-write). Not CELERY_BROKER_TRANSPORT, which
    # would also take over every other URL, a redis:// one of a drill or a test included.
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
# How often beat runs the outbox relay sweep: with the lease and the relay grace it bounds how late a
# notice can be after a fault (README, "Reliability").
NOTIFICATIONS_RELAY_SWEEP_SECONDS = env.int("NOTIFICATIONS_RELAY_SWEEP_SECONDS", default=15)

# --- Retention and data-subject requests (README, "Retention" and "Data-subject requests") ---------
# The retention schedule: how long a closed case is kept, by kind, with its source.
RETENTION_SCHEDULE_FILE = Path(
    env.str("RETENTION_SCHEDULE_FILE", default=str(BASE_DIR / "privacy" / "data" / "retention.yaml"))
)
# Years after closure by kind, overriding the file, e.g. "adult=3,child=7" (marked chosen, not from law).
RETENTION_OVERRIDES = env.dict("RETENTION_OVERRIDES", default={})
# The lead agency's supervisors are told this many days before a case is anonymised.
RETENTION_NOTICE_DAYS = env.int("RETENTION_NOTICE_DAYS", default=30)
# The Celery queue that builds access packages (tests give each real worker its own).
PRIVACY_QUEUE = env.str("PRIVACY_QUEUE", default="celery")

# --- Deadlines and notifications -----------------------------------------------------------------
# Years of Viet Nam's public holidays the notifications data migration loads from the `holidays`
# package ("2024-2032"; empty: none). Later years: `manage.py load_holidays --years ...`. Days an
# administrator corrected or removed are never overwritten.
CALENDAR_PRELOAD_YEARS = env.str("CALENDAR_PRELOAD_YEARS", default="2024-2032")
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
# The deadline sweep (notifications.services.deadline_sweep) claims and fires this many deadlines per
# transaction; the minute's sweep task does at most DEADLINE_SWEEP_CHUNK of them and, when more are
# due, starts up to DEADLINE_SWEEP_MAX_CHUNKS - 1 more tasks of a chunk each for other workers.
DEADLINE_SWEEP_BATCH = env.int("DEADLINE_SWEEP_BATCH", default=1000)
DEADLINE_SWEEP_CHUNK = env.int("DEADLINE_SWEEP_CHUNK", default=20000)
DEADLINE_SWEEP_MAX_CHUNKS = env.int("DEADLINE_SWEEP_MAX_CHUNKS", default=8)
# Risk (risk/README in the project README, "Risk that drives the response"). The instrument file
# (items, answers, thresholds, bands) is read and checked when HopLuc starts.
RISK_INSTRUMENT_FILE = Path(env.str("RISK_INSTRUMENT_FILE",
                                    default=str(BASE_DIR / "risk" / "instruments" / "dash_vn.yaml")))
# A new incident, a separation or a breach of an order makes a new assessment due within this many hours.
RISK_REVIEW_HOURS = env.int("RISK_REVIEW_HOURS", default=48)
# Escalation to a case meeting: this many incidents within the window (days) make a case eligible...
RISK_REPEATED_INCIDENTS = env.int("RISK_REPEATED_INCIDENTS", default=3)
RISK_REPEATED_INCIDENTS_DAYS = env.int("RISK_REPEATED_INCIDENTS_DAYS", default=365)
# ...and so does a new incident within this many days after the case's last meeting.
RISK_INCIDENT_AFTER_MEETING_DAYS = env.int("RISK_INCIDENT_AFTER_MEETING_DAYS", default=365)
# The supervisor's dashboard lists high-risk cases with no case meeting held within this many days of
# their becoming high risk.
MEETING_WITHIN_DAYS = env.int("MEETING_WITHIN_DAYS", default=30)
# The Celery queue of delivery tasks (tests give each real worker its own).
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="celery")
# A delivery sends one message (EMAIL_TIMEOUT and SMS_GATEWAY_TIMEOUT bound each network step), so
# its own time limits are short: the soft limit (at 80 % of the hard one, 60 s) turns a stuck send into a
# retry, the hard one (75 s) ends a task that ignores it.
NOTIFICATIONS_DELIVERY_TIME_LIMIT = env.int("NOTIFICATIONS_DELIVERY_TIME_LIMIT", default=75)
NOTIFICATIONS_DELIVERY_SOFT_TIME_LIMIT = max(int(NOTIFICATIONS_DELIVERY_TIME_LIMIT * 0.8), 1)
# A row being sent belongs to its worker this long; it must exceed the delivery's hard time limit,
# and a worker that died mid-send is noticed after it.
NOTIFICATIONS_SEND_LEASE_SECONDS = env.int(
    "NOTIFICATIONS_SEND_LEASE_SECONDS", default=NOTIFICATIONS_DELIVERY_TIME_LIMIT + 15
)
# SMTP and SMS failures are tried again after BASE, doubled each attempt up to the cap: 60 s for
# urgent kinds (emergencies, overdue deadlines, escalations, break-glass), 90 s for the others, so the
# first attempt after an outage of any length comes within two minutes of its end.
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=15)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=90)
NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS", default=60)
# A message still not sent after this many attempts, or this many hours, is marked failed and shows
# on the supervisors' failure list.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=2000)
NOTIFICATIONS_GIVE_UP_HOURS = env.int("NOTIFICATIONS_GIVE_UP_HOURS", default=24)
# An undelivered outbox row is enqueued again this long after it was last handed to Celery.
NOTIFICATIONS_RELAY_GRACE_SECONDS = env.int("NOTIFICATIONS_RELAY_GRACE_SECONDS", default=30)
# A web request hands its outbox rows to the broker with this bound (seconds, connect and send); a
# broker that does not answer in time leaves them to the relay sweep instead of holding the request.
NOTIFICATIONS_PUBLISH_TIMEOUT = env.float("NOTIFICATIONS_PUBLISH_TIMEOUT", default=1.0)
# Who may read /healthz/detail besides signed-in system administrators: monitoring presenting
# "Authorization: Bearer <token>". Empty: administrators only.
HEALTHZ_DETAIL_TOKEN = env.str("HEALTHZ_DETAIL_TOKEN", default="")

# --- Audit trail ---------------------------------------------------------------------------------
# Signed anchors of the audit chain head, kept outside the database (README, "Audit anchor"): point
# this at storage the database's administrators cannot rewrite.
AUDIT_CHECKPOINT_DIR = Path(env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints")))
# HMAC-SHA256 keys of the anchors, newest first (the first signs; any verifies). The development key
# is public; production.py refuses it. The database never holds these.
DEV_AUDIT_ANCHOR_KEY = "dev-only-hopluc-audit-anchor-key-not-secret"
AUDIT_ANCHOR_KEYS = env.list("AUDIT_ANCHOR_KEYS", default=[DEV_AUDIT_ANCHOR_KEY])
# How often beat anchors the head, and how old the newest anchor may be before verify_audit_chain
# fails (the tolerance covers a late beat or a restart).
AUDIT_ANCHOR_INTERVAL_SECONDS = env.int("AUDIT_ANCHOR_INTERVAL_SECONDS", default=300)
AUDIT_ANCHOR_MAX_AGE_SECONDS = env.int("AUDIT_ANCHOR_MAX_AGE_SECONDS", default=3 * AUDIT_ANCHOR_INTERVAL_SECONDS)
# Events are chained after their transaction commits (README, "Audit write throughput"): by a worker
# the committing process signals (a chain-now task on AUDIT_CHAIN_QUEUE, at most one per process every
# AUDIT_CHAIN_SOON_SECONDS, each due within that time of the commits it covers; the publish is bounded
# by AUDIT_CHAIN_PUBLISH_TIMEOUT), and by beat this often so that none waits longer when the broker or
# the worker is away. verify_audit_chain fails when an event has waited longer than the tolerance.
AUDIT_CHAIN_SOON_SECONDS = env.float("AUDIT_CHAIN_SOON_SECONDS", default=1.0)
AUDIT_CHAIN_QUEUE = env.str("AUDIT_CHAIN_QUEUE", default="audit")
AUDIT_CHAIN_PUBLISH_TIMEOUT = env.float("AUDIT_CHAIN_PUBLISH_TIMEOUT", default=0.5)
AUDIT_CHAIN_INTERVAL_SECONDS = env.int("AUDIT_CHAIN_INTERVAL_SECONDS", default=10)
AUDIT_UNCHAINED_MAX_AGE_SECONDS = env.int("AUDIT_UNCHAINED_MAX_AGE_SECONDS", default=60)
# On PostgreSQL the trail is partitioned by month (audit/partitions.py): beat creates this month's and
# the next AUDIT_PARTITION_MONTHS_AHEAD months' partitions every day (idempotent; a DEFAULT partition
# takes any row no partition covers, and the next creation moves them out).
AUDIT_PARTITION_MONTHS_AHEAD = env.int("AUDIT_PARTITION_MONTHS_AHEAD", default=3)
# The notifications too (notifications/partitions.py; their send-once keys stay in one small table).
NOTIFICATIONS_PARTITION_MONTHS_AHEAD = env.int("NOTIFICATIONS_PARTITION_MONTHS_AHEAD", default=3)
# One line per anonymised case (its id and the ids of its destroyed data keys), kept outside the
# database like the checkpoints: after restoring a backup taken before an erasure,
# `manage.py reapply_erasures` destroys those keys again (cases.erasure).
ERASURE_LEDGER_FILE = Path(env.str("ERASURE_LEDGER_FILE", default=str(VAR_DIR / "erasures" / "case-erasures.jsonl")))
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
AUDIT_TRUSTED_PROXIES = env.int("AUDIT_TRUSTED_PROXIES", default=0)

# --- Scheduled tasks -----------------------------------------------------------------------------
# The beat schedule lives here, in code, in this one table. Exactly one beat process runs it.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "config.tasks.heartbeat", "schedule": crontab(minute="*")},
    # Agency groups are a cache of memberships: report and repair any drift (audited).
    "agency-groups-reconcile": {
        "task": "agencies.tasks.reconcile_agency_groups", "schedule": crontab(hour=1, minute=30),
    },
    "deadline-sweep": {"task": "notifications.tasks.sweep_deadlines", "schedule": crontab(minute="*")},
    "outbox-relay": {"task": "notifications.tasks.relay_outbox", "schedule": float(NOTIFICATIONS_RELAY_SWEEP_SECONDS)},
    # CELERY_TIMEZONE is Asia/Ho_Chi_Minh: 02:00 on the 1st, local time, builds last month's reports.
    "monthly-reports": {
        "task": "reports.tasks.build_due_monthly_reports", "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    # Intake drafts past INTAKE_DRAFT_HOURS, and form tokens kept a day (cases.sending), deleted.
    "expired-forms": {"task": "cases.tasks.delete_expired_forms", "schedule": crontab(minute=20)},
    # Expired sessions, the sign-in records of ended ones and failed sign-ins past the lockout, deleted.
    "ended-sessions": {"task": "accounts.tasks.delete_ended_sessions", "schedule": crontab(minute=25)},
    # Retention of closed cases (privacy/data/retention.yaml): notices, then anonymisation. 03:10 local.
    "retention": {"task": "privacy.tasks.apply_retention", "schedule": crontab(hour=3, minute=10)},
    "audit-checkpoint": {"task": "audit.tasks.checkpoint_chain", "schedule": float(AUDIT_ANCHOR_INTERVAL_SECONDS)},
    "audit-chain": {"task": "audit.tasks.chain_pending", "schedule": float(AUDIT_CHAIN_INTERVAL_SECONDS)},
    # Partitions of the audit trail and of the notifications, created ahead once a day.
    "audit-partitions": {"task": "audit.tasks.partitions_ahead", "schedule": 24 * 3600.0},
    "notifications-partitions": {"task": "notifications.tasks.partitions_ahead", "schedule": 24 * 3600.0},
}

# --- Break-glass and supervision ------------------------------------------------------------------
# A break-glass opening of a case lasts this long and then ends by itself.
BREAK_GLASS_HOURS = env.int("BREAK_GLASS_HOURS", default=4)
BREAK_GLASS_REASON_MIN_LENGTH = env.int("BREAK_GLASS_REASON_MIN_LENGTH", default=20)
# The supervisors' review queue checks this often for new items (review-queue.js; no page reload).
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
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The guided intake (cases.intake) keeps a half-typed case on the server this long after its last save.
INTAKE_DRAFT_HOURS = env.int("INTAKE_DRAFT_HOURS", default=24)
# The idle-timeout warning shows this long before the session ends (accounts.views.session_extend).
SESSION_WARNING_SECONDS = env.int("SESSION_WARNING_SECONDS", default=120)
