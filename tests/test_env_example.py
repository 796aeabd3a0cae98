"""`.env.example` lists every setting, and copied to `.env` it is a working configuration."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from config.bootstrap import dotenv_load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"


def settings_variables() -> list[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    pattern = r"(?:env_(?:str|bool|int|float|list)|environ\.get)\(\s*[\"']([A-Z0-9_]+)[\"']"
    return sorted(set(re.findall(pattern, source)))


def listed_variables() -> list[str]:
    return re.findall(r"^([A-Z0-9_]+)=", EXAMPLE.read_text(), re.M)


def test_every_variable_the_settings_read_is_listed_once():
    listed = listed_variables()

    assert [name for name in settings_variables() if name not in listed] == []
    assert [name for name, count in Counter(listed).items() if count > 1] == []


def test_every_line_explains_itself():
    lines = [line for line in EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z0-9_]+=", line)]

    assert [line for line in lines if not re.search(r"\s#\s*\S", line)] == []


def test_the_example_as_dot_env_gives_values_without_their_comments(monkeypatch):
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)

    dotenv_load(EXAMPLE)

    assert environ["CHECK_INTERVAL_HIGH"] == "900"
    assert environ["FETCH_ALLOW_HOSTS"] == ""
    assert environ["ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1]"
    assert not [name for name, value in environ.items() if "#" in value]


def test_the_example_is_a_configuration_django_accepts(monkeypatch, tmp_path):
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)
    dotenv_load(EXAMPLE)
    monkeypatch.undo()
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        **environ,
        "DATA_DIR": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
