"""Health of the things PriceTracker needs: the database and the broker."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection


@dataclass
class Probe:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "latency_ms": round(self.latency_ms, 1)}
        if self.error:
            data["error"] = self.error
        return data


def _timed(name: str, fn) -> Probe:
    started = time.monotonic()
    try:
        fn()
    except Exception as exc:  # a probe reports any failure as "down"
        return Probe(name, False, (time.monotonic() - started) * 1000, f"{exc.__class__.__name__}: {exc}"[:300])
    return Probe(name, True, (time.monotonic() - started) * 1000)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        if conn.transport_cls in ("redis", "rediss") or "redis" in conn.transport_cls:
            conn.default_channel.client.ping()


def health_probe() -> list[Probe]:
    return [_timed("database", _database), _timed("broker", _broker)]
