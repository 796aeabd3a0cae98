"""Prometheus instruments and the /metrics exposition.

Counters and histograms live in prometheus-client's multiprocess files (one set per process,
under `settings.PROMETHEUS_MULTIPROC_BASE`), so gunicorn workers and Celery worker processes
each count on their own and a scrape adds them all up. Figures that are really state (queue
depth, open circuit breakers, broken stores, deals, notifications) are read at scrape time
from the broker and the database, so they are right whichever process answers.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values as _prometheus_values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# prometheus-client picks its value store when first imported. The `celery` command imports
# it (through Flower's plugin) before config/bootstrap.py sets PROMETHEUS_MULTIPROC_DIR, so the
# choice is made again here, before our metrics exist.
_prometheus_values.ValueClass = _prometheus_values.get_value_class()

PREFIX = "pricetracker"

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests_total", "Web requests answered.", ["method", "view", "status"]
)
HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a web request.",
    ["method", "view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter(
    f"{PREFIX}_celery_tasks_total",
    "Celery task runs by final state (success, failure, retry).",
    ["task", "state"],
)
TASK_DURATION = Histogram(
    f"{PREFIX}_celery_task_duration_seconds",
    "Time a Celery task ran.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
CHECKS = Counter(
    f"{PREFIX}_checks_total", "Finished price checks by outcome and store.", ["outcome", "store"]
)
EXTRACTIONS = Counter(
    f"{PREFIX}_extraction_total",
    "Which extraction layer answered a check (method), by outcome.",
    ["method", "outcome"],
)
# LLM calls and tokens, notifications and deals are rows in the database (tracker.LLMCall,
# deals.Notification, ...): /metrics reads their totals at scrape time (selectors.scrape_totals).


# --- Multiprocess files -------------------------------------------------------------------


def multiproc_dirs() -> list[Path]:
    base = settings.PROMETHEUS_MULTIPROC_BASE
    dirs = [Path(p) for p in glob.glob(str(base / "*")) if os.path.isdir(p)]
    own = settings.PROMETHEUS_MULTIPROC_DIR
    if own and own not in dirs and own.is_dir():
        dirs.append(own)
    return dirs


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def multiproc_dirs_prune() -> int:
    """Remove the metric folders of process trees on this host that have ended.

    Run when a process starts. Folders of live processes and of other hosts are left alone,
    so starting one service never wipes the counts of another that is running.
    """
    base = settings.PROMETHEUS_MULTIPROC_BASE
    host = socket.gethostname()
    own = str(settings.PROMETHEUS_MULTIPROC_DIR or "")
    removed = 0
    for path in glob.glob(str(base / f"{glob.escape(host)}-*")):
        pid_text = path.rsplit("-", 1)[-1]
        if not pid_text.isdigit() or os.path.abspath(path) == os.path.abspath(own):
            continue
        if not _pid_alive(int(pid_text)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


class _AllFoldersCollector:
    """Adds up the multiprocess files of every folder under the base (all processes)."""

    def collect(self):
        files: list[str] = []
        for folder in multiproc_dirs():
            files.extend(glob.glob(os.path.join(folder, "*.db")))
        return MultiProcessCollector.merge(files, accumulate=True)


class _StateCollector:
    """Figures read at scrape time from the broker and the database."""

    def collect(self) -> Iterable:
        depth = GaugeMetricFamily(f"{PREFIX}_queue_depth", "Messages waiting per queue.", labels=["queue"])
        for queue, count in queue_depths().items():
            if count is not None:
                depth.add_metric([queue], count)
        yield depth
        yield from _health_gauges()
        yield from _db_gauges()


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each known queue (None when the broker cannot tell)."""
    from config.celery import app

    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    result: dict[str, int | None] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel = conn.default_channel
            for name in names:
                try:
                    result[name] = int(channel._size(name))
                except Exception:  # a queue never declared has no size yet
                    result[name] = 0
    except Exception as exc:
        log.warning("queue depth unavailable: %s", exc)
        return {name: None for name in names}
    return result


def _health_gauges() -> Iterable:
    """Dependencies up or down, the data folder's disk, heartbeats: what the alert rules watch."""
    import shutil
    import time

    from django.utils import timezone

    from .health import health_probe

    up = GaugeMetricFamily(f"{PREFIX}_dependency_up", "1 when the dependency answers (database, broker).",
                           labels=["dependency"])
    for probe in health_probe():
        up.add_metric([probe.name], 1 if probe.ok else 0)
    yield up
    try:
        usage = shutil.disk_usage(settings.DATA_DIR)
    except OSError as exc:
        log.warning("disk figures unavailable: %s", exc)
    else:
        free = GaugeMetricFamily(f"{PREFIX}_data_disk_free_bytes", "Free bytes on the data folder's disk.")
        free.add_metric([], usage.free)
        yield free
        size = GaugeMetricFamily(f"{PREFIX}_data_disk_size_bytes", "Size of the data folder's disk.")
        size.add_metric([], usage.total)
        yield size
    try:
        from .beat import BEAT_LEASE, lease_current
        from .models import Heartbeat

        newest = {
            kind: seen for kind, seen in (
                (k, Heartbeat.objects.filter(kind=k).order_by("-seen_at").values_list("seen_at", flat=True).first())
                for k in Heartbeat.Kind.values
            ) if seen is not None
        }
        age = GaugeMetricFamily(f"{PREFIX}_heartbeat_age_seconds",
                                "Seconds since the newest heartbeat of a worker or of beat.", labels=["kind"])
        for kind, seen in newest.items():
            age.add_metric([kind], (timezone.now() - seen).total_seconds())
        yield age
        lease = lease_current(name=BEAT_LEASE)
        held = GaugeMetricFamily(f"{PREFIX}_beat_lock_held", "1 while a beat holds the beat lock (dispatches).")
        held.add_metric([], 1 if lease else 0)
        yield held
    except Exception as exc:
        log.warning("heartbeat gauges unavailable: %s", exc)
    scraped = GaugeMetricFamily(f"{PREFIX}_scrape_timestamp_seconds", "When these figures were read.")
    scraped.add_metric([], time.time())
    yield scraped


def _db_gauges() -> Iterable:
    from django.db.models import Count

    from tracker.models import Store

    try:
        # Per store, one series per state with 1 for the current one (as kube-state-metrics
        # does): a store's state is read straight from the circuit breaker's columns.
        per_store = GaugeMetricFamily(
            f"{PREFIX}_store_circuit_state", "Circuit breaker state of each store (1 for its current state).",
            labels=["store", "state"],
        )
        failures = GaugeMetricFamily(
            f"{PREFIX}_store_circuit_failures", "Failures in a row counted by each store's circuit breaker.",
            labels=["store"],
        )
        for domain, state, count in Store.objects.values_list("domain", "circuit_state", "circuit_failures"):
            for value in Store.CircuitState.values:
                per_store.add_metric([domain, value], 1 if value == state else 0)
            failures.add_metric([domain], count)
        yield per_store
        yield failures
        circuit = GaugeMetricFamily(
            f"{PREFIX}_circuit_breakers", "Stores by circuit breaker state.", labels=["state"]
        )
        counts = dict(Store.objects.values_list("circuit_state").annotate(n=Count("id")))
        for state in Store.CircuitState.values:
            circuit.add_metric([state], counts.get(state, 0))
        yield circuit
        extraction = GaugeMetricFamily(
            f"{PREFIX}_stores_by_extraction_status", "Stores by extraction status.", labels=["status"]
        )
        counts = dict(Store.objects.values_list("extraction_status").annotate(n=Count("id")))
        for status in Store.ExtractionStatus.values:
            extraction.add_metric([status], counts.get(status, 0))
        yield extraction
    except Exception as exc:
        log.warning("store gauges unavailable: %s", exc)
    from . import selectors

    for name, help_text, labels, rows in selectors.scrape_totals():
        family = GaugeMetricFamily(f"{PREFIX}_{name}", help_text, labels=labels)
        for label_values, value in rows:
            family.add_metric(label_values, value)
        yield family


def metrics_exposition() -> bytes:
    """The text format for a scrape: every process's counters plus the state figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_AllFoldersCollector())
    registry.register(_StateCollector())
    return generate_latest(registry)
