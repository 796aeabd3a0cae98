"""Signal hooks: Celery task metrics, request ids into tasks, heartbeats, check counts.

Connected from `MetricsConfig.ready`, so web processes, workers and beat all get them.
"""

from __future__ import annotations

import logging
import socket
import time

from celery import signals as celery_signals

from tracker.signals import check_finished

from . import instruments
from .context import request_id_new, request_id_var, task_id_var, task_name_var, user_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x_request_id"
USER_ID_HEADER = "x_user_id"

_started: dict[str, float] = {}
_tokens: dict[str, tuple] = {}
_heartbeat_threads: dict[str, object] = {}


@celery_signals.before_task_publish.connect(dispatch_uid="metrics-request-id-publish")
def _carry_request_id(sender=None, headers=None, **_kwargs) -> None:
    """A task queued while handling a request (or another task) carries that request's id."""
    if headers is None:
        return
    request_id = request_id_var.get()
    if request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id
    user_id = user_id_var.get()
    if user_id and USER_ID_HEADER not in headers:
        headers[USER_ID_HEADER] = user_id


@celery_signals.task_prerun.connect(dispatch_uid="metrics-task-prerun")
def _task_started(task_id=None, task=None, **_kwargs) -> None:
    request = getattr(task, "request", None)
    request_id = getattr(request, REQUEST_ID_HEADER, None) or request_id_new()
    user_id = getattr(request, USER_ID_HEADER, None) or ""
    _tokens[task_id] = (
        request_id_var.set(str(request_id)),
        user_id_var.set(str(user_id)),
        task_id_var.set(task_id or ""),
        task_name_var.set(getattr(task, "name", "") or ""),
    )
    _started[task_id] = time.monotonic()


@celery_signals.task_postrun.connect(dispatch_uid="metrics-task-postrun")
def _task_finished(task_id=None, task=None, state=None, **_kwargs) -> None:
    name = getattr(task, "name", "") or "unknown"
    started = _started.pop(task_id, None)
    if started is not None:
        instruments.TASK_DURATION.labels(task=name).observe(time.monotonic() - started)
    instruments.TASKS.labels(task=name, state=(state or "unknown").lower()).inc()
    tokens = _tokens.pop(task_id, None)
    if tokens:
        for var, token in zip((request_id_var, user_id_var, task_id_var, task_name_var), tokens, strict=True):
            try:
                var.reset(token)
            except ValueError:  # set in another context (eager tasks); just clear it
                var.set("")


@celery_signals.worker_ready.connect(dispatch_uid="metrics-worker-ready")
def _worker_ready(sender=None, **_kwargs) -> None:
    from .heartbeats import HeartbeatThread

    hostname = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}"
    queues = sorted(sender.app.amqp.queues.consume_from.keys()) if sender is not None else []
    thread = HeartbeatThread(name=hostname, kind="worker", queues=queues)
    _heartbeat_threads[hostname] = thread
    thread.start()
    log.info("worker heartbeat started", extra={"worker": hostname, "queues": queues})


@celery_signals.worker_shutdown.connect(dispatch_uid="metrics-worker-shutdown")
def _worker_shutdown(sender=None, **_kwargs) -> None:
    from .heartbeats import heartbeat_forget

    for name, thread in list(_heartbeat_threads.items()):
        thread.stop()
        try:
            heartbeat_forget(name=name)
        except Exception as exc:
            log.warning("heartbeat not removed: %s", exc)
        _heartbeat_threads.pop(name, None)


@celery_signals.beat_init.connect(dispatch_uid="metrics-beat-init")
def _beat_started(sender=None, **_kwargs) -> None:
    from .beat import beat_holder_name
    from .heartbeats import HeartbeatThread

    # The same name the beat lock knows it by, so health can say which beat dispatches.
    name = beat_holder_name()
    thread = HeartbeatThread(name=name, kind="beat")
    _heartbeat_threads[name] = thread
    thread.start()


@celery_signals.worker_process_init.connect(dispatch_uid="metrics-tracing-child")
def _worker_child_started(**_kwargs) -> None:
    from .tracing import tracing_setup

    tracing_setup(role="worker")


def _check_counted(sender=None, outcome=None, store=None, method=None, **_kwargs) -> None:
    """Count a finished check by outcome, store and the extraction layer that answered."""
    instruments.CHECKS.labels(outcome=outcome or "unknown", store=store or "unknown").inc()
    instruments.EXTRACTIONS.labels(method=method or "none", outcome=outcome or "unknown").inc()


check_finished.connect(_check_counted, dispatch_uid="metrics-check-finished")
