"""What the metrics app records itself: heartbeats of workers and of the beat scheduler."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last sign of life of one Celery worker (with the queues it consumes) or of beat.

    Each worker writes its row every few seconds; /health/detailed reads them. A worker that
    stops cleanly deletes its row; one that dies stops writing and goes stale.
    """

    class Kind(models.TextChoices):
        WORKER = "worker", "Worker"
        BEAT = "beat", "Beat scheduler"

    name = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    queues = models.JSONField(default=list, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Lease(models.Model):
    """A named lock with an expiry, held by one process at a time (e.g. the running beat).

    The holder renews it well before `expires_at`; a holder that dies stops renewing, and the
    lease goes to whoever asks after it expired. Works the same on SQLite and PostgreSQL: taking
    and renewing are conditional UPDATEs, the first taker is a unique INSERT.
    """

    name = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=255)
    acquired_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder}"
