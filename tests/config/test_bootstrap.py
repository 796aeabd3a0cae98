"""The settings only read; config.bootstrap prepares the process (folders, secret key, env)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

READ_SETTINGS = """
import json, os, runpy
values = runpy.run_path("config/settings.py")
print(json.dumps({"secret_key": values["SECRET_KEY"],
                  "prometheus_env": os.environ.get("PROMETHEUS_MULTIPROC_DIR")}))
"""

BOOTSTRAP = """
import json, os
from config.bootstrap import bootstrap
bootstrap()
from django.conf import settings
print(json.dumps({"secret_key": settings.SECRET_KEY, "prometheus_env": os.environ["PROMETHEUS_MULTIPROC_DIR"]}))
"""


def _run(code: str, data_dir: Path) -> dict:
    # Zero set-up: no backend chosen, so the embedded broker's folders are part of the data folder.
    unset = ("SECRET_KEY", "PROMETHEUS_MULTIPROC_DIR", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "TEST_DB_NAME")
    env = {**{k: v for k, v in os.environ.items() if k not in unset},
           "DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reading_the_settings_creates_nothing_and_leaves_the_environment_alone(tmp_path):
    data_dir = tmp_path / "data"

    found = _run(READ_SETTINGS, data_dir)

    assert not data_dir.exists()
    assert found == {"secret_key": "", "prometheus_env": None}


def test_bootstrap_prepares_the_data_folder_and_keeps_one_generated_key(tmp_path):
    data_dir = tmp_path / "data"

    first = _run(BOOTSTRAP, data_dir)
    second = _run(BOOTSTRAP, data_dir)

    assert len(first["secret_key"]) >= 50
    assert second["secret_key"] == first["secret_key"], "a restart must not log everybody out"
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600
    assert all((data_dir / "broker" / sub).is_dir() for sub in ("queue", "processed", "control"))
    assert Path(first["prometheus_env"]).is_dir()
    assert Path(first["prometheus_env"]).parent == data_dir / "prometheus"
