"""Celery entry points of the metrics app: housekeeping and backups (weekly / daily)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import backup, housekeeping, retention

_OPTIONS = {"soft_time_limit": 1800, "time_limit": 1900}


@shared_task(name="metrics.tasks.cleanup_old_logs", **_OPTIONS)
def cleanup_old_logs() -> dict:
    """Weekly: check logs older than LOG_RETENTION_DAYS, then every other table that grows,
    by its *_RETENTION_DAYS setting (metrics/retention.py)."""
    deleted = housekeeping.checklogs_cleanup(older_than_days=settings.LOG_RETENTION_DAYS)
    deleted.update(retention.retention_apply())
    return deleted


@shared_task(name="metrics.tasks.compact_price_history", **_OPTIONS)
def compact_price_history() -> int:
    """Weekly: thin unchanged runs of prices older than PRICE_COMPACT_AFTER_DAYS."""
    return housekeeping.price_history_compact(older_than_days=settings.PRICE_COMPACT_AFTER_DAYS)


@shared_task(name="metrics.tasks.backup_database", **_OPTIONS)
def backup_database() -> str | None:
    """Daily when BACKUP_ENABLED: back up the database, delete backups older than BACKUP_KEEP_DAYS."""
    if not settings.BACKUP_ENABLED:
        return None
    path = backup.backup_create(directory=settings.BACKUP_DIR, key=settings.BACKUP_ENCRYPTION_KEY or None)
    backup.backups_prune(directory=settings.BACKUP_DIR, keep_days=settings.BACKUP_KEEP_DAYS)
    return str(path)
