"""Write the periodic tasks declared in `settings.PERIODIC_TASKS` into django-celery-beat.

Run after every `migrate`, so the schedule in code and the one shown in the admin agree.
A task switched off in the admin stays off; its schedule follows the code.
"""

from __future__ import annotations

from django.conf import settings


def periodic_tasks_sync(**_kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for name, spec in settings.PERIODIC_TASKS.items():
        defaults: dict = {"task": spec["task"], "queue": spec.get("queue", "default")}
        if "every_seconds" in spec:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
            defaults.update(interval=interval, crontab=None)
        else:
            cron = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
            cron.update(spec["crontab"])
            schedule, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **cron)
            defaults.update(crontab=schedule, interval=None)
        PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
