"""Shared test set-up. Every server a test needs is started here, on loopback."""

import uuid
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates use {% static %}; tests run without collectstatic's manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fetch_pacing_off(settings):
    """Per-store pacing (30 requests a minute by default) is tested in tests/tracker/fetching/test_politeness.py;
    elsewhere it would only make tests wait. robots.txt and the fetch gate stay on."""
    settings.FETCH_PACING_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every view is rate limited (config/security.py) by counters in the cache. In one test
    process the in-memory cache outlives a test, so without this the hundredth page test would
    meet the limit the ninety-nine before it used up. The limits themselves are tested in
    tests/config/test_security.py. Only the per-process memory cache is cleared, never Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def no_name_resolves(monkeypatch):
    """For tests whose code fetches what it is given (the add rule checks a page before keeping
    it): no DNS query. IP literals and `localhost` (the hosts file: no packet) resolve as
    usual; any other host name fails as an unknown name. The socket module is patched for the
    whole process, so a test's own client of a live server resolves through it too."""
    import ipaddress
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if str(host).lower() != "localhost":
            try:
                ipaddress.ip_address(str(host).strip("[]"))
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, f"{host}: no such name (tests resolve no names)") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr("tracker.fetching.addresses.socket.getaddrinfo", getaddrinfo)


@pytest.fixture
def demo_shop():
    """The demo shop on a free loopback port: priced product pages, a 404, a page without a
    price (/info/shipping), a PDF."""
    from demoshop.server import start_in_thread

    shop = start_in_thread(host="127.0.0.1", port=0)
    yield shop
    shop.stop()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw-bob-123")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the test database is a file, so worker processes started by a test share it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        test = db.setdefault("TEST", {})
        name = str(test.get("NAME") or "")
        if not name or ":memory:" in name or "mode=memory" in name:
            test["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


def _celery_app_reconfigure(app, transport_options: dict) -> None:
    import kombu.pools

    app.conf.broker_transport_options = transport_options
    # kombu keeps pools in a process-wide registry keyed by connection: closing the app's pool
    # alone would leave a closed pool there for the next user ("Acquire on closed pool").
    kombu.pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")  # created on first use
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(scope="session", autouse=True)
def private_broker(tmp_path_factory) -> dict[str, str]:
    """Point this test run's Celery messages at a broker nobody else reads.

    A folder of its own for the filesystem broker, a key prefix of its own on Redis, so that
    parallel test runs and a developer's running PriceTracker never take each other's tasks.
    Returns the environment a worker process needs to read the same broker.
    """
    from django.conf import settings

    from config.celery import app

    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    env: dict[str, str] = {}
    prefix = ""
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        # The same folders the settings derive from DATA_DIR, so a worker given DATA_DIR agrees.
        data_dir = tmp_path_factory.mktemp("data")
        broker_dir = settings.BROKER_DIR
        for key, value in list(options.items()):
            if key.endswith("_folder") or key.startswith("data_folder_"):
                folder = data_dir / "broker" / Path(value).relative_to(broker_dir)
                folder.mkdir(parents=True, exist_ok=True)
                options[key] = str(folder)
        env["DATA_DIR"] = str(data_dir)
    else:
        prefix = f"pt-test-{uuid.uuid4().hex[:12]}:"
        options["global_keyprefix"] = prefix
        env["CELERY_KEY_PREFIX"] = prefix
    original = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    _celery_app_reconfigure(app, options)
    yield env
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = original
    _celery_app_reconfigure(app, original)
    if prefix and settings.CELERY_BROKER_URL.startswith("redis"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def api_client(db, user):
    """A client that sends `user`'s API token on every request (tracker/api, deals/api tests)."""
    from django.test import Client

    from tracker.api.tokens import token_create

    _, secret = token_create(owner=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {secret}"})
