"""Settings of the metrics block read from the environment, including empty values."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

_SCRIPT = (
    "import json, os, django; from config.bootstrap import bootstrap; bootstrap(); django.setup(); "
    "from django.conf import settings; "
    "print(json.dumps([str(settings.PROMETHEUS_MULTIPROC_BASE), str(settings.BACKUP_DIR), "
    "os.environ.get('PROMETHEUS_MULTIPROC_DIR', '')]))"
)


def test_empty_folder_variables_from_a_copied_env_example_fall_back_to_the_data_folder(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "DATA_DIR": str(tmp_path),
           "PROMETHEUS_MULTIPROC_BASE": "", "PROMETHEUS_MULTIPROC_DIR": "", "BACKUP_DIR": "", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    base, backups, own = json.loads(done.stdout.strip().splitlines()[-1])
    assert base == str(tmp_path / "prometheus")
    assert backups == str(tmp_path / "backups")
    assert own.startswith(base + "/")
