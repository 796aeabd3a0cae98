"""Real Celery worker and beat processes for integration tests, on the test's own database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
CHECK_QUEUES = ("checks_high", "checks_normal", "checks_low", "default")


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "") -> object:
    """Poll until `predicate()` is truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


def database_url_for_test_db() -> str:
    """A DATABASE_URL naming the database this test runs on (the test database, not the real one)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if ":memory:" in name or "mode=memory" in name:
            raise RuntimeError("worker processes need a file SQLite test database")
        return f"sqlite:///{Path(name).resolve()}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + db["NAME"]))


def process_env(broker_env: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.pop("TEST_DB_NAME", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url_for_test_db(),
            "FETCH_ALLOW_HOSTS": "127.0.0.1,127.0.0.0/8",
            "DISPATCH_SPREAD_SECONDS": "0",
            # Per-shop pacing (2 s between requests by default) is tested on its own; here it
            # would only turn a 200-check run on one local shop into minutes.
            "FETCH_PACING_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(broker_env)
    env.update(extra or {})
    return env


class CeleryProcess:
    """A `celery -A config worker|beat` subprocess in its own process group, logging to a file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, timeout: float) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"celery exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            return text in self.log()

        try:
            wait_until(seen, timeout=timeout, interval=0.1, what=f"{text!r} in the celery log")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- log ---\n{self.log()[-3000:]}") from None

    def started(self, text: str, *, timeout: float) -> CeleryProcess:
        """Wait for the log line that says the process is up; stop it if it never comes."""
        try:
            self.wait_for_log(text, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def children(self) -> list[int]:
        """Pool processes of a prefork worker."""
        try:
            raw = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in raw.split()]

    def kill(self) -> None:
        """SIGKILL the main process only, as when it is killed from outside."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, *, timeout: float = 3.0) -> None:
        """Stop the whole process group (main process and its pool), politely, then not.

        Tests do not wait for a slow warm shutdown: what a test checks is already in the
        database, and an interrupted task is the case the durability tests are about.
        """
        try:
            pgid = os.getpgid(self.pid)
        except ProcessLookupError:
            pgid = self.pid
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(pgid, signal.SIGKILL)  # the pool children, if any are left
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log.close()


def worker_start(
    *,
    broker_env: dict[str, str],
    log_dir: Path,
    queues: tuple[str, ...] = CHECK_QUEUES,
    concurrency: int = 2,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> CeleryProcess:
    """Start a prefork worker on the test database and broker and wait until it is ready."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    worker = CeleryProcess(
        [
            "worker",
            "-Q",
            ",".join(queues),
            "-c",
            str(concurrency),
            "-P",
            "prefork",
            "-n",
            f"{name}@%h",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        env=process_env(broker_env, env),
        log_path=log_dir / f"worker-{name}.log",
    )
    return worker.started(" ready.", timeout=ready_timeout)


def beat_start(*, broker_env: dict[str, str], log_dir: Path, env: dict[str, str] | None = None) -> CeleryProcess:
    """Start beat with django-celery-beat's database scheduler (the periodic tasks from migrate)."""
    beat = CeleryProcess(
        [
            "beat",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--loglevel=INFO",
            "--pidfile=",
            "--max-interval=1",
        ],
        env=process_env(broker_env, env),
        log_path=log_dir / f"beat-{uuid.uuid4().hex[:8]}.log",
    )
    return beat.started("beat: Starting", timeout=30)
