"""Container health checks: `python docker/healthcheck.py ROLE`; exit 0 when healthy.

web: /health answers 200. worker / worker-llm: this container's Celery node answers a ping.
beat: its heartbeat row is fresh. flower: /healthcheck answers.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app, not docker/


def _http_ok(url: str, *, host: str | None = None) -> bool:
    # Behind a TLS proxy (SECURE_HTTPS) plain http would be redirected: say it came over https.
    headers = {"X-Forwarded-Proto": "https"}
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed local URL
        return response.status == 200


def _allowed_host() -> str | None:
    """A name Django accepts in the Host header (ALLOWED_HOSTS may not list 127.0.0.1)."""
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return None


def _worker_ok(prefix: str) -> bool:
    from config.celery import app

    node = f"{prefix}@{socket.gethostname()}"
    replies = app.control.ping(destination=[node], timeout=5.0)
    return any(node in reply for reply in replies)


def _beat_ok() -> bool:
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    from django.conf import settings

    from metrics.heartbeats import heartbeats_live

    # beat@HOST:PID (a standing-by beat in this container is healthy too).
    prefix = f"beat@{socket.gethostname()}:"
    return any(b.name.startswith(prefix) for b in heartbeats_live(kind="beat", stale_after=settings.BEAT_STALE_AFTER))


def main(role: str) -> bool:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if role == "web":
        return _http_ok(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health", host=_allowed_host())
    if role == "worker":
        return _worker_ok("checks")
    if role == "worker-llm":
        return _worker_ok("llm")
    if role == "beat":
        return _beat_ok()
    if role == "flower":
        return _http_ok(f"http://127.0.0.1:{os.environ.get('FLOWER_PORT', '5555')}/healthcheck")
    raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    try:
        healthy = main(sys.argv[1] if len(sys.argv) > 1 else "web")
    except Exception as exc:  # any failure means unhealthy; say why in `docker inspect`
        print(f"unhealthy: {exc.__class__.__name__}: {exc}")
        healthy = False
    sys.exit(0 if healthy else 1)
