"""Heartbeats: workers and beat say they are alive, /health/detailed reads how recently."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .models import Heartbeat

log = logging.getLogger(__name__)


def heartbeat_record(*, name: str, kind: str, queues: list[str] | None = None) -> None:
    """Write one heartbeat. Safe to run any number of times (one row per name)."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(
        seen_at=now, pid=os.getpid(), kind=kind, **({"queues": queues} if queues is not None else {})
    )
    if not updated:
        Heartbeat.objects.update_or_create(
            name=name,
            defaults={"kind": kind, "queues": queues or [], "pid": os.getpid(), "started_at": now, "seen_at": now},
        )


def heartbeat_forget(*, name: str) -> None:
    Heartbeat.objects.filter(name=name).delete()


def heartbeats_live(*, kind: str, stale_after: float) -> list[Heartbeat]:
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    return list(Heartbeat.objects.filter(kind=kind, seen_at__gte=cutoff))


class HeartbeatThread(threading.Thread):
    """Writes a process's heartbeat every WORKER_HEARTBEAT_SECONDS until stopped."""

    def __init__(self, *, name: str, kind: str, queues: list[str] | None = None) -> None:
        super().__init__(name=f"heartbeat-{kind}", daemon=True)
        self.beat_name = name
        self.kind = kind
        self.queues = queues
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = max(float(settings.WORKER_HEARTBEAT_SECONDS), 0.2)
        while not self.stopped.is_set():
            try:
                heartbeat_record(name=self.beat_name, kind=self.kind, queues=self.queues)
            except Exception as exc:  # the database may be away for a moment; try again
                log.warning("heartbeat not written: %s", exc)
            finally:
                close_old_connections()
            self.stopped.wait(interval)

    def stop(self) -> None:
        self.stopped.set()
