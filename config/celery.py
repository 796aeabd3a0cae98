"""The Celery application: configured from Django settings (`CELERY_*`)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pricetracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in app.conf.task_queues_names or []] or None
app.autodiscover_tasks()
# The deal scout keeps its tasks beside its services.
app.autodiscover_tasks(["deals.scout"])
