"""PriceTracker settings: one file, read from the environment.

Every variable is listed with a safe default in `.env.example`. With nothing set,
PriceTracker runs on SQLite and an embedded (filesystem) Celery broker.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from `.env` without overriding the real environment."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # Zero set-up: a key is generated once and kept in the data folder.
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "tracker",
    "deals",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DB_POOL", False
    ):
        # psycopg 3's pool; incompatible with persistent connections (conn_max_age).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 10),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
        }
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and workers write at once: WAL lets readers go on while one writes,
    # IMMEDIATE takes the write lock at BEGIN (no lock upgrade deadlock), and the
    # busy timeout makes a writer wait instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                f"PRAGMA busy_timeout={env_int('SQLITE_BUSY_TIMEOUT', 30) * 1000};"
            ),
        }
    )

# Concurrent test runs on one machine (several developers, CI) must not share a test database.
if env_str("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DB_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_URL = env_str("REDIS_URL")

# --- Auth, i18n, static -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("PLAIN_STATIC", False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (production values when DEBUG is off) -------------------------------------
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS and env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Celery -----------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for _sub in ("queue", "processed"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # Above the longest task's hard time limit, so a running task is never handed out twice;
    # a task whose worker died is redelivered after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900),
    }
    if env_str("CELERY_KEY_PREFIX"):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_KEY_PREFIX")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 2000)
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
# High-priority checks have a queue of their own, so they never wait behind low ones.
CELERY_TASK_QUEUES_NAMES = ["checks_high", "checks_normal", "checks_low", "default", "llm", "browser"]

# Periodic tasks: one reviewed place. `tracker.schedules.sync_periodic_tasks` writes them
# into django-celery-beat's tables (run by `migrate`), so they show in the admin.
PERIODIC_TASKS = {
    # Every minute: claim listings that are due and queue their checks.
    "dispatch-due-checks": {"task": "tracker.tasks.dispatch_due_checks", "every_seconds": 60},
    # Daily at 02:00: re-validate each store's active extraction pattern.
    "check-pattern-health": {
        "task": "tracker.tasks.check_pattern_health",
        "crontab": {"minute": "0", "hour": "2"},
    },
    # Every 5 minutes: queue a scan of each deal source that is due.
    "scan-deal-sources": {"task": "deals.scout.tasks.scan_all", "every_seconds": 300},
    # Nightly at 03:00: recompute deal comparables and scores.
    "refresh-deal-comparables": {
        "task": "deals.scout.tasks.refresh_comps",
        "crontab": {"minute": "0", "hour": "3"},
    },
    # Hourly: mark deal listings that vanished from their source as gone/sold.
    "reconcile-deal-listings": {
        "task": "deals.scout.tasks.reconcile_listings",
        "crontab": {"minute": "15"},
    },
    # Hourly on the hour (queue default): send digests, release notifications held back by
    # quiet hours, settle notifications a dead worker left "sending".
    "send-notifications": {"task": "deals.tasks.send_notifications", "crontab": {"minute": "0"}},
}

# --- Checks and scheduling --------------------------------------------------------------
CHECK_INTERVALS = {
    "high": env_int("CHECK_INTERVAL_HIGH", 15 * 60),
    "normal": env_int("CHECK_INTERVAL_NORMAL", 60 * 60),
    "low": env_int("CHECK_INTERVAL_LOW", 24 * 60 * 60),
}
# Each listing's next check is moved by up to this share of its interval, so checks spread out.
CHECK_JITTER = env_float("CHECK_JITTER", 0.1)
DISPATCH_BATCH_SIZE = env_int("DISPATCH_BATCH_SIZE", 5000)
# A check queued or running for longer than this is considered lost and queued again.
CHECK_STALE_AFTER = env_int("CHECK_STALE_AFTER", 5 * 60)

# --- Fetching ---------------------------------------------------------------------------
FETCH_USER_AGENT = env_str(
    "FETCH_USER_AGENT",
    "Mozilla/5.0 (compatible; PriceTracker/1.0; +https://github.com/pricetracker)",
)
FETCH_CONNECT_TIMEOUT = env_float("FETCH_CONNECT_TIMEOUT", 5.0)
FETCH_READ_TIMEOUT = env_float("FETCH_READ_TIMEOUT", 15.0)
FETCH_DEADLINE = env_float("FETCH_DEADLINE", 30.0)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 5 * 1024 * 1024)
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 5)
# Hosts or networks that the fetch gate lets through although they are private/loopback.
# The demo shop and the tests use it for 127.0.0.1. Comma-separated names or CIDRs.
FETCH_ALLOW_HOSTS = env_list("FETCH_ALLOW_HOSTS", "")
FETCH_RESPECT_ROBOTS = env_bool("FETCH_RESPECT_ROBOTS", True)

# --- Alerts and notifications (deals/) -------------------------------------------------
# Key(s) that encrypt channel URLs at rest (comma-separated: the first encrypts, all decrypt).
# Empty: a key derived from SECRET_KEY (changing SECRET_KEY then makes channels unreadable).
CHANNEL_ENCRYPTION_KEY = env_str("CHANNEL_ENCRYPTION_KEY")
CHANNEL_SEND_TIMEOUT = env_float("CHANNEL_SEND_TIMEOUT", 30.0)
DEALS_DELIVERY_MAX_ATTEMPTS = env_int("DEALS_DELIVERY_MAX_ATTEMPTS", 6)
# A notification "sending" for longer than this is settled by the hourly send_notifications.
DEALS_DELIVERY_STALE_AFTER = env_int("DEALS_DELIVERY_STALE_AFTER", 15 * 60)
# E-mail (Django's mail settings; also the "e-mail" channel type).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PriceTracker <pricetracker@localhost>")

# --- Demo shop --------------------------------------------------------------------------
DEMO_SHOP_ENABLED = env_bool("DEMO_SHOP_ENABLED", False)
DEMO_SHOP_URL = env_str("DEMO_SHOP_URL", "http://127.0.0.1:8001").rstrip("/")

# --- LLM (any OpenAI-compatible endpoint) ------------------------------------------------
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 60.0)

# --- Extraction patterns ----------------------------------------------------------------
# An active pattern that fails this many checks in a row goes on probation and is re-learned.
PATTERN_PROBATION_AFTER = env_int("PATTERN_PROBATION_AFTER", 3)
# How many of a store's recent pages a pattern is validated on.
PATTERN_SAMPLE_PAGES = env_int("PATTERN_SAMPLE_PAGES", 5)
# The latest page of each listing is kept (for validation and the "help" UI), capped here.
LISTING_PAGE_MAX_CHARS = env_int("LISTING_PAGE_MAX_CHARS", 1_000_000)

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
