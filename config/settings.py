"""Settings, all from the environment (12-factor).

Development defaults are safe and need no server: a SQLite file (WAL mode) and Redis at
127.0.0.1:6379 (``make run`` starts an embedded one if nothing answers there). Production
sets ``DEBUG=false`` plus the variables listed in the README and must pass
``manage.py check --deploy`` (a test runs it).
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import quote

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from redis.connection import parse_url as parse_redis_url

from core.redis import channel_layer_host

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Off unless asked for: `make run` and `make test` turn it on, a deployment never does.
DEBUG = env.bool("DEBUG", default=False)

# A development key is generated per checkout (git-ignored); production must set one.
if "SECRET_KEY" in env:
    SECRET_KEY = env.str("SECRET_KEY")
elif DEBUG:
    _key_file = VAR_DIR / "dev-secret-key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(exist_ok=True)
        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()
else:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: hashed at rest, expiring (see "API tokens and safe defaults")
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN (works offline, CSP)
    "channels",
    # Login limits (lockout per account and per address) and two-step login (TOTP plus
    # recovery codes): see "Login limits and MFA" below.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The platform (core, directory, deadlines), then the domain apps above it; the layers
    # are in docs/architecture.md and held by import-linter (make lint).
    "core",
    "directory",
    "deadlines",
    "audit",
    "idempotency",
    "attachments",
    "crisis",
    "hotline",
    "humanitarian",
    "feeds",
    "cyber",
    "exercises",
    "review",
    # Platform too (above the directory, below crisis), listed last only so that seed_demo,
    # which runs each app's demo in this order, seeds them after the demo's desks and people.
    "rosters",
    "paging",
    # The top of the domain: the full record of a crisis reads every app above.
    "records",
]

MIDDLEWARE = [
    # First: every request is counted and timed, and every log line it causes (and every
    # task it enqueues) carries its request id (docs/operations.md, Metrics and Logs).
    "core.logs.RequestContextMiddleware",
    "core.metrics.RequestMetricsMiddleware",
    # A view that lost the database answers 503 + Retry-After, not 500 (core/errors.py).
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.LimitRequestBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the person's own choice (below), else a cookie, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A logged-in person's remembered language wins over the browser's (docs/console.md).
    "core.i18n.PersonLanguageMiddleware",
    # The admin runs in the person's desk's zone (the console does so per view).
    "core.console.shell.AdminDeskTimeZoneMiddleware",
    # Which second factor (if any) this session passed; then sessions that owe one end.
    "django_otp.middleware.OTPMiddleware",
    "core.mfa.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RejectNulBytesMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the locked-out answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between concurrent writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    # A kept (or pooled) connection is tested before reuse: a restarted or failed-over
    # PostgreSQL costs no failed request (docs/operations.md, "Sizing").
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    if not env.bool("DATABASE_JIT", default=False):
        # PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost:
        # 50-500 ms spent compiling reads that run in 1-15 ms (the console's line counts,
        # measured: docs/performance.md). Off for this app's sessions; DATABASE_JIT=true
        # sends nothing (a pooler that refuses startup options, or JIT set server-side).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    if env.bool("DATABASE_POOL", default=False):
        # Web processes (config/asgi.py sets DATABASE_POOL=true unless told) borrow
        # connections from one pool per process (psycopg_pool, through Django): under ASGI
        # every HTTP request runs on a thread of its own, so a connection kept per thread
        # (CONN_MAX_AGE) is never reused and open connections grow with concurrent
        # requests. A request or a websocket action borrows one and gives it back when it
        # ends; at most DATABASE_POOL_MAX_SIZE per process, and a caller past that waits
        # up to DATABASE_POOL_TIMEOUT seconds (then 503 database_unavailable).
        # Workers, beat and management commands keep a connection of their own.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them (Django requires 0)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10),
            "name": "web",
        }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, hotline fan-out, websocket tickets, Celery broker -------------
# One Redis, given either way (docs/operations.md, "Redis: password and Sentinel"):
# - REDIS_URL alone: redis://[:password@]host:port/db (the password as requirepass sets it);
# - REDIS_SENTINELS (host:port,host:port): the sentinels name the master of
#   REDIS_SENTINEL_MASTER, and follow it through a failover. REDIS_URL then gives only the
#   master's password and database index; its host and port are not used.
#   REDIS_SENTINEL_PASSWORD is the sentinels' own password (their requirepass), if any.
# Everything that talks to Redis goes through these: CHANNEL_LAYERS, CELERY_BROKER_URL and
# its transport options below, and core.redis (fan-out, tickets, probes), which asks
# core.redis_connection where the master is.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# Every Redis call is bounded (core/redis.py): with Redis down or unreachable, actions still
# commit and answer in their normal time, and live clients catch up from the database.
REDIS_CONNECT_TIMEOUT_SECONDS = env.float("REDIS_CONNECT_TIMEOUT_SECONDS", default=0.5)
REDIS_COMMAND_TIMEOUT_SECONDS = env.float("REDIS_COMMAND_TIMEOUT_SECONDS", default=1.0)
# channels_redis forgets a group membership this long after it was (re-)added; every
# websocket connection re-adds its groups every CHANNEL_GROUP_REJOIN_SECONDS (far less).
CHANNEL_GROUP_EXPIRY_SECONDS = env.int("CHANNEL_GROUP_EXPIRY_SECONDS", default=86400)
CHANNEL_GROUP_REJOIN_SECONDS = env.float(
    "CHANNEL_GROUP_REJOIN_SECONDS", default=min(3600.0, CHANNEL_GROUP_EXPIRY_SECONDS / 4)
)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(f"REDIS_SENTINELS: {text!r} is not host:port")
    return host.strip("[]"), int(port)


REDIS_SENTINELS = [_host_port(s) for s in env.list("REDIS_SENTINELS", default=[]) if s.strip()]
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
REDIS_SENTINEL_PASSWORD = env.str("REDIS_SENTINEL_PASSWORD", default="")
# What the sentinels' master needs from REDIS_URL: {"username", "password", "db"}.
_redis_url = parse_redis_url(REDIS_URL)
REDIS_MASTER_OPTIONS = {
    key: _redis_url[key] for key in ("username", "password", "db") if _redis_url.get(key)
}
REDIS_SENTINEL_OPTIONS = {"password": REDIS_SENTINEL_PASSWORD} if REDIS_SENTINEL_PASSWORD else {}

# channels_redis: our timeouts and health check (core/redis.py), reached by URL or through
# the sentinels (the rest of the entry goes to the master's connection pool).
_layer_host = channel_layer_host(REDIS_URL, connect_seconds=REDIS_CONNECT_TIMEOUT_SECONDS)
if REDIS_SENTINELS:
    del _layer_host["address"]
    _layer_host.update(
        sentinels=REDIS_SENTINELS,
        master_name=REDIS_SENTINEL_MASTER,
        sentinel_kwargs=REDIS_SENTINEL_OPTIONS or None,
        **REDIS_MASTER_OPTIONS,
    )
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [_layer_host],
            "group_expiry": CHANNEL_GROUP_EXPIRY_SECONDS,
        },
    }
}

# --- Celery ------------------------------------------------------------------------------
# The broker is REDIS_URL's Redis (or the sentinels' master) unless CELERY_BROKER_URL names
# another one. Kombu's sentinel transport: sentinel://[:password@]host:port/db, one per
# sentinel joined by ';', the master's name and the sentinels' password in transport options.
if env.str("CELERY_BROKER_URL", default=""):
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
elif REDIS_SENTINELS:
    _auth = (
        f"{quote(_redis_url.get('username') or '', safe='')}:"
        f"{quote(_redis_url['password'], safe='')}@"
        if _redis_url.get("password")
        else ""
    )
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{_auth}{host}:{port}/{_redis_url.get('db') or 0}"
        for host, port in REDIS_SENTINELS
    )
else:
    CELERY_BROKER_URL = REDIS_URL
# Results are not used: the database is the source of truth for every outcome.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# JSON only: a task takes ids, never pickled objects.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Acknowledge after the task ran, and requeue it if the worker process dies mid-task;
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per worker process, so a long task never holds others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard and soft limits so a stuck task cannot block a worker process forever.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Time-critical work (escalation, flash acknowledgements) has its own queue so that
# bulk work (reports, imports) never delays it.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "deadlines.tasks.*": {"queue": "escalation"},
    "paging.tasks.*": {"queue": "escalation"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged message after this many seconds. We never hand the
# broker an ETA further away than the deadline horizon, which stays far below it.
# Socket timeouts: a broker that stopped answering fails a send in about a second
# instead of hanging the request that enqueues after its commit (the deadline sweep
# and the job reaper pick up what was not sent).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    "socket_keepalive": True,
    # A producer (a request enqueueing after its commit) tries to connect once, not again
    # after a sleep; workers reconnect on their own (broker_connection_retry).
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
if CELERY_BROKER_URL.startswith("sentinel://"):
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
    if REDIS_SENTINEL_OPTIONS:
        CELERY_BROKER_TRANSPORT_OPTIONS["sentinel_kwargs"] = REDIS_SENTINEL_OPTIONS
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Deadlines (the escalation engine, docs/escalation.md) -------------------------------
# The broker is handed an ETA only this far ahead; further deadlines wait in the database.
DEADLINE_ENQUEUE_HORIZON_SECONDS = env.float("DEADLINE_ENQUEUE_HORIZON_SECONDS", default=60)
# Beat runs the safety sweep this often; it fires deadlines overdue by more than the grace.
DEADLINE_SWEEP_INTERVAL_SECONDS = env.float("DEADLINE_SWEEP_INTERVAL_SECONDS", default=2)
DEADLINE_RESCUE_GRACE_SECONDS = env.float("DEADLINE_RESCUE_GRACE_SECONDS", default=1)
# A firing batch commits after this long and hands back the rows it did not reach.
DEADLINE_BATCH_SECONDS = env.float("DEADLINE_BATCH_SECONDS", default=2)
# A failed handler run is retried after this long.
DEADLINE_RETRY_DELAY_SECONDS = env.float("DEADLINE_RETRY_DELAY_SECONDS", default=10)
# Bulk-armed deadlines share one firing task per slot of at least this many milliseconds,
# and one bulk call sends at most DEADLINE_MAX_SLOT_TASKS tasks (slots widen beyond that).
DEADLINE_SLOT_MS = env.float("DEADLINE_SLOT_MS", default=20)
DEADLINE_MAX_SLOT_TASKS = env.int("DEADLINE_MAX_SLOT_TASKS", default=300)
# The watchdog (/status) fails when the sweep is older or a deadline is overdue by more.
DEADLINE_SWEEP_STALE_SECONDS = env.float("DEADLINE_SWEEP_STALE_SECONDS", default=30)
DEADLINE_OVERDUE_ALERT_SECONDS = env.float("DEADLINE_OVERDUE_ALERT_SECONDS", default=30)
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < DEADLINE_ENQUEUE_HORIZON_SECONDS * 2:
    raise ImproperlyConfigured(
        "DEADLINE_ENQUEUE_HORIZON_SECONDS must stay well below CELERY_VISIBILITY_TIMEOUT"
    )

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
# django-axes first: it refuses a locked-out account or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Who is asking (desks, roles, reach): the platform asks the directory through this name.
ACCESS_RESOLVER = "directory.access.access_for"

# --- Login limits and MFA -------------------------------------------------------------------
# Every way in (the console's /login/ and its code step, /admin/login/ which sends people
# there, POST /api/v1/auth/token/) counts failures in the database, which all web
# processes share (django-axes). An account is locked after AXES_FAILURE_LIMIT failures
# from anywhere, and an address after as many failures on any accounts; each lock lasts
# LOGIN_LOCKOUT_MINUTES after the last failure. A wrong two-step code counts as a failure.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
# A successful log-in clears its account's failures (see core.logins), never the
# address's: otherwise one valid account would wipe an address's count between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "core.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "core.logins.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "code"]
# Addresses (or CIDR networks), comma-separated, of the reverse proxies in front of the web
# processes. Only a connection from one of them may name the client in X-Forwarded-For;
# empty trusts nobody. uvicorn gets the same list (--forwarded-allow-ips: Procfile,
# Dockerfile), so Django and uvicorn agree on who the client is.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or network (e.g. 10.0.0.0/8)"
        ) from None
# Two-step login (TOTP, with one-use recovery codes). When true, staff and coordinators
# must set it up and use it on the console, the admin and the token endpoint; everyone
# else may. `make run` turns it off for the demo and says so.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=True)
OTP_TOTP_ISSUER = env.str("MFA_ISSUER", default="Crisis hotline")
# How long the code step may follow the password step.
MFA_PENDING_SECONDS = 300

# --- API tokens and safe defaults ------------------------------------------------------
# API tokens (django-rest-knox): the database keeps a SHA-512 hash, never the key; each
# expires API_TOKEN_TTL_HOURS after it was issued (POST /api/v1/auth/token/refresh/
# swaps it for a new one).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.float("API_TOKEN_TTL_HOURS", default=12)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# A websocket ticket (POST /api/v1/auth/ws-ticket/, /ws/v1/?ticket=) opens one connection
# within this many seconds.
WS_TICKET_TTL_SECONDS = env.int("WS_TICKET_TTL_SECONDS", default=30)

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "directory.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    # JSON bodies bounded in size and nesting depth (400 too_deeply_nested): core/parsers.py.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Crisis hotline coordination API",
    "DESCRIPTION": (
        "REST API for national desks: member states and desks, crises and their "
        "escalation, hotlines, humanitarian assistance. Errors have one shape: "
        '`{"code": "...", "message": "...", "details": {...}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/docs/ from the drf-spectacular-sidecar package: no CDN, nothing inline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation declares the error statuses, with the one error shape (core/errors.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.errors.declare_error_responses",
    ],
    # One name per choice set used under several field names (role, status, priority).
    "ENUM_NAME_OVERRIDES": {
        "DeskRoleEnum": "directory.models.Role",
        "ParticipantRoleEnum": "crisis.models.protocols.ParticipantRole",
        "CrisisStatusEnum": "crisis.models.crises.CrisisStatus",
        "ProtocolVersionStatusEnum": "crisis.models.protocols.VersionStatus",
        "ChannelKindEnum": "hotline.models.ChannelKind",
        "MessageKindEnum": "hotline.models.MessageKind",
        "ChannelEventKindEnum": "hotline.models.ChannelEventKind",
        "MessagePriorityEnum": "hotline.models.Priority",
        "TLPEnum": "core.tlp.TLP",
        "AttachmentKindEnum": "attachments.models.AttachmentKind",
        "RequestPriorityEnum": "humanitarian.models.assistance.Priority",
        "RequestStatusEnum": "humanitarian.models.RequestStatus",
        "PledgeStatusEnum": "humanitarian.models.PledgeStatus",
        "ShelterStatusEnum": "humanitarian.models.ShelterStatus",
        "ImportStatusEnum": "humanitarian.models.ImportStatus",
        "UrgencyEnum": "paging.models.Urgency",
        "PageStateEnum": "paging.models.PageState",
        "AttemptStateEnum": "paging.models.AttemptState",
        "DeadlineStateEnum": "deadlines.models.DeadlineState",
        "CapFeedStatusEnum": "feeds.models.FeedStatus",
        "CapFeedEntryOutcomeEnum": "feeds.models.EntryOutcome",
        "CyberItemKindEnum": "cyber.models.ItemKind",
        "ExerciseRunStatusEnum": "exercises.models.RunStatus",
        "InjectStatusEnum": "exercises.models.InjectStatus",
    },
}

# --- I18N and time ------------------------------------------------------------------------
# The console, e-mails and SMS texts speak these (docs/console.md, "Languages"); each has
# locale/<code>/LC_MESSAGES/django.po, compiled at install (manage.py compile_translations).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("id", "Bahasa Indonesia"),
    ("th", "ไทย"),
    ("vi", "Tiếng Việt"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Where a person's chosen language is kept (core offers the hook, paging keeps the field).
PERSON_LANGUAGE_RESOLVER = "paging.preferences.language_for"
PERSON_LANGUAGE_RECORDER = "paging.preferences.remember_language"
TIME_ZONE = "UTC"
USE_I18N = True
# ISO dates and 24-hour times with the zone in every language (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Attachments (docs/interoperability.md): local disk under var/ unless configured, e.g.
    # ATTACHMENTS_STORAGE_BACKEND=storages.backends.s3.S3Storage with its options as JSON in
    # ATTACHMENTS_STORAGE_OPTIONS (needs django-storages[s3] installed; not a dependency).
    "attachments": {
        "BACKEND": env.str(
            "ATTACHMENTS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "ATTACHMENTS_STORAGE_OPTIONS",
            default={"location": str(VAR_DIR / "attachments")},
        ),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns if missing

# --- Security (production) ----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Content Security Policy (django-csp): scripts and style sheets from this origin only, no
# inline script anywhere; a <style> element needs the response's nonce (the printable gap
# summary). Inline style attributes stay allowed (bar widths, chart sizes): they cannot run
# code. Websockets are same-origin ('self' covers ws/wss on this host).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health probes come over plain HTTP from the orchestrator.
    # So are Prometheus scrapes of /metrics (bearer token; keep it off the public proxy).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^status$", r"^metrics$"]
    if env.bool("BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging ------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (python-json-logger), with the request id,
# crisis and line of the request or task that wrote it (core/logs.py). Web processes,
# workers and beat all log through this (config/celery.py), uvicorn's own lines too.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": (
        {
            name: {"handlers": ["console"], "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        }
        if LOG_FORMAT == "json"
        else {}
    ),
}

# --- Metrics (core/metrics.py, docs/operations.md) ----------------------------------------
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; unset, it is a 404.
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself, from the environment) makes
# every web process and worker count into one directory, so one scrape sees them all.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- CAP 1.2 ---------------------------------------------------------------------------
# The <sender> of the CAP alerts this service issues (a domain name of the operator).
CAP_SENDER = env.str("CAP_SENDER", default="crisis-hotline.example.org")
# National agencies' CAP feeds (docs/interoperability.md), beside those added in the admin:
# a JSON list of {"url", "state", "agency"}; kept in step at every poll (removed: switched off).
CAP_FEEDS = env.json("CAP_FEEDS", default=[])
# Beat looks for due feeds this often; a failing feed waits this long doubled per failure in
# a row, at most CAP_FEED_MAX_BACKOFF_SECONDS.
CAP_FEED_POLL_SECONDS = env.int("CAP_FEED_POLL_SECONDS", default=120)
CAP_FEED_MAX_BACKOFF_SECONDS = env.int("CAP_FEED_MAX_BACKOFF_SECONDS", default=3600)
# Each HTTP step and each whole document (feed or alert) within this many seconds.
CAP_FEED_TIMEOUT_SECONDS = env.float("CAP_FEED_TIMEOUT_SECONDS", default=10)
# A feed document at most this large (an alert: crisis.cap.MAX_BYTES, 512 KiB).
CAP_FEED_MAX_BYTES = env.int("CAP_FEED_MAX_BYTES", default=2 * 1024 * 1024)
# One pass over a feed takes at most this many new entries and this long; the rest waits.
CAP_FEED_MAX_ENTRIES = env.int("CAP_FEED_MAX_ENTRIES", default=50)
CAP_FEED_PASS_SECONDS = env.float("CAP_FEED_PASS_SECONDS", default=120)

# --- Demo ---------------------------------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo")

# --- Hotline ------------------------------------------------------------------------------
# Per-connection websocket frame rate (token bucket) and how many refused frames in a
# row close the connection (4429); the outgoing queue a slow client may fill (4408).
HOTLINE_WS_RATE_PER_SECOND = env.float("HOTLINE_WS_RATE_PER_SECOND", default=30)
HOTLINE_WS_BURST = env.int("HOTLINE_WS_BURST", default=60)
HOTLINE_WS_MAX_VIOLATIONS = env.int("HOTLINE_WS_MAX_VIOLATIONS", default=20)
HOTLINE_WS_OUTBOX = env.int("HOTLINE_WS_OUTBOX", default=2000)
# How often each web process refreshes the presence rows of its open connections (a row
# not refreshed for 90 s belongs to a dead process: beat's presence sweep removes it).
HOTLINE_PRESENCE_HEARTBEAT_SECONDS = env.float("HOTLINE_PRESENCE_HEARTBEAT_SECONDS", default=30)
# The fan-out hub PINGs Redis this often and reconnects after this long without an answer
# (a half-open connection never errors by itself); it keeps at most this many committed
# events waiting to be published while Redis is away (oldest dropped: clients re-read).
HOTLINE_HUB_PING_SECONDS = env.float("HOTLINE_HUB_PING_SECONDS", default=5)
HOTLINE_HUB_DEAD_SECONDS = env.float("HOTLINE_HUB_DEAD_SECONDS", default=12)
HOTLINE_HUB_MAX_PENDING = env.int("HOTLINE_HUB_MAX_PENDING", default=10000)
# Each web process reads the heads of the lines it follows this often; a connection still
# short of the previous check's head lost a live event and re-reads (0: never).
HOTLINE_HUB_HEAD_CHECK_SECONDS = env.float("HOTLINE_HUB_HEAD_CHECK_SECONDS", default=2)
# Threads (each with its own database connection) serving websocket actions per process.
HOTLINE_DB_THREADS = env.int("HOTLINE_DB_THREADS", default=16)
# How long the other side has to acknowledge a line check, and how often lines are checked.
HOTLINE_LINE_CHECK_TIMEOUT_SECONDS = env.int("HOTLINE_LINE_CHECK_TIMEOUT_SECONDS", default=600)
HOTLINE_LINE_CHECK_EVERY_SECONDS = env.int("HOTLINE_LINE_CHECK_EVERY_SECONDS", default=6 * 3600)
# Crisis rooms opened by people: most desks (invitations included); flash ack deadline bounds.
HOTLINE_ROOM_MAX_MEMBERS = env.int("HOTLINE_ROOM_MAX_MEMBERS", default=30)
HOTLINE_ACK_DEADLINE_MIN_SECONDS = env.int("HOTLINE_ACK_DEADLINE_MIN_SECONDS", default=60)
HOTLINE_ACK_DEADLINE_MAX_SECONDS = env.int("HOTLINE_ACK_DEADLINE_MAX_SECONDS", default=86400)

# --- Humanitarian ---------------------------------------------------------------------------
# How often beat sweeps for pledges past their ETA and needs past their needed-by date.
HUMANITARIAN_REMINDER_SECONDS = env.int("HUMANITARIAN_REMINDER_SECONDS", default=900)

# --- Periodic work (Celery beat), all in one place ------------------------------------------
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "deadlines.tasks.sweep_deadlines",
        "schedule": DEADLINE_SWEEP_INTERVAL_SECONDS,
        # A sweep nobody ran in time is useless; the next one does the same work.
        "options": {"expires": max(DEADLINE_SWEEP_INTERVAL_SECONDS * 3, 5)},
    },
    "hotline-line-checks": {
        "task": "hotline.tasks.send_line_checks",
        "schedule": HOTLINE_LINE_CHECK_EVERY_SECONDS,
    },
    # Presence rows a crashed web process left behind: removed, desks announced offline.
    "hotline-presence-sweep": {
        "task": "hotline.tasks.sweep_presence",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    # Import jobs whose task was lost (broker down at upload) or killed (time limit).
    "humanitarian-import-reaper": {
        "task": "humanitarian.tasks.reap_import_jobs",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    # Reminders scan the database (idempotent: a sent reminder is recorded).
    "humanitarian-reminders": {
        "task": "humanitarian.tasks.send_reminders",
        "schedule": HUMANITARIAN_REMINDER_SECONDS,
    },
    # National agencies' CAP feeds: one task per due feed (feeds.services has the rules).
    "cap-feeds": {
        "task": "feeds.tasks.poll_cap_feeds",
        "schedule": CAP_FEED_POLL_SECONDS,
        "options": {"expires": CAP_FEED_POLL_SECONDS},
    },
    # The daily situation report, once per active crisis and day.
    "humanitarian-daily-sitrep": {
        "task": "humanitarian.tasks.post_daily_situation_reports",
        "schedule": crontab(hour=0, minute=5),
    },
    # Sign where the timeline's chains and the hotline transcripts stand (docs/security.md).
    "timeline-checkpoint": {
        "task": "crisis.tasks.checkpoint_timeline",
        "schedule": crontab(hour=0, minute=20),
    },
    # Purge what the retention policies say is kept no longer (docs/operations.md).
    "retention": {
        "task": "core.tasks.run_retention",
        "schedule": crontab(hour=2, minute=40),
    },
}

# --- Audit, timeline anchoring, retention (docs/security.md, docs/operations.md) ----------
# The Ed25519 key that signs the daily timeline checkpoint (a PEM file outside the database
# and the repository). Unset: checkpoints are skipped with a log line. Production sets it.
TIMELINE_SIGNING_KEY_FILE = env.str("TIMELINE_SIGNING_KEY_FILE", default="")
# The public key(s) verify_timeline trusts (PEM; several after a key rotation). Unset:
# signatures are checked against the key stored with each checkpoint, which proves little.
TIMELINE_VERIFY_KEY_FILE = env.str("TIMELINE_VERIFY_KEY_FILE", default="")
# Transcripts chained into each checkpoint: per line (``line:<id>``), messages in seq order.
TIMELINE_ANCHORED_TRANSCRIPTS = {
    "line": {
        "model": "hotline.Message",
        "group_by": "channel_id",
        "seq": "seq",
        "fields": [
            "kind",
            "sender_id",
            "sender_desk_id",
            "body",
            "priority",
            "client_msg_id",
            "corrects_id",
            "created_at",
        ],
    },
}
# Retention (core/retention.py): days kept per policy; 0 keeps forever. Each policy purges
# at most RETENTION_BATCH_LIMIT rows per run (the next daily run goes on).
RETENTION_BATCH_LIMIT = env.int("RETENTION_BATCH_LIMIT", default=5000)
RETENTION_IMPORT_FILE_DAYS = env.int("RETENTION_IMPORT_FILE_DAYS", default=90)
RETENTION_PRESENCE_DAYS = env.int("RETENTION_PRESENCE_DAYS", default=30)
# API tokens are deleted this many days after they expired (knox keeps them until then).
RETENTION_EXPIRED_TOKEN_DAYS = env.int("RETENTION_EXPIRED_TOKEN_DAYS", default=7)
# Idempotency keys (and the answers they replay) are kept this long: a client retries
# within seconds or minutes, never a day later.
RETENTION_IDEMPOTENCY_KEY_DAYS = env.int("RETENTION_IDEMPOTENCY_KEY_DAYS", default=1)

# --- Input bounds -----------------------------------------------------------------------
# A JSON, XML or form body (and a multipart form's fields) at most this large (413 beyond);
# also how much of an upload is kept in memory before it goes to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# One uploaded file (a displacement CSV) at most this large, counted as it arrives.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# One attachment (a photo, a form, a PDF) at most this large (413 beyond).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# A whole multipart body: the file plus the form around it.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=UPLOAD_MAX_BYTES + 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "core.middleware.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# JSON bodies are bounded in size and nesting depth: REST_FRAMEWORK's parsers above.

# --- Paging (docs/paging.md) ------------------------------------------------------------
# Outgoing mail: smtp://user:password@host:25 (smtp+tls://, smtps://); consolemail:// prints
# it, filemail:///path writes files, memorymail:// keeps it in memory (tests).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds for each step of an SMTP conversation (connect, every command).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Crisis hotline paging <paging@crisis-hotline.example.org>"
)
# The links in pages (ack links, the console) start with this.
PAGING_BASE_URL = env.str("PAGING_BASE_URL", default="http://127.0.0.1:8000")
PAGING_MESSAGE_ID_DOMAIN = env.str("PAGING_MESSAGE_ID_DOMAIN", default=CAP_SENDER)
# An ack link works once and for this long after the page.
PAGING_ACK_LINK_SECONDS = env.int("PAGING_ACK_LINK_SECONDS", default=24 * 3600)
# A contact method's verification code: lifetime and wrong guesses allowed.
PAGING_VERIFY_CODE_SECONDS = env.int("PAGING_VERIFY_CODE_SECONDS", default=900)
PAGING_VERIFY_MAX_TRIES = env.int("PAGING_VERIFY_MAX_TRIES", default=5)
# A send that has not reported back after this long is tried again with the same
# Message-ID (the worker died mid-send); it must outlast the longest SMTP conversation.
PAGING_SEND_TIMEOUT_SECONDS = env.float("PAGING_SEND_TIMEOUT_SECONDS", default=60)
# Attempts claimed together are sent in chunks of this many: the firing worker process
# sends the first, the others go to the escalation queue for the worker's other
# processes (docs/paging.md, Delivery).
PAGING_SEND_CHUNK = env.int("PAGING_SEND_CHUNK", default=25)
# Transient failures are retried after these delays; after PAGING_MAX_TRIES the attempt
# fails and the person's next verified method is paged.
PAGING_RETRY_BACKOFF_SECONDS = [
    float(s) for s in env.list("PAGING_RETRY_BACKOFF_SECONDS", default=["5", "30", "120"])
]
PAGING_MAX_TRIES = env.int("PAGING_MAX_TRIES", default=4)
# Notification rules by role (a person's own rules replace them): urgency -> [[method kind,
# delay in seconds], ...]. Quiet hours hold back urgent and routine, never flash/escalation.
# Steps of a kind the person has no verified method of are skipped (nobody with only
# e-mail gets three e-mails), so: loud pages by SMS at once, a call after two minutes unless
# acknowledged first, and e-mail beside; routine by e-mail only (PagerDuty's low urgency).
PAGING_DEFAULT_RULES = {
    role: {
        "flash": [["sms", 0], ["email", 0], ["voice", 120]],
        "escalation": [["sms", 0], ["email", 0], ["voice", 120]],
        "urgent": [["sms", 0], ["email", 0]],
        "routine": [["email", 0]],
    }
    for role in ("operator", "supervisor", "coordinator")
}
# SMS and voice through Twilio's REST API (or a service speaking it at SMS_PROVIDER_URL).
# Offered to people only while the account, token and sending number are all set.
SMS_PROVIDER_URL = env.str("SMS_PROVIDER_URL", default="https://api.twilio.com")
SMS_PROVIDER_ACCOUNT = env.str("SMS_PROVIDER_ACCOUNT", default="")
SMS_PROVIDER_TOKEN = env.str("SMS_PROVIDER_TOKEN", default="")
SMS_PROVIDER_FROM = env.str("SMS_PROVIDER_FROM", default="")  # E.164, e.g. +6620000000
# Seconds an HTTP send (SMS/voice provider, desk webhooks) may wait for each step; by
# default 10, or less if the watchdog is shorter (it must outlast three of them).
PAGING_HTTP_TIMEOUT_SECONDS = env.float(
    "PAGING_HTTP_TIMEOUT_SECONDS", default=min(10.0, PAGING_SEND_TIMEOUT_SECONDS / 3)
)
# Desk webhooks must be https:// unless this is off (development, tests on localhost).
PAGING_WEBHOOK_REQUIRE_HTTPS = env.bool("PAGING_WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
if PAGING_SEND_TIMEOUT_SECONDS < 3 * PAGING_HTTP_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "PAGING_SEND_TIMEOUT_SECONDS must be at least three PAGING_HTTP_TIMEOUT_SECONDS, or a "
        "slow send would be sent twice"
    )
if PAGING_SEND_TIMEOUT_SECONDS < 3 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        "PAGING_SEND_TIMEOUT_SECONDS must be at least three EMAIL_TIMEOUTs, or a slow send "
        "would be sent twice"
    )
