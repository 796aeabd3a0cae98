"""Celery entry points of the metrics app: housekeeping and backups (weekly / daily)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import backup, housekeeping

_OPTIONS = {"soft_time_limit": 1800, "time_limit": 1900}


@shared_task(name="metrics.tasks.cleanup_old_logs", **_OPTIONS)
def cleanup_old_logs() -> dict:
    """Weekly: delete check logs older than LOG_RETENTION_DAYS."""
    return housekeeping.checklogs_cleanup(older_than_days=settings.LOG_RETENTION_DAYS)


@shared_task(name="metrics.tasks.compact_price_history", **_OPTIONS)
def compact_price_history() -> int:
    """Weekly: thin unchanged runs of prices older than PRICE_COMPACT_AFTER_DAYS."""
    return housekeeping.price_history_compact(older_than_days=settings.PRICE_COMPACT_AFTER_DAYS)


@shared_task(name="metrics.tasks.backup_database", **_OPTIONS)
def backup_database() -> str | None:
    """Daily when BACKUP_ENABLED: back up the database and keep the newest BACKUP_KEEP files."""
    if not settings.BACKUP_ENABLED:
        return None
    path = backup.backup_create(directory=settings.BACKUP_DIR)
    backup.backups_prune(directory=settings.BACKUP_DIR, keep=settings.BACKUP_KEEP)
    return str(path)
