"""`/health`: 200 with JSON when the database and the broker answer, 503 when one does not."""

from __future__ import annotations

import socket

import pytest
from django.db import connection

from config.celery import app


def closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_at(monkeypatch):
    def point(url: str) -> None:
        # broker_write_url falls back to broker_url when read: patch it first, so undo restores it.
        monkeypatch.setattr(app.conf, "broker_write_url", None)
        monkeypatch.setattr(app.conf, "broker_url", url)

    return point


def test_health_is_ok_when_the_database_and_the_broker_answer(client, db):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_health_is_503_when_the_broker_is_unreachable(client, db, broker_at):
    broker_at(f"redis://127.0.0.1:{closed_loopback_port()}/0")

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_health_is_503_when_the_database_is_unreachable(client, transactional_db, monkeypatch):
    if connection.vendor == "sqlite":
        broken = {"NAME": "/nonexistent-dir/for-health-test/db.sqlite3"}
    else:
        broken = {"HOST": "127.0.0.1", "PORT": str(closed_loopback_port())}
    connection.close()
    for key, value in broken.items():
        monkeypatch.setitem(connection.settings_dict, key, value)
    try:
        response = client.get("/health")
    finally:
        connection.close()
        monkeypatch.undo()

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
