"""PriceTracker settings: one file, read from the environment, top to bottom.

Helpers, core, apps, middleware, database, cache, security, static files, Celery, the settings
of our apps, logging. Every variable is listed with a safe default in `.env.example`. With
nothing set, PriceTracker runs on SQLite and an embedded (filesystem) Celery broker.

This module only reads. Preparing the data folder, the generated secret key and the `.env` file
is `config.bootstrap.bootstrap()`, called by every entry point before Django is set up.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


# --- Typed helpers: a bad value fails loudly at start ------------------------------------
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


def env_networks(name: str, default: str = "") -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of addresses or networks (10.0.0.5, 172.16.0.0/12, ::1)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} lists addresses or networks, got {item!r}") from exc
    return networks


# --- Core -------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
SECRET_KEY = env_str("SECRET_KEY")
# Zero set-up: without SECRET_KEY, config/bootstrap.py generates a key once into this file.
SECRET_KEY_FILE: Path | None = None if SECRET_KEY else DATA_DIR / "secret_key"
if SECRET_KEY_FILE is not None and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Apps -------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
# ninja: serves the REST API docs page's scripts locally (no CDN)
THIRD_PARTY_APPS = ["django_celery_beat", "csp", "axes", "ninja"]
LOCAL_APPS = [
    "tracker",
    "deals",
    "metrics",
    "demoshop",  # only its management commands (demo, demoshop); nothing imports it
    "accounts",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# In the order a request passes them.
MIDDLEWARE = [
    "metrics.middleware.RequestMiddleware",  # first: request id, timing and counts for everything
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "metrics.middleware.UserContextMiddleware",  # the user id into the logs
    "config.security.RateLimitMiddleware",  # after authentication: limits are per user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

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
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A dead or silent server fails a connection in seconds (libpq waits forever, psycopg
        # 130 s), so /health answers 503 and requests fail fast instead of piling up.
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3)
        # The check pipeline's statements (tracker/rows.py) bind on the server and are prepared
        # by psycopg from their second run on a connection, so PostgreSQL plans each once, not
        # on every check. Django's own cursors bind on the client and never prepare. Off for a
        # pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
        if env_bool("DB_PREPARED_STATEMENTS", True):
            DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 1
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DB_POOL", False
    ):
        # psycopg 3's pool; incompatible with persistent connections (conn_max_age).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 10),
            # How long a request waits for a pooled connection (psycopg_pool's default: 30 s).
            "timeout": env_float("DB_POOL_TIMEOUT", 3.0),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # Reused like PostgreSQL's: every new connection runs the PRAGMAs below again.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
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

# --- Cache ------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    # A cache shared by every web process, so rate limits hold across gunicorn workers.
    # Short socket timeouts: with Redis away, the rate limiter gives up in seconds and lets requests through.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# The administrator `manage.py create_admin` creates (and the user commands act for by default).
ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin") or "admin"
ADMIN_PASSWORD = env_str("ADMIN_PASSWORD")
ADMIN_EMAIL = env_str("ADMIN_EMAIL")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:dashboard"
LOGOUT_REDIRECT_URL = "login"
# People: anyone may make an account at /accounts/signup/ (else only by invitation or command).
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", False)
# "Forgot your password?" sends a reset link by e-mail: switch on once EMAIL_* delivers mail.
PASSWORD_RESET_ENABLED = env_bool("PASSWORD_RESET_ENABLED", False)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# HTTPS (production values behind a TLS proxy).
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS and env_bool("SECURE_HSTS_PRELOAD", False)
# Whether a request came over HTTPS is gunicorn's to say (wsgi.url_scheme): it believes
# X-Forwarded-Proto only from FORWARDED_ALLOW_IPS (deploy/gunicorn.conf.py). Django's
# SECURE_PROXY_SSL_HEADER would believe the header from any client that reaches the port.
SECURE_PROXY_SSL_HEADER = None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HSTS preload is a commitment for the whole domain; it stays opt-in (SECURE_HSTS_PRELOAD).
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Login throttling (django-axes): lock a username+address pair after repeated failures.
AUTHENTICATION_BACKENDS = [
    "config.security.AxesHttpOnlyBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)
# The reverse proxies whose X-Forwarded-For is believed (deploy/nginx on the same machine:
# 127.0.0.1; a container network: its subnet). Anyone else's X-Forwarded-For is ignored, so
# a client cannot pick the address he is throttled as, and clients behind the proxy are told
# apart instead of sharing its address. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", "")
# Axes, the rate limiter and the logs all take the client's address from here.
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Distinct usernames one address may try in a window, and failed logins the whole site takes
# in a window, before login answers 429 ("count/seconds").
LOGIN_USERNAMES_PER_ADDRESS = env_str("LOGIN_USERNAMES_PER_ADDRESS", "10/3600")
LOGIN_FAILURES_OVERALL = env_str("LOGIN_FAILURES_OVERALL", "500/3600")


# Rate limits ("count/seconds") with django-ratelimit, counted in the default cache: login
# POSTs per address, and every view (probes excepted) per signed-in user or per address.
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
RATELIMIT_LOGIN = env_str("RATELIMIT_LOGIN", "60/60")
RATELIMIT_VIEWS = env_str("RATELIMIT_VIEWS", "120/60")
# REST API requests per token (config/api.py); scripts and Home Assistant poll, so it has its own.
API_RATELIMIT = env_str("API_RATELIMIT", "300/60")

# Content-Security-Policy: our own origin only. No inline scripts or styles in templates.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:", "https:"],  # product pictures come from the shops
        "connect-src": [csp.SELF],
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# --- Static files -----------------------------------------------------------------------
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

# --- Celery -----------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# Folders the embedded broker needs; config/bootstrap.py creates them.
BROKER_FOLDERS: list[Path] = []
if CELERY_BROKER_URL.startswith("filesystem"):
    BROKER_FOLDERS = [BROKER_DIR / "queue", BROKER_DIR / "processed", BROKER_DIR / "control"]
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle worker looks for new messages in the folder (kombu's default is 1 s,
        # which caps a worker at about one task a second per pool process).
        "polling_interval": env_float("CELERY_BROKER_POLL_INTERVAL", 0.05),
    }
else:
    # Above the longest task's hard time limit (the weekly tasks: 1,900 s), so a running task
    # is never handed out twice; a task whose worker died is redelivered after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
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
# Celery's Django fix-up closes the database connection around every task unless this is set;
# config/celery.py closes it the way Django does after a request instead (too old or broken).
CELERY_DB_REUSE_MAX = 10**9
# Task events (what Flower shows) cost every task about 2 ms of CPU: three messages from the
# worker and one from the sender. Flower switches workers' events on itself while it runs.
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("CELERY_TASK_EVENTS", False)
CELERY_TASK_SEND_SENT_EVENT = CELERY_WORKER_SEND_TASK_EVENTS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through the same LOGGING (JSON with task id/name) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# django-celery-beat's database scheduler behind a lock: a second beat stands by (metrics/beat.py).
CELERY_BEAT_SCHEDULER = "metrics.beat:LockedDatabaseScheduler"
# Queues and routes: the one place that says where each task runs. A task not routed here goes
# to `default`. Price checks have one queue per priority (so high ones never wait behind low
# ones) and `browser` for stores rendered in a browser: tracker/scheduling.py picks that one when
# the check is sent. Slow work (LLM) has a queue of its own, so it never delays price checks.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name) for name in ("checks_high", "checks_normal", "checks_low", "default", "llm", "browser")
]
CELERY_TASK_ROUTES = {
    "tracker.tasks.check_listing": {"queue": "checks_normal"},
    "tracker.tasks.generate_pattern": {"queue": "llm"},
}

# Periodic tasks: the one reviewed list. `tracker.periodic.periodic_tasks_sync` (run by `migrate`)
# writes it into django-celery-beat's tables, so it shows in the admin, and deletes the entries
# whose task left it; beat reads the tables (and this list when it starts).
CELERY_BEAT_SCHEDULE = {
    # Every minute: claim listings that are due and queue their checks.
    "dispatch-due-checks": {"task": "tracker.tasks.dispatch_due_checks", "schedule": timedelta(seconds=60)},
    # Daily at 02:00: re-validate each store's active extraction pattern.
    "check-pattern-health": {
        "task": "tracker.tasks.check_pattern_health",
        "schedule": crontab(minute="0", hour="2"),
    },
    # Daily at 16:30 UTC, after the ECB publishes its reference rates (about 16:00 CET): fetch
    # RATES_URL; a failed or malformed fetch keeps the rates there were.
    "refresh-exchange-rates": {
        "task": "tracker.tasks.refresh_exchange_rates",
        "schedule": crontab(minute="30", hour="16"),
    },
    # Every 5 minutes: queue a scan of each deal source that is due.
    "scan-deal-sources": {"task": "deals.scout.tasks.scan_all", "schedule": timedelta(seconds=300)},
    # Nightly at 03:00: recompute deal comparables and scores.
    "refresh-deal-comparables": {
        "task": "deals.scout.tasks.refresh_comps",
        "schedule": crontab(minute="0", hour="3"),
    },
    # Hourly at :15: mark deal listings that vanished from their source as gone/sold.
    "reconcile-deal-listings": {
        "task": "deals.scout.tasks.reconcile_listings",
        "schedule": crontab(minute="15"),
    },
    # Hourly on the hour: send digests (alerts and deals in one), release notifications held back
    # by quiet hours, settle notifications a dead worker left "sending".
    "send-notifications": {"task": "deals.tasks.send_notifications", "schedule": crontab(minute="0")},
    # Sundays at 03:30: delete check logs older than LOG_RETENTION_DAYS, then what the other
    # *_RETENTION_DAYS settings say is too old (metrics/retention.py).
    "cleanup-old-logs": {
        "task": "metrics.tasks.cleanup_old_logs",
        "schedule": crontab(minute="30", hour="3", day_of_week="0"),
    },
    # Sundays at 04:00: thin runs of an unchanged price to their first and last point.
    "compact-price-history": {
        "task": "metrics.tasks.compact_price_history",
        "schedule": crontab(minute="0", hour="4", day_of_week="0"),
    },
    # Daily at 01:30 (BACKUP_HOURS: a crontab hour field, "1,13", "*/6"): back up the database
    # when BACKUP_ENABLED, keep BACKUP_KEEP_DAYS of backups.
    "backup-database": {
        "task": "metrics.tasks.backup_database",
        "schedule": crontab(minute="30", hour=env_str("BACKUP_HOURS", "1")),
    },
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
# The dispatcher spreads the checks it claims over this many seconds (0: send them all at once).
DISPATCH_SPREAD_SECONDS = env_float("DISPATCH_SPREAD_SECONDS", 55.0)
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
# The default proxy for every store without one of its own (staff set those in the admin):
# http://, https://, socks5:// or socks5h://, [user:password@]host:port. Empty: direct.
FETCH_PROXY_URL = env_str("FETCH_PROXY_URL")
FETCH_RESPECT_ROBOTS = env_bool("FETCH_RESPECT_ROBOTS", True)
# Fetch safety and politeness (tracker/fetching/: gate, politeness, pacing, robots, circuit).
# The user-agent token matched against robots.txt groups (empty: FETCH_USER_AGENT).
ROBOTS_USER_AGENT = env_str("ROBOTS_USER_AGENT", "PriceTracker")
ROBOTS_CACHE_SECONDS = env_int("ROBOTS_CACHE_SECONDS", 24 * 60 * 60)
ROBOTS_MAX_BYTES = env_int("ROBOTS_MAX_BYTES", 500 * 1024)
# A Crawl-delay above this is capped (a robots.txt cannot stop all checks with a huge value).
ROBOTS_MAX_CRAWL_DELAY = env_float("ROBOTS_MAX_CRAWL_DELAY", 60.0)
# A worker waits at most this long for a store's next pacing turn; a later turn re-schedules.
# Per-store pace and concurrency limits, shared by all workers. Off only for tests or a shop you run.
FETCH_PACING_ENABLED = env_bool("FETCH_PACING_ENABLED", True)
FETCH_PACE_WAIT_MAX = env_float("FETCH_PACE_WAIT_MAX", 2.0)
# A check waiting longer goes back to the queue with a countdown up to this; beyond it, it is
# skipped and the listing's next check moved.
FETCH_REQUEUE_MAX = env_float("FETCH_REQUEUE_MAX", 120.0)
FETCH_BACKOFF_BASE = env_float("FETCH_BACKOFF_BASE", 60.0)
FETCH_BACKOFF_MAX = env_float("FETCH_BACKOFF_MAX", 6 * 60 * 60)
FETCH_RETRY_AFTER_MAX = env_float("FETCH_RETRY_AFTER_MAX", 24 * 60 * 60)
CIRCUIT_FAILURE_THRESHOLD = env_int("CIRCUIT_FAILURE_THRESHOLD", 5)
CIRCUIT_COOLDOWN = env_float("CIRCUIT_COOLDOWN", 15 * 60)
# While several people track a store, failures from at least this many of them open its breaker.
CIRCUIT_MIN_OWNERS = env_int("CIRCUIT_MIN_OWNERS", 2)
# Browser rendering (stores with render_js), on the `browser` queue.
# Daily reference exchange rates for showing prices in a person's currency (tracker/rates.py):
# the ECB's daily XML format (rates per euro), fetched through the fetch gate.
RATES_URL = env_str("RATES_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml")
RENDER_CHROMIUM_PATH = env_str("RENDER_CHROMIUM_PATH", "/usr/bin/chromium")
RENDER_PAGES_PER_BROWSER = env_int("RENDER_PAGES_PER_BROWSER", 50)
RENDER_MAX_REQUESTS = env_int("RENDER_MAX_REQUESTS", 60)
RENDER_MAX_TOTAL_BYTES = env_int("RENDER_MAX_TOTAL_BYTES", 15 * 1024 * 1024)

# --- Alerts and notifications (deals/) -------------------------------------------------
# Key(s) that encrypt secrets at rest: channel URLs and store proxies (comma-separated: the
# first encrypts, all decrypt). Empty: a key derived from SECRET_KEY (changing SECRET_KEY then
# makes them unreadable).
CHANNEL_ENCRYPTION_KEY = env_str("CHANNEL_ENCRYPTION_KEY")
CHANNEL_SEND_TIMEOUT = env_float("CHANNEL_SEND_TIMEOUT", 30.0)
DEALS_DELIVERY_MAX_ATTEMPTS = env_int("DEALS_DELIVERY_MAX_ATTEMPTS", 6)
# A notification "sending" for longer than this is settled by the hourly send_notifications.
DEALS_DELIVERY_STALE_AFTER = env_int("DEALS_DELIVERY_STALE_AFTER", 15 * 60)
# The deal scout reads feeds written by strangers: each is bounded. Bytes per page, nesting
# depth of a JSON/XML feed, pages followed by `next` (a source's own max_pages is capped by it).
SCOUT_FEED_MAX_BYTES = env_int("SCOUT_FEED_MAX_BYTES", 2 * 1024 * 1024)
SCOUT_FEED_MAX_DEPTH = env_int("SCOUT_FEED_MAX_DEPTH", 64)
SCOUT_MAX_PAGES = env_int("SCOUT_MAX_PAGES", 10)
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
# How many distinct recent pages each store keeps (compressed) as samples for its patterns.
STORE_PAGES_KEPT = env_int("STORE_PAGES_KEPT", 5)

# --- Prometheus ---------------------------------------------------------------------------
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = env_str("METRICS_TOKEN")  # bearer token for /metrics
METRICS_BASIC_AUTH = env_str("METRICS_BASIC_AUTH")  # "user:password" for /metrics
# Every process writes its counters to files under this folder (prometheus-client's
# multiprocess mode); /metrics adds up all of them. Web and workers must share it (a volume).
PROMETHEUS_MULTIPROC_BASE = Path(
    env_str("PROMETHEUS_MULTIPROC_BASE") or str(DATA_DIR / "prometheus")
).resolve()
# This process tree's folder (children inherit it through the environment, set by
# config/bootstrap.py). Folders of dead trees are removed at start by
# metrics.instruments.multiproc_dirs_prune. None: metrics off, no folder.
PROMETHEUS_MULTIPROC_DIR: Path | None = (
    Path(env_str("PROMETHEUS_MULTIPROC_DIR"))
    if env_str("PROMETHEUS_MULTIPROC_DIR")
    else PROMETHEUS_MULTIPROC_BASE / f"{socket.gethostname()}-{os.getpid()}"
    if METRICS_ENABLED
    else None
)

# --- Health ---------------------------------------------------------------------------------
# Queues that must have a live worker for /health/detailed to answer 200.
HEALTH_REQUIRED_QUEUES = env_list("HEALTH_REQUIRED_QUEUES", "checks_high,checks_normal,checks_low,default")
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 10.0)
WORKER_STALE_AFTER = env_float("WORKER_STALE_AFTER", 45.0)
BEAT_STALE_AFTER = env_float("BEAT_STALE_AFTER", 180.0)
# The beat lock: the running beat renews it; another beat takes over this long after it stops.
BEAT_LOCK_TTL = env_float("BEAT_LOCK_TTL", 60.0)
BEAT_LOCK_RETRY = env_float("BEAT_LOCK_RETRY", 5.0)  # seconds between a standing-by beat's tries
HEALTH_MIN_FREE_MB = env_int("HEALTH_MIN_FREE_MB", 200)
HEALTH_LLM_TIMEOUT = env_float("HEALTH_LLM_TIMEOUT", 3.0)

# --- Quality objectives (the quality scenarios page) -------------------------------------
QUALITY_CHECK_SUCCESS_MIN = env_float("QUALITY_CHECK_SUCCESS_MIN", 0.95)
QUALITY_HIGH_START_P95_SECONDS = env_float("QUALITY_HIGH_START_P95_SECONDS", 300.0)
QUALITY_NOTIFY_DELIVERY_MIN = env_float("QUALITY_NOTIFY_DELIVERY_MIN", 0.99)
QUALITY_BROKEN_STORE_MAX_HOURS = env_float("QUALITY_BROKEN_STORE_MAX_HOURS", 24.0)
QUALITY_WINDOW_HOURS = env_float("QUALITY_WINDOW_HOURS", 24.0)

# --- Housekeeping and backups -----------------------------------------------------------
LOG_RETENTION_DAYS = env_int("LOG_RETENTION_DAYS", 90)
# Checks that only confirmed an unchanged price (or found the page not modified) go sooner:
# their price point keeps how many there were and the latest one. Such checks of one listing
# within an hour are already one row (tracker.checking folds them).
LOG_RETENTION_CONFIRMATIONS_DAYS = env_int("LOG_RETENTION_CONFIRMATIONS_DAYS", 7)
# Retention of the other tables that grow, in days (0: keep forever); metrics/retention.py.
LOGIN_AUDIT_RETENTION_DAYS = env_int("LOGIN_AUDIT_RETENTION_DAYS", 90)
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 90)
ALERT_EVENT_RETENTION_DAYS = env_int("ALERT_EVENT_RETENTION_DAYS", 365)
DEAL_RETENTION_DAYS = env_int("DEAL_RETENTION_DAYS", 90)
HEARTBEAT_RETENTION_DAYS = env_int("HEARTBEAT_RETENTION_DAYS", 7)
LLM_CALL_RETENTION_DAYS = env_int("LLM_CALL_RETENTION_DAYS", 365)
# Price points older than this are compacted (runs of one price merged into one point).
PRICE_COMPACT_AFTER_DAYS = env_int("PRICE_COMPACT_AFTER_DAYS", 7)
BACKUP_ENABLED = env_bool("BACKUP_ENABLED", True)
BACKUP_DIR = Path(env_str("BACKUP_DIR") or str(DATA_DIR / "backups")).resolve()
BACKUP_KEEP_DAYS = env_float("BACKUP_KEEP_DAYS", 7)
# A Fernet key: backups are encrypted with it (empty: not encrypted; they are 0600 either way).
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY")

# --- Tracing (optional): only when an OTLP endpoint is set ------------------------------
OTEL_EXPORTER_OTLP_ENDPOINT = env_str("OTEL_EXPORTER_OTLP_ENDPOINT")
OTEL_SERVICE_NAME = env_str("OTEL_SERVICE_NAME", "pricetracker")

# --- Logging: JSON lines (or plain) to stdout, optionally to a rotating file -------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
LOG_FILE = env_str("LOG_FILE")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "metrics.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "metrics.logs.JsonFormatter"},
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
if LOG_FILE:
    # One file per process group (web, worker): a rotating file shared by two services can
    # lose lines when both rotate it.
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": LOG_FILE,
        "maxBytes": env_int("LOG_FILE_MAX_BYTES", 20 * 1024 * 1024),
        "backupCount": env_int("LOG_FILE_BACKUPS", 5),
        "formatter": LOG_FORMAT,
        "filters": ["context"],
    }
    LOGGING["root"]["handlers"].append("file")
