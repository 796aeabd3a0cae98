"""Settings come from the environment: each case runs `config.settings` in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "host": db.get("HOST", ""),
    "options": {k: v for k, v in db.get("OPTIONS", {}).items() if k != "pool"},
    "broker": settings.CELERY_BROKER_URL,
    "transport_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "data_dir": str(settings.DATA_DIR),
}))
"""

# Variables that choose backends; a case starts from none of them.
BACKEND_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "TEST_DB_NAME", "CELERY_KEY_PREFIX")


def run_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATA_DIR": str(tmp_path / "data")})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from config.bootstrap import bootstrap\nbootstrap()\nimport django; django.setup()\n" + PRINT_SETTINGS],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_with(tmp_path: Path, **env: str) -> dict:
    done = run_settings(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_uses_sqlite_in_wal_mode_and_the_filesystem_broker(tmp_path):
    found = settings_with(tmp_path)

    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "data" / "db.sqlite3")
    assert found["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert "busy_timeout=" in found["options"]["init_command"]
    assert found["broker"].startswith("filesystem://")
    queue = Path(found["transport_options"]["data_folder_in"])
    assert queue.is_dir() and queue.is_relative_to(tmp_path)


def test_the_default_sqlite_database_really_runs_in_wal_mode(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config.bootstrap import bootstrap\nbootstrap()\nimport django; django.setup()\n"
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
            "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    mode, busy = done.stdout.split()[-2:]
    assert mode == "wal"
    assert int(busy) >= 1000


def test_database_url_switches_to_postgresql(tmp_path):
    found = settings_with(tmp_path, DATABASE_URL="postgres://tracker@db.invalid:5432/tracker")

    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["name"], found["host"]) == ("tracker", "db.invalid")


@pytest.mark.parametrize("variable", ["REDIS_URL", "CELERY_BROKER_URL"])
def test_a_redis_url_switches_the_broker_to_redis(tmp_path, variable):
    found = settings_with(tmp_path, **{variable: "redis://127.0.0.1:6399/3"})

    assert found["broker"] == "redis://127.0.0.1:6399/3"
    assert found["transport_options"]["visibility_timeout"] >= 180, "longer than a task may run"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("SQLITE_BUSY_TIMEOUT", "ten", "SQLITE_BUSY_TIMEOUT must be an integer"),
        ("CHECK_JITTER", "lots", "CHECK_JITTER must be a number"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_clear_error(tmp_path, variable, value, message):
    done = run_settings(tmp_path, **{variable: value})

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert message in done.stderr
