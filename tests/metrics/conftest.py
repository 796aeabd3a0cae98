"""Processes the metrics tests start for real: Celery workers, beat, Redis, a product page.

Everything listens on loopback only.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")


def database_url() -> str:
    """The test database, as a URL a subprocess's settings understand."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if "memory" in name:
            pytest.skip("worker processes need a file or server test database")
        return f"sqlite:///{name}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(private_broker: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(private_broker)
    env.update(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        FETCH_ALLOW_HOSTS="127.0.0.0/8",
        FETCH_RESPECT_ROBOTS="false",
        LOG_FORMAT="json",
        WORKER_HEARTBEAT_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TEST_DB_NAME", None)
    env.update(extra)
    return env


class Proc:
    def __init__(self, popen: subprocess.Popen, log_path: Path) -> None:
        self.popen = popen
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


@pytest.fixture
def spawn(tmp_path) -> Iterator[Callable[..., Proc]]:
    """Start a command in its own process group; every one is stopped at the end of the test."""
    started: list[Proc] = []

    def _spawn(args: list[str], *, env: dict[str, str], name: str) -> Proc:
        log_path = tmp_path / f"{name}.log"
        handle = open(log_path, "w")  # noqa: SIM115 (closed with the process)
        popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc = Proc(popen, log_path)
        started.append(proc)
        return proc

    yield _spawn
    for proc in started:
        proc.stop(signal.SIGKILL)


def celery_args(*more: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *more]


def worker_args(*, name: str, queues: list[str], concurrency: int = 1, pool: str = "prefork") -> list[str]:
    return celery_args(
        "worker", "-n", f"{name}@%h", "-Q", ",".join(queues), "-c", str(concurrency), "-P", pool,
        "--without-mingle", "--without-gossip", "-l", "INFO",
    )


@contextmanager
def redis_server() -> Iterator[dict]:
    """A Redis of our own on a free loopback port; `stop()` and `start()` it at will."""
    port = free_port()
    state: dict = {"url": f"redis://127.0.0.1:{port}/0", "proc": None}

    def start() -> None:
        state["proc"] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=10, what="redis-server")

    def stop() -> None:
        proc = state["proc"]
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)

    state.update(start=start, stop=stop)
    start()
    try:
        yield state
    finally:
        stop()


@contextmanager
def product_page_server(pages: dict[str, str], host: str = "127.0.0.1") -> Iterator[str]:
    """Serves the given HTML pages (path → HTML) on a loopback address; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def product_html(*, name: str, price: str, currency: str = "EUR") -> str:
    return f"""<!doctype html><html><head><title>{name}</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Product", "name": "{name}",
"offers": {{"@type": "Offer", "price": "{price}", "priceCurrency": "{currency}",
"availability": "https://schema.org/InStock"}}}}</script></head>
<body><h1>{name}</h1><p class="price">{price} {currency}</p></body></html>"""
