"""/health/detailed with the database, the broker, workers and beat really up and down."""

from __future__ import annotations

import http.server
import signal
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from metrics.heartbeats import heartbeat_record
from metrics.models import Heartbeat

from .conftest import celery_args, process_env, redis_server, wait_for, worker_args

REQUIRED = ["checks_high", "checks_normal", "checks_low", "default"]
MONITOR_TOKEN = "health-monitor-token"


@pytest.fixture
def fresh_heartbeats(settings):
    settings.HEALTH_REQUIRED_QUEUES = REQUIRED
    settings.WORKER_STALE_AFTER = 3.0
    settings.BEAT_STALE_AFTER = 3.0
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = None
    settings.METRICS_TOKEN = MONITOR_TOKEN


def _alive_everything() -> None:
    heartbeat_record(name="w1@test", kind="worker", queues=REQUIRED + ["llm"])
    heartbeat_record(name="beat@test", kind="beat")


def _detailed(client) -> tuple[int, dict]:
    response = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Bearer {MONITOR_TOKEN}")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_everything_up_answers_200_with_latency_and_state_for_each_dependency(client, fresh_heartbeats):
    _alive_everything()
    status, body = _detailed(client)
    assert status == 200, body
    assert body["status"] == "ok"
    for name in ("database", "broker", "workers", "beat", "disk"):
        assert body["checks"][name]["state"] == "up"
        assert body["checks"][name]["latency_ms"] >= 0
    assert body["checks"]["workers"]["queues"]["llm"] == 1
    assert body["checks"]["disk"]["free_mb"] > 0
    assert "llm" not in body["checks"]  # not configured


@pytest.mark.django_db
def test_anonymous_callers_get_no_detail_only_a_request_for_credentials(client, fresh_heartbeats):
    _alive_everything()
    response = client.get("/health/detailed")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    text = response.content.decode()
    for secret in ("w1@test", "checks_high", "free_mb", "path"):
        assert secret not in text
    wrong = client.get("/health/detailed", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 403
    assert "w1@test" not in wrong.content.decode()


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_is_refused(client, fresh_heartbeats, django_user_model):
    _alive_everything()
    client.force_login(django_user_model.objects.create_user("shopper", password="pw-123456789"))
    assert client.get("/health/detailed").status_code == 401  # as /metrics: a session is not enough, credentials are


@pytest.mark.django_db
def test_staff_and_the_metrics_basic_auth_see_the_detail(client, fresh_heartbeats, settings, admin_user):
    import base64

    _alive_everything()
    settings.METRICS_BASIC_AUTH = "prom:secret-pass"
    basic = base64.b64encode(b"prom:secret-pass").decode()
    response = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["workers"] == ["w1@test"]
    client.force_login(admin_user)
    assert client.get("/health/detailed").json()["checks"]["disk"]["free_mb"] > 0


@pytest.mark.django_db
def test_the_public_health_probe_stays_open_and_names_no_worker(client, fresh_heartbeats):
    _alive_everything()
    response = client.get("/health")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "broker"}
    assert "w1@test" not in response.content.decode()


@pytest.mark.django_db
def test_a_queue_without_a_live_worker_makes_it_503(client, fresh_heartbeats):
    heartbeat_record(name="w1@test", kind="worker", queues=["checks_high", "default"])
    heartbeat_record(name="beat@test", kind="beat")
    status, body = _detailed(client)
    assert status == 503
    assert body["checks"]["workers"]["state"] == "down"
    assert "checks_normal" in body["checks"]["workers"]["error"]


@pytest.mark.django_db
def test_a_silent_beat_makes_it_503(client, fresh_heartbeats):
    _alive_everything()
    Heartbeat.objects.filter(kind="beat").update(seen_at=timezone.now() - timedelta(seconds=30))
    status, body = _detailed(client)
    assert status == 503
    assert body["checks"]["beat"]["state"] == "down"
    assert body["checks"]["beat"]["age_seconds"] >= 29


@pytest.mark.django_db
def test_low_disk_space_makes_it_503(client, fresh_heartbeats, settings):
    _alive_everything()
    settings.HEALTH_MIN_FREE_MB = 10**12
    status, body = _detailed(client)
    assert status == 503
    assert body["checks"]["disk"]["state"] == "down"


@pytest.mark.django_db(transaction=True)
def test_database_down_and_back(client, fresh_heartbeats):
    _alive_everything()
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-folder/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        status, body = _detailed(client)
        assert status == 503
        assert body["checks"]["database"]["state"] == "down"
        assert client.get("/health").status_code == 503
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    status, body = _detailed(client)
    assert status == 200, body


@pytest.fixture
def celery_broker():
    """Point the Celery app at another broker URL for the test, then back."""
    from config.celery import app

    def _point(url: str) -> None:
        import kombu.pools

        app.conf.broker_url = url
        # Not app._pool.force_close_all(): kombu's process-wide registry would keep handing
        # out that closed pool to later tests ("Acquire on closed pool").
        kombu.pools.reset()
        app._pool = None
        amqp = app.__dict__.get("amqp")
        if amqp is not None:
            amqp._producer_pool = None

    original = app.conf.broker_url
    yield _point
    _point(original)


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_broker_stopped_then_started_again(client, fresh_heartbeats, celery_broker):
    _alive_everything()
    with redis_server() as redis:
        celery_broker(redis["url"])
        assert _detailed(client)[0] == 200
        redis["stop"]()
        status, body = _detailed(client)
        assert status == 503
        assert body["checks"]["broker"]["state"] == "down"
        assert body["checks"]["broker"]["latency_ms"] < 5000
        assert client.get("/health").status_code == 503
        redis["start"]()
        celery_broker(redis["url"])
        _alive_everything()
        status, body = _detailed(client)
        assert status == 200, body


class _ModelsHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        ok = self.path.endswith("/models")
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def log_message(self, *args) -> None:
        pass


@pytest.mark.django_db
def test_llm_endpoint_is_checked_when_configured_and_down_only_degrades(client, fresh_heartbeats, settings):
    _alive_everything()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ModelsHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.OPENAI_API_KEY = "sk-test"
    try:
        status, body = _detailed(client)
        assert status == 200
        assert body["checks"]["llm"]["state"] == "up"
    finally:
        server.shutdown()
        server.server_close()
    status, body = _detailed(client)
    assert status == 200  # the LLM is optional: checks go on without it
    assert body["status"] == "degraded"
    assert body["checks"]["llm"]["state"] == "degraded"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_up_killed_and_started_again(client, fresh_heartbeats, spawn, private_broker):
    env = process_env(private_broker)
    worker = spawn(worker_args(name="h8health", queues=REQUIRED, pool="solo"), env=env, name="worker")
    beat = spawn(celery_args("beat", "-l", "INFO", "-s", str(worker.log_path.parent / "beat-schedule")),
                 env=env, name="beat")

    def workers_up():
        status, body = _detailed(client)
        return body["checks"]["workers"]["state"] == "up" and body["checks"]["beat"]["state"] == "up" and status

    try:
        assert wait_for(workers_up, timeout=45, interval=0.3, what="worker and beat heartbeats") == 200
    except AssertionError:
        raise AssertionError(worker.log()[-3000:] + beat.log()[-2000:]) from None

    # A clean stop removes the worker's heartbeat at once.
    worker.stop(signal.SIGTERM)
    status, body = _detailed(client)
    assert status == 503 and body["checks"]["workers"]["state"] == "down"

    worker = spawn(worker_args(name="h8health2", queues=REQUIRED, pool="solo"), env=env, name="worker2")
    wait_for(lambda: _detailed(client)[0] == 200, timeout=45, interval=0.3, what="second worker")

    # A killed worker and a killed beat stop writing and go stale.
    worker.stop(signal.SIGKILL)
    beat.stop(signal.SIGKILL)
    def both_stale():
        status, body = _detailed(client)
        return status == 503 and body["checks"]["workers"]["state"] == body["checks"]["beat"]["state"] == "down"

    wait_for(both_stale, timeout=15, interval=0.3, what="stale worker and beat heartbeats")
