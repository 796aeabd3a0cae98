"""docker-compose.yml and the systemd units, read as Docker and systemd read them.

No Docker engine here: compose's variable interpolation (`${VAR:-default}`, `${VAR:?error}`)
is applied by `compose_interpolate`, following the compose specification.
"""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SYSTEMD = ROOT / "deploy" / "systemd"
WORKER_SERVICES = ("worker", "worker-llm")


class ComposeRefused(Exception):
    pass


def compose_interpolate(value, env: dict[str, str]):
    """${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a dollar."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg") or ""
        set_ = name in env
        present = set_ and env[name] != ""
        if op == ":-":
            return env[name] if present else arg
        if op == "-":
            return env[name] if set_ else arg
        if op == ":?":
            if not present:
                raise ComposeRefused(f"{name}: {arg}")
            return env[name]
        if op == "?":
            if not set_:
                raise ComposeRefused(f"{name}: {arg}")
            return env[name]
        return env.get(name, "")

    pattern = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}")
    if isinstance(value, str):
        return pattern.sub(one, value)
    if isinstance(value, list):
        return [compose_interpolate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: compose_interpolate(v, env) for k, v in value.items()}
    return value


def compose(env: dict[str, str]) -> dict:
    return compose_interpolate(yaml.safe_load(COMPOSE.read_text()), env)


REQUIRED_ENV = {"POSTGRES_PASSWORD": "a-real-password", "FLOWER_BASIC_AUTH": "ops:pw"}


def test_compose_refuses_to_start_without_a_postgres_password():
    with pytest.raises(ComposeRefused, match="POSTGRES_PASSWORD"):
        compose({"FLOWER_BASIC_AUTH": "ops:pw"})
    with pytest.raises(ComposeRefused, match="POSTGRES_PASSWORD"):
        compose({"FLOWER_BASIC_AUTH": "ops:pw", "POSTGRES_PASSWORD": ""})
    config = compose(REQUIRED_ENV)
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "a-real-password"
    assert ":a-real-password@postgres:" in config["x-app"]["environment"]["DATABASE_URL"]
    # No fallback password anywhere, in compose or in the example settings.
    assert not re.search(r"POSTGRES_PASSWORD:?-", COMPOSE.read_text())
    assert re.search(r"^POSTGRES_PASSWORD=\s", (ROOT / ".env.example").read_text(), re.M)


def test_compose_publishes_web_and_flower_on_loopback_unless_told_otherwise():
    services = compose(REQUIRED_ENV)["services"]
    published = {name: spec.get("ports", []) for name, spec in services.items() if spec.get("ports")}
    assert published == {"web": ["127.0.0.1:8000:8000"], "flower": ["127.0.0.1:5555:5555"]}
    opened = compose({**REQUIRED_ENV, "WEB_BIND": "0.0.0.0", "WEB_PORT": "80"})["services"]
    assert opened["web"]["ports"] == ["0.0.0.0:80:8000"]


def _seconds(text: str | int) -> float:
    """Compose durations: 1h2m3s, 45s, 2000s, 1m30s."""
    if isinstance(text, int | float):
        return float(text)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def django_python(code: str, data_dir, **env: str) -> str:
    """Run code in a fresh process with the project's settings; returns its last line of output."""
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(data_dir), "METRICS_ENABLED": "false",
             "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def longest_task(tmp_path_factory) -> int:
    """The longest hard time limit of any task the workers run (read from the Celery app)."""
    code = (
        "import json\n"
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"
        "limits = {n: (t.time_limit or app.conf.task_time_limit or 0) for n, t in app.tasks.items()"
        " if not n.startswith('celery.')}\n"
        "print(json.dumps(limits))\n"
    )
    limits = json.loads(django_python(code, tmp_path_factory.mktemp("data")))
    assert "metrics.tasks.cleanup_old_logs" in limits  # the weekly tasks are among them
    return max(limits.values())


def test_compose_lets_every_worker_finish_its_longest_task_before_killing_it(longest_task):
    services = compose(REQUIRED_ENV)["services"]
    for name in WORKER_SERVICES:
        assert _seconds(services[name]["stop_grace_period"]) > longest_task, name
    assert _seconds(services["web"]["stop_grace_period"]) > 30  # gunicorn's graceful_timeout


def _unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(re.sub(r"\\\n\s*", " ", (SYSTEMD / name).read_text()))
    return parser["Service"]


def test_systemd_workers_get_longer_than_the_longest_task_to_stop(longest_task):
    for name in ("pricetracker-worker.service", "pricetracker-worker-llm.service"):
        service = _unit(name)
        assert service["KillSignal"] == "SIGTERM"  # Celery's warm shutdown
        assert int(service["TimeoutStopSec"]) > longest_task, name


def test_the_redis_visibility_timeout_is_above_every_tasks_hard_limit(longest_task, tmp_path):
    code = "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])"
    timeout = int(django_python(code, tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0"))
    assert timeout > longest_task


def test_the_image_gets_the_files_the_entrypoint_reads_and_no_k8s_secrets():
    import fnmatch

    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                result = not negate
        return result

    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    for needed in ("deploy/gunicorn.conf.py", "deploy/flowerconfig.py", "docker/healthcheck.py"):
        assert needed in entrypoint or needed == "docker/healthcheck.py"
        assert (ROOT / needed).is_file() and not ignored(needed), needed
    assert ignored("deploy/k8s/secrets.env")


def test_every_way_of_running_beat_uses_the_locked_scheduler():
    ways = {
        "systemd": (SYSTEMD / "pricetracker-beat.service").read_text(),
        "container": (ROOT / "docker" / "entrypoint.sh").read_text(),
        "make run": (ROOT / "scripts" / "run").read_text(),
        "settings": (ROOT / "config" / "settings.py").read_text(),
    }
    for way, text in ways.items():
        assert "metrics.beat:LockedDatabaseScheduler" in text, way
        assert "django_celery_beat.schedulers:DatabaseScheduler" not in text, way
