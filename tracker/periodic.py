"""Write the periodic tasks of `settings.CELERY_BEAT_SCHEDULE` into django-celery-beat.

Run after every `migrate`, so the schedule in code and the one shown in the admin agree.
A task switched off in the admin stays off; its schedule follows the code. An entry whose task
left the list is deleted, so a task removed from the code does not stay in beat for ever.
"""

from __future__ import annotations

from celery.schedules import crontab, maybe_schedule
from django.conf import settings


def periodic_tasks_sync(**_kwargs) -> None:
    """Idempotent: entries are matched by name and schedules reused, so running it twice
    changes nothing."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    declared = settings.CELERY_BEAT_SCHEDULE
    for name, entry in declared.items():
        schedule = maybe_schedule(entry["schedule"])
        if isinstance(schedule, crontab):
            defaults = {"crontab": _saved(CrontabSchedule.from_schedule(schedule)), "interval": None}
        else:
            defaults = {"interval": _saved(IntervalSchedule.from_schedule(schedule)), "crontab": None}
        # No queue on the entry: CELERY_TASK_ROUTES decides, as for any other send.
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": entry["task"], "queue": None, **defaults})
    # Celery's own entries (`celery.backend_cleanup`) are beat's business, not this list's.
    PeriodicTask.objects.exclude(task__in={entry["task"] for entry in declared.values()}).exclude(
        task__startswith="celery."
    ).delete()


def _saved(schedule):
    """django-celery-beat's `from_schedule` returns an existing row or a new unsaved one."""
    if schedule.pk is None:
        schedule.save()
    return schedule
