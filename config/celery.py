"""The Celery application: configured from Django settings (`CELERY_*`)."""

from celery import Celery
from celery.signals import task_postrun, task_prerun
from kombu.transport import TRANSPORT_ALIASES

from config.bootstrap import bootstrap

bootstrap()
# `redis://` brokers use kombu's Redis transport with its client reused (config/broker.py). The
# URLs stay `redis://`, so tools that read the scheme (Flower's broker page) see what they expect.
TRANSPORT_ALIASES["redis"] = "config.broker:Transport"
# The embedded broker writes each message under a temporary name and renames it into place, so
# a worker never reads one half-written (config/filesystem_broker.py).
TRANSPORT_ALIASES["filesystem"] = "config.filesystem_broker:Transport"

app = Celery("pricetracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(dispatch_uid="pricetracker-db-connections-prerun")
@task_postrun.connect(dispatch_uid="pricetracker-db-connections-postrun")
def _close_old_db_connections(task=None, **_kwargs) -> None:
    """Treat a task like a Django request: close the database connection only when it is too old
    (`CONN_MAX_AGE`) or broken (the health check), as Django does around every request.

    Celery's Django fix-up would close it before and after every task, so every price check
    paid for a new PostgreSQL connection (a server process forked, authentication: several ms of
    CPU on both sides). `CELERY_DB_REUSE_MAX` in the settings keeps the fix-up's hands off.
    Eager tasks (tests, the embedded one-shot commands) run inside their caller's transaction.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
