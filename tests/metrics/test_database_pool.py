"""A dead PostgreSQL with the connection pool on: /health answers 503 in seconds, not after 30."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT

HEALTH = """
import json, time, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
from django.db import connection
started = time.monotonic()
response = Client().get("/health")
print("ANSWER " + json.dumps({"status": response.status_code, "seconds": time.monotonic() - started,
                  "pool": bool(connection.settings_dict["OPTIONS"].get("pool")),
                  "error": response.json()["checks"]["database"].get("error", "")}), flush=True)
"""


def _health_with_database_at(port: int, tmp_path) -> dict:
    env = {
        "PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "METRICS_ENABLED": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings", "DB_POOL": "true",
        "DATABASE_URL": f"postgres://pricetracker:pw@127.0.0.1:{port}/pricetracker",
    }
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HEALTH], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # The app logs to stdout too: the answer is the line marked as such.
    answer = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("ANSWER "))[7:])
    answer["process_seconds"] = time.monotonic() - started
    return answer


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A socket that accepts TCP connections (the kernel's backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


def test_a_refused_database_answers_503_within_five_seconds(closed_port, tmp_path):
    answer = _health_with_database_at(closed_port, tmp_path)
    assert answer["pool"] is True
    assert answer["status"] == 503
    assert answer["seconds"] < 5, answer


def test_a_database_that_never_answers_gives_503_within_five_seconds(silent_port, tmp_path):
    answer = _health_with_database_at(silent_port, tmp_path)
    assert answer["status"] == 503
    assert answer["seconds"] < 5, answer
