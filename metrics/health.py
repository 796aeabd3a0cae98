"""Health of the things PriceTracker needs.

`health_probe` is the fast liveness answer (database and broker). `health_detailed` adds
the workers of each queue, beat's heartbeat, free disk space in the data folder and the LLM
endpoint (when configured), each with its latency and state.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection


@dataclass
class Probe:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""
    required: bool = True
    detail: dict = field(default_factory=dict)

    @property
    def state(self) -> str:
        if self.ok:
            return "up"
        return "down" if self.required else "degraded"

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "state": self.state, "latency_ms": round(self.latency_ms, 1)}
        if not self.required:
            data["required"] = False
        if self.error:
            data["error"] = self.error
        data.update(self.detail)
        return data


class ProbeFailed(Exception):
    """A dependency answered, but not well enough; `detail` says what was seen."""

    def __init__(self, message: str, detail: dict | None = None) -> None:
        super().__init__(message)
        self.detail = detail or {}


def _timed(name: str, fn: Callable[[], dict | None], *, required: bool = True) -> Probe:
    started = time.monotonic()
    try:
        detail = fn() or {}
    except ProbeFailed as exc:
        return Probe(name, False, (time.monotonic() - started) * 1000, str(exc)[:300], required, exc.detail)
    except Exception as exc:  # a probe reports any failure as "down"
        error = f"{exc.__class__.__name__}: {exc}"[:300]
        return Probe(name, False, (time.monotonic() - started) * 1000, error, required)
    return Probe(name, True, (time.monotonic() - started) * 1000, required=required, detail=detail)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from config.celery import app

    url = app.conf.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        # A fresh connection each time: a pooled one can look alive after Redis went away.
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, retry_on_timeout=False)
        try:
            client.ping()
        finally:
            client.close()
        return
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def health_probe() -> list[Probe]:
    return [_timed("database", _database), _timed("broker", _broker)]


def _workers() -> dict:
    """At least one live worker (fresh heartbeat) for every required queue."""
    from .heartbeats import heartbeats_live

    live = heartbeats_live(kind="worker", stale_after=settings.WORKER_STALE_AFTER)
    per_queue: dict[str, list[str]] = {}
    for beat in live:
        for queue in beat.queues or []:
            per_queue.setdefault(queue, []).append(beat.name)
    queues = {q: len(per_queue.get(q, [])) for q in sorted(set(settings.HEALTH_REQUIRED_QUEUES) | set(per_queue))}
    detail = {"workers": sorted(b.name for b in live), "queues": queues}
    missing = [q for q in settings.HEALTH_REQUIRED_QUEUES if not per_queue.get(q)]
    if missing:
        raise ProbeFailed(f"no live worker for queue(s): {', '.join(missing)}", detail)
    return detail


def _beat() -> dict:
    from django.utils import timezone

    from .models import Heartbeat

    last = Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).order_by("-seen_at").first()
    if last is None:
        raise ProbeFailed("beat has never reported")
    age = (timezone.now() - last.seen_at).total_seconds()
    detail = {"last_heartbeat": last.seen_at.isoformat(), "age_seconds": round(age, 1)}
    detail.update(_beat_lock())
    if age > settings.BEAT_STALE_AFTER:
        raise ProbeFailed(f"beat silent for {age:.0f} s", detail)
    return detail


def _beat_lock() -> dict:
    """Which beat dispatches (holds the beat lock) and which stand by."""
    from .beat import BEAT_LEASE, lease_current
    from .heartbeats import heartbeats_live
    from .models import Heartbeat

    lease = lease_current(name=BEAT_LEASE)
    live = sorted(b.name for b in heartbeats_live(kind=Heartbeat.Kind.BEAT, stale_after=settings.BEAT_STALE_AFTER))
    holder = lease.holder if lease else None
    return {"lock_holder": holder, "standing_by": [name for name in live if name != holder]}


def _disk() -> dict:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free / (1024 * 1024)
    detail = {
        "path": str(settings.DATA_DIR),
        "free_mb": round(free_mb),
        "used_percent": round(100 * usage.used / usage.total, 1) if usage.total else None,
    }
    if free_mb < settings.HEALTH_MIN_FREE_MB:
        raise ProbeFailed(f"only {free_mb:.0f} MB free (minimum {settings.HEALTH_MIN_FREE_MB} MB)", detail)
    return detail


def llm_configured() -> bool:
    return bool(settings.OPENAI_BASE_URL or settings.OPENAI_API_KEY)


def _llm() -> dict:
    """The endpoint lists its models (one cheap GET, no tokens spent)."""
    import requests

    base = (settings.OPENAI_BASE_URL or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {settings.OPENAI_API_KEY}"} if settings.OPENAI_API_KEY else {}
    response = requests.get(f"{base}/models", headers=headers, timeout=settings.HEALTH_LLM_TIMEOUT)
    detail = {"status": response.status_code}
    if response.status_code >= 400:
        raise ProbeFailed(f"LLM endpoint answered HTTP {response.status_code}", detail)
    return detail


def health_detailed() -> list[Probe]:
    """Every dependency, required or not. The LLM is optional: down makes it "degraded"."""
    probes = [
        _timed("database", _database),
        _timed("broker", _broker),
    ]
    database_up = probes[0].ok
    if database_up:
        probes += [_timed("workers", _workers), _timed("beat", _beat)]
    else:
        for name in ("workers", "beat"):
            probes.append(Probe(name, False, 0.0, "unknown: the database is down"))
    probes.append(_timed("disk", _disk))
    if llm_configured():
        probes.append(_timed("llm", _llm, required=False))
    return probes
