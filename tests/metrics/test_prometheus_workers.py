"""/metrics after real checks in real worker processes: the counts add up across processes."""

from __future__ import annotations

import glob
import os
import re
from contextlib import ExitStack

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tracker import services, tasks
from tracker.models import CheckLog

from .conftest import process_env, product_html, product_page_server, wait_for, worker_args
from .test_prometheus import samples, total

QUEUES = ["checks_high", "checks_normal", "checks_low", "default"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_checks_in_two_workers_are_counted_once_each_with_outcome_store_and_method(
    client, settings, spawn, private_broker, user, tmp_path
):
    base = tmp_path / "prometheus"
    settings.PROMETHEUS_MULTIPROC_BASE = base
    settings.METRICS_TOKEN = "t0ken"
    env = process_env(private_broker, PROMETHEUS_MULTIPROC_BASE=str(base))
    # Three processes run tasks (prefork children). On Redis they belong to two worker
    # services; the filesystem broker is not safe for two services reading one folder.
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        workers = [spawn(worker_args(name="h8metrics-a", queues=QUEUES, concurrency=3), env=env, name="worker-a")]
    else:
        workers = [
            spawn(worker_args(name="h8metrics-a", queues=QUEUES, concurrency=2), env=env, name="worker-a"),
            spawn(worker_args(name="h8metrics-b", queues=QUEUES, concurrency=1), env=env, name="worker-b"),
        ]
    def scraped() -> dict:
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken")
        assert response.status_code == 200
        return samples(response.content.decode())

    # Earlier tests in this process may have counted checks of their own: compare with a baseline.
    before = scraped()

    def moved(found: dict, name: str, **labels) -> float:
        return total(found, name, **labels) - total(before, name, **labels)

    pages = {f"/p/{i}": product_html(name=f"Thing {i}", price=f"{10 + i}.50") for i in range(2)}
    # Three shops (one loopback address each), so each shop's politeness limits stay small.
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    with ExitStack() as stack:
        bases = [stack.enter_context(product_page_server(pages, host=host)) for host in hosts]
        listings = [
            services.listing_add(owner=user, url=f"{base_url}/p/{i}", name=f"Thing {i}")
            for base_url in bases
            for i in range(2)
        ]
        broken = services.listing_add(owner=user, url=f"{bases[0]}/gone", name="Gone")  # 404
        queued = [tasks.check_now(listing=listing) for listing in listings for _ in range(2)]
        queued.append(tasks.check_now(listing=broken))

        def all_finished() -> bool:
            return not CheckLog.objects.filter(id__in=queued, finished_at__isnull=True).exists()

        try:
            wait_for(all_finished, timeout=60, interval=0.3, what="checks to finish in the workers")
        except AssertionError:
            raise AssertionError(workers[0].log()[-3000:]) from None

    ok_checks = CheckLog.objects.filter(id__in=queued, outcome="ok").count()
    failed_checks = CheckLog.objects.filter(id__in=queued).exclude(outcome="ok").count()
    assert ok_checks == 12 and failed_checks == 1

    # The check_finished signal fires after commit, a moment after finished_at is written.
    def counted() -> dict | None:
        found = scraped()
        return found if moved(found, "pricetracker_checks_total") >= 13 else None

    found = wait_for(counted, timeout=10, interval=0.2, what="counters to reach 13 checks")
    stores = [base.split("/")[2] for base in bases]  # a store is a host and its port
    for store in stores:
        assert moved(found, "pricetracker_checks_total", outcome="ok", store=store) == 4
    assert moved(found, "pricetracker_checks_total", outcome="error", store=stores[0]) == 1
    assert moved(found, "pricetracker_checks_total") == 13
    assert moved(found, "pricetracker_extraction_total", method="json-ld", outcome="ok") == 12
    # Ground truth for task runs: the workers' own "succeeded" log lines (a check may take
    # more than one run when the politeness rules put it back).
    task = "tracker.tasks.check_listing"
    succeeded = sum(len(re.findall(rf"Task {re.escape(task)}\[[^]]+\] succeeded", w.log())) for w in workers)
    assert succeeded >= 13
    assert moved(found, "pricetracker_celery_tasks_total", task=task, state="success") == succeeded
    assert moved(found, "pricetracker_celery_task_duration_seconds_count", task=task) == succeeded
    assert total(found, "pricetracker_queue_depth", queue="checks_high") == 0

    # The 13 runs were spread over several processes, each writing its own file.
    per_process = []
    for path in glob.glob(str(base / "*" / "counter_*.db")):
        one = MultiProcessCollector.merge([path], accumulate=True)
        runs = sum(
            s.value
            for family in one
            for s in family.samples
            if s.name == "pricetracker_celery_tasks_total" and s.labels.get("task") == task
        )
        if runs:
            per_process.append((os.path.basename(path), runs))
    assert len(per_process) >= 2, per_process
    assert sum(runs for _, runs in per_process) == succeeded
