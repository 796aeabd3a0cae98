"""One beat at a time: the beat lock, and the scheduler that dispatches only while holding it.

Two beats (a second container, a restarted host that did not stop the old one, `worker -B`
next to a beat service) would queue every periodic task twice. Each beat asks for the lease
named `beat` before it dispatches anything; the one that holds it renews it every few
seconds, the others stand by and take over once it expires (a holder that dies stops
renewing) or is released (a holder that stops cleanly lets go at once).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from .models import Lease

log = logging.getLogger(__name__)

BEAT_LEASE = "beat"


def lease_acquire(*, name: str, holder: str, ttl: float, now: datetime | None = None) -> bool:
    """Take or renew the lease; True when `holder` holds it until now + ttl.

    Safe to run any number of times and from any number of processes at once: renewing is an
    UPDATE filtered on the holder, taking over one filtered on the expiry, and the first taker
    an INSERT that the unique name lets only one process make.
    """
    now = now or timezone.now()
    until = now + timedelta(seconds=ttl)
    if Lease.objects.filter(name=name, holder=holder).update(expires_at=until):
        return True
    if Lease.objects.filter(name=name, expires_at__lt=now).update(holder=holder, acquired_at=now, expires_at=until):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, acquired_at=now, expires_at=until)
    except IntegrityError:
        return False
    return True


def lease_release(*, name: str, holder: str) -> None:
    """Give the lease up (only if `holder` has it), so a standing-by process takes over at once."""
    Lease.objects.filter(name=name, holder=holder).delete()


def lease_current(*, name: str, now: datetime | None = None) -> Lease | None:
    """The unexpired lease, or None when nobody holds it."""
    return Lease.objects.filter(name=name, expires_at__gte=now or timezone.now()).first()


def beat_holder_name() -> str:
    return f"beat@{socket.gethostname()}:{os.getpid()}"


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, dispatching only while it holds the beat lease.

    `tick` is called in a loop and sends at most one due task per call; the lease is renewed
    when a third of its lifetime has passed, so a busy tick costs no extra query. A beat that
    does not hold the lease sends nothing and asks again after BEAT_LOCK_RETRY seconds.
    """

    def __init__(self, *args, **kwargs) -> None:
        self.lease_holder = beat_holder_name()
        self._lease_checked = 0.0
        self._lease_held: bool | None = None  # unknown until the first tick asks
        super().__init__(*args, **kwargs)

    def _holds_lease(self) -> bool:
        ttl = float(settings.BEAT_LOCK_TTL)
        if self._lease_held is True and time.monotonic() - self._lease_checked < ttl / 3:
            return True
        try:
            held = lease_acquire(name=BEAT_LEASE, holder=self.lease_holder, ttl=ttl)
        except Exception as exc:  # the database is away: send nothing until it answers
            log.warning("beat lock not renewed: %s", exc)
            close_old_connections()
            held = False
        if held != self._lease_held:
            if held:
                log.info("beat lock taken: this beat dispatches", extra={"holder": self.lease_holder})
            else:
                current = _holder_or_unknown()
                log.warning("beat lock held elsewhere: standing by", extra={"holder": current})
        self._lease_held = held
        self._lease_checked = time.monotonic()
        return held

    def tick(self, *args, **kwargs) -> float:
        if not self._holds_lease():
            return float(settings.BEAT_LOCK_RETRY)
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lease_held:
                try:
                    lease_release(name=BEAT_LEASE, holder=self.lease_holder)
                except Exception as exc:
                    log.warning("beat lock not released (it expires on its own): %s", exc)
                self._lease_held = False


def _holder_or_unknown() -> str:
    try:
        lease = lease_current(name=BEAT_LEASE)
    except Exception:
        return "unknown"
    return lease.holder if lease else "nobody"
