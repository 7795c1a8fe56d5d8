"""Settings shared by every environment; everything that varies comes from the environment.

The variables and their defaults are the contract of ``interfaces.md`` (Configuration).
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "areas",
    "accounts",
    "households",
    "indicators",
    "deadlines",
    "signoff",
    "monitoring",
    "notices",
    "workspace",
]

MIDDLEWARE = [
    "relocation.db_router.ReplicaReadsMiddleware",  # first: decides where this request's reads go
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "relocation.middleware.NoStoreForUsersMiddleware",  # no cached personal data (issue 17)
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "accounts.login_limit.AddressLimitBackend",  # refuses an address with too many failures (any username)
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AreaModelBackend",  # ModelBackend, loading the user's area with the user
]

# Lock a username from one address after repeated failures (offices share a NAT, so not per IP alone).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# ... and lock the address itself after this many failures over all usernames (accounts/login_limit.py).
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "30"))

# Everything is vendored: no CDN, no inline script without a nonce.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

ROOT_URLCONF = "relocation.urls"
WSGI_APPLICATION = "relocation.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
# An optional streaming replica for the reads of pages and the API's GETs (relocation/db_router.py,
# docs/scaling.md). Tests never create a database there: it mirrors the primary.
REPLICA_DATABASE_URL = os.environ.get("REPLICA_DATABASE_URL", "")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["relocation.db_router.ReplicaRouter"]
READ_YOUR_WRITES_SECONDS = int(os.environ.get("READ_YOUR_WRITES_SECONDS", "5"))
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "10"))
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "1"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Sessions: idle timeout (SESSION_COOKIE_AGE, refreshed on every request) and an absolute lifetime.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_LIFETIME = 12 * 60 * 60

# Personal data keys (access.md): AES-256-GCM for the value, HMAC-SHA256 blind index for lookup.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "")
# Earlier field keys, kept only to decrypt until `rotate_personal_data_keys` has re-encrypted everything.
FIELD_ENCRYPTION_OLD_KEYS = env_list("FIELD_ENCRYPTION_OLD_KEYS", "")

REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, object]]
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # The database cache is shared by the web server and the worker, unlike the local-memory cache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}}
# Per process, for content whose key changes whenever it would (rendered dashboard parts, keyed by the
# finished run): a hit costs no query and no unpickling of a large blob from the shared cache.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-local",
    "OPTIONS": {"MAX_ENTRIES": 300},
}

# Celery: without a broker every task runs in-process (commands, tests). See interfaces.md.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# visibility_timeout is a Redis option; kombu's SQLAlchemy transport (the embedded broker) hands its
# transport options to create_engine(), which rejects unknown arguments.
CELERY_BROKER_TRANSPORT_OPTIONS = {} if CELERY_BROKER_URL.startswith("sqla+") else {"visibility_timeout": 7200}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# autodiscover_tasks() only imports each app's tasks.py; these modules hold tasks too.
CELERY_IMPORTS = ["indicators.assessment.tasks", "indicators.dashboards.tasks", "indicators.health"]
# Warm the dashboards' cached parts on the worker after every finished run (indicators/dashboards/parts.py);
# without a broker there is no worker to do it.
DASHBOARD_WARM = bool(CELERY_BROKER_URL)
# Named queues, so that a long national import never holds up a recompute, nor a report the imports
# (docs/deploy.md, docs/scaling.md). A worker started without -Q consumes all four (bin/run's embedded
# worker); production runs any number of workers per queue.
from celery.schedules import crontab  # noqa: E402
from kombu import Exchange, Queue  # noqa: E402

CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_QUEUE_NAMES = ("default", "compute", "imports", "reports")
# One direct exchange per queue: queues sharing an exchange and routing key would each get a copy.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in CELERY_QUEUE_NAMES]
CELERY_TASK_ROUTES = {
    "indicators.health.*": {"queue": "default"},
    "notices.tasks.*": {"queue": "default"},
    "*export*": {"queue": "reports"},
    "indicators.tasks_assessment.assessment_report_task": {"queue": "reports"},
    "indicators.tasks_dashboards.*": {"queue": "reports"},
    "households.tasks.*": {"queue": "imports"},
    "indicators.tasks.*": {"queue": "compute"},
    "indicators.tasks_assessment.*": {"queue": "compute"},
}
# Beat every SWEEP_INTERVAL_SECONDS: the sweep also repairs recomputes lost while the broker was down.
SWEEP_INTERVAL_SECONDS = float(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))
# The worker heartbeat read by /healthz (indicators/health.py): written every 30 s, stale after 2 min.
HEALTH_HEARTBEAT_SECONDS = float(os.environ.get("HEALTH_HEARTBEAT_SECONDS", "30"))
HEALTH_HEARTBEAT_STALE_SECONDS = float(os.environ.get("HEALTH_HEARTBEAT_STALE_SECONDS", "120"))
# A change not recomputed after this long makes /healthz answer 503 ("recompute").
HEALTH_PENDING_STALE_SECONDS = float(os.environ.get("HEALTH_PENDING_STALE_SECONDS", "900"))
CELERY_BEAT_SCHEDULE = {
    "sweep-dirty-periods": {"task": "indicators.tasks.sweep_dirty_periods", "schedule": SWEEP_INTERVAL_SECONDS},
    "close-ended-periods": {"task": "indicators.tasks.close_ended_periods", "schedule": 3600.0},
    # Just after midnight: the running periods' reference date moves to the new day, and the values and
    # their basis at that date let the day's edits be recomputed incrementally (docs/incremental.md).
    "nightly-full-recompute": {"task": "indicators.tasks.nightly_recompute", "schedule": crontab(hour=0, minute=5)},
    "worker-heartbeat": {
        "task": "indicators.health.worker_heartbeat",
        "schedule": HEALTH_HEARTBEAT_SECONDS,
        "options": {"expires": HEALTH_HEARTBEAT_SECONDS},  # a backlog of heartbeats proves nothing
    },
    # Uploaded import files hold personal data: none older than a day (access.md).
    "purge-import-files": {"task": "households.tasks.import_jobs_purge_task", "schedule": 3600.0},
    # The 消息中心's digest of what turned 临期/逾期 (issue 21): nightly at 01:30, after the day turned.
    "notices-digest": {"task": "notices.tasks.digest_task", "schedule": crontab(hour=1, minute=30)},
}
# The digest is emailed too when this is on (and the user has an address), through EMAIL_BACKEND;
# PORTAL_URL makes the link in the mail absolute.
NOTICE_EMAIL = os.environ.get("NOTICE_EMAIL", "").lower() in ("1", "true", "yes", "on")
PORTAL_URL = os.environ.get("PORTAL_URL", "")

REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with ``WWW-Authenticate: Token``.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",  # hashed keys that expire (accounts/tokens.py)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with a depth limit (a deeply nested body is a 400 in Chinese, never a 500: issue 17).
    "DEFAULT_PARSER_CLASSES": [
        "relocation.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.APIAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "30/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/minute"),
        "auth": os.environ.get("API_THROTTLE_AUTH", "10/minute"),
        "imports": os.environ.get("API_THROTTLE_IMPORTS", "60/hour"),
    },
}

# API tokens: days until a new token expires; live tokens kept per user (the oldest revoked beyond).
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
API_TOKEN_MAX_PER_USER = int(os.environ.get("API_TOKEN_MAX_PER_USER", "20"))

# Lookups that could confirm a full ID number (issue 17, households/id_lookup.py): full-ID searches
# per user and hour; ID numbers registered outside the user's area that imports may report per user
# and day (above it the whole file is refused), and the count that lists the user to the city admin.
ID_SEARCH_PER_HOUR = int(os.environ.get("ID_SEARCH_PER_HOUR", "20"))
IMPORT_FOREIGN_ID_LIMIT = int(os.environ.get("IMPORT_FOREIGN_ID_LIMIT", "20"))
IMPORT_FOREIGN_ID_FLAG = int(os.environ.get("IMPORT_FOREIGN_ID_FLAG", "5"))

SPECTACULAR_SETTINGS = {
    "TITLE": "娄底市易地扶贫搬迁后续扶持工作平台 API",
    "DESCRIPTION": "REST API v1（interfaces.md）：字段名为 data.md 的键，引用使用编码，选项值为中文。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models share a field name (status, kind, level) with different choices.
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "households.choices.RecordStatus",
        "GrievanceStatusEnum": "households.choices.GrievanceStatus",
        "ActionStatusEnum": "households.choices.ActionStatus",
        "SiteKindEnum": "households.choices.SiteKind",
        "ActionKindEnum": "households.choices.ActionKind",
        "IndicatorKindEnum": "indicators.models.Kind",
        "ValueLevelEnum": "indicators.models.Level",
        "MetEnum": "indicators.models.Met",
        "ImportStatusEnum": "households.models.ImportJob.Status",
        "HouseholdCancelReasonEnum": "households.choices.HouseholdCancelReason",
        "PersonCancelReasonEnum": "households.choices.PersonCancelReason",
        # issue 21: the monitoring cases
        "CaseSourceEnum": "monitoring.models.Source",
        "CaseOpenSourceEnum": "monitoring.api.OPEN_SOURCES",
        "MonitoredCategoryEnum": "households.choices.MONITORED",
        "CategoryEnum": "households.choices.HouseholdCategory",  # the name it had before issue 21
    },
}

IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# Bounds of an uploaded template (households/importing/readers.py, issue 17): rows read at most (empty
# rows count), and the unpacked size of an .xlsx (a zip bomb is refused before anything is unpacked).
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "500000"))
IMPORT_MAX_UNZIPPED_MB = int(os.environ.get("IMPORT_MAX_UNZIPPED_MB", "300"))

# The 年度考核通报 as an official document (GB/T 9704-2012, indicators/assessment/report.py): the issuing
# body of the red 版头 and the signature, the 发文字号 ({issue_year} is the year of the 成文日期), the 主送
# line and the 抄送 line of the 版记.
REPORT_ISSUER = os.environ.get("REPORT_ISSUER", "娄底市易地扶贫搬迁后续扶持工作领导小组办公室")
REPORT_DOC_NUMBER = os.environ.get("REPORT_DOC_NUMBER", "娄易扶办〔{issue_year}〕1号")
REPORT_MAIN_RECIPIENTS = os.environ.get(
    "REPORT_MAIN_RECIPIENTS", "各县市区人民政府，娄底经济技术开发区管委会，市直有关单位"
)
REPORT_COPY_TO = os.environ.get("REPORT_COPY_TO", "市乡村振兴领导小组")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

PORTAL_TITLE = _("娄底市易地扶贫搬迁后续扶持工作平台")
