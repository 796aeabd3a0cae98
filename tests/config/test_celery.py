"""Celery declared once: routes, queues and periodic tasks come from the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from config.celery import app
from tracker.periodic import periodic_tasks_sync


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_periodic_task_names_a_registered_task():
    app.loader.import_default_modules()
    unknown = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
               if entry["task"] not in app.tasks}
    assert unknown == {}


def test_pattern_learning_sent_from_anywhere_lands_on_the_llm_queue():
    assert _queue_of("tracker.tasks.generate_pattern") == "llm"


def test_a_check_sent_without_a_queue_lands_on_a_check_queue_not_default():
    assert _queue_of("tracker.tasks.check_listing") == "checks_normal"


def test_a_task_not_routed_lands_on_the_default_queue():
    assert _queue_of("deals.scout.tasks.scan_source") == "default"


def test_every_routed_queue_is_declared():
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= declared
    assert settings.CELERY_TASK_DEFAULT_QUEUE in declared


@pytest.mark.django_db
def test_a_task_removed_from_the_list_is_deleted_from_beat(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "old-job": {"task": "tracker.tasks.old_job", "schedule": timedelta(minutes=7)},
    }
    periodic_tasks_sync()
    assert PeriodicTask.objects.filter(name="old-job", task="tracker.tasks.old_job").exists()

    settings.CELERY_BEAT_SCHEDULE = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if k != "old-job"}
    periodic_tasks_sync()

    assert not PeriodicTask.objects.filter(task="tracker.tasks.old_job").exists()
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(settings.CELERY_BEAT_SCHEDULE)


@pytest.mark.django_db
def test_sync_follows_the_code_schedule_but_keeps_an_entry_switched_off_in_the_admin(settings):
    PeriodicTask.objects.filter(name="check-pattern-health").update(enabled=False)
    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "check-pattern-health": {"task": "tracker.tasks.check_pattern_health",
                                 "schedule": crontab(minute="10", hour="5")},
    }
    periodic_tasks_sync()
    periodic_tasks_sync()

    entry = PeriodicTask.objects.get(name="check-pattern-health")
    assert (entry.crontab.minute, entry.crontab.hour) == ("10", "5")
    assert entry.interval is None
    assert not entry.enabled
    assert entry.queue is None
