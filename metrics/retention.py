"""Retention: rows of every table that grows are deleted once older than their setting.

Run weekly by the housekeeping task (metrics.tasks.cleanup_old_logs), after check logs and
task results (housekeeping.checklogs_cleanup). Each rule names a model, the date that ages
it, which rows are finished (a notification still to send, a deal listing still listed, are
never old), and the setting with its age in days (0: keep forever). Rows that another row
still points at are kept: an alert event whose notification is still in the outbox, a deal
listing a match refers to. Rules run in order, so the referencing rows go first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

log = logging.getLogger(__name__)

_BATCH = 2000


@dataclass(frozen=True)
class RetentionRule:
    model: str  # app_label.Model
    date_field: str
    setting: str  # days, 0 keeps everything
    finished: Callable[[], Q] = Q  # which rows may go at all
    keep_referenced: bool = True


def _settled() -> Q:
    return Q(status__in=("sent", "failed"))


RULES: tuple[RetentionRule, ...] = (
    # Login audit (django-axes): attempts, failures and the sign-in log. An attempt's own expiry
    # record goes with it (it is part of the attempt, not a reference to keep it for).
    RetentionRule("axes.AccessAttempt", "attempt_time", "LOGIN_AUDIT_RETENTION_DAYS", keep_referenced=False),
    RetentionRule("axes.AccessFailureLog", "attempt_time", "LOGIN_AUDIT_RETENTION_DAYS"),
    RetentionRule("axes.AccessLog", "attempt_time", "LOGIN_AUDIT_RETENTION_DAYS"),
    # Outboxes: only what was sent or gave up; then what they pointed at.
    RetentionRule("deals.Notification", "created_at", "NOTIFICATION_RETENTION_DAYS", _settled),
    RetentionRule("deals.DealNotification", "created_at", "NOTIFICATION_RETENTION_DAYS", _settled),
    RetentionRule("deals.AlertEvent", "created_at", "ALERT_EVENT_RETENTION_DAYS"),
    RetentionRule("deals.DealMatch", "matched_at", "DEAL_RETENTION_DAYS"),
    RetentionRule("deals.DealListing", "gone_at", "DEAL_RETENTION_DAYS", lambda: Q(status="gone")),
    # Heartbeats of workers and beats that stopped long ago (a clean stop deletes its own).
    RetentionRule("metrics.Heartbeat", "seen_at", "HEARTBEAT_RETENTION_DAYS"),
    RetentionRule("tracker.LLMCall", "created_at", "LLM_CALL_RETENTION_DAYS"),
)


def _unreferenced(queryset: QuerySet) -> QuerySet:
    """Only rows no other row points at (through any foreign key or one-to-one)."""
    for relation in queryset.model._meta.related_objects:
        if relation.many_to_many:
            continue
        queryset = queryset.filter(**{f"{relation.name}__isnull": True})
    return queryset


def retention_apply(*, now: datetime | None = None, rules: tuple[RetentionRule, ...] = RULES) -> dict[str, int]:
    """Delete what each rule says is too old; returns rows deleted per model.

    Deletes in batches of ids (short transactions, no table lock held for long). Safe to run
    twice: the second run finds nothing more to delete.
    """
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    for rule in rules:
        days = getattr(settings, rule.setting, 0)
        if not days:
            continue
        model = apps.get_model(rule.model)
        cutoff = now - timedelta(days=days)
        old = model._default_manager.filter(rule.finished(), **{f"{rule.date_field}__lt": cutoff})
        if rule.keep_referenced:
            old = _unreferenced(old)
        count = 0
        while True:
            ids = list(old.values_list("pk", flat=True)[:_BATCH])
            if not ids:
                break
            model._default_manager.filter(pk__in=ids).delete()
            count += len(ids)
        deleted[model._meta.label] = count
    deleted["sessions"] = _expired_sessions_clear()
    log.info("retention applied", extra={"deleted": deleted})
    return deleted


def _expired_sessions_clear() -> int:
    """Django's own clean-up of expired sessions (what `clearsessions` runs)."""
    from importlib import import_module

    from django.contrib.sessions.models import Session

    before = Session.objects.filter(expire_date__lt=timezone.now()).count()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return before
