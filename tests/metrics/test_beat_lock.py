"""The beat lock: one beat dispatches, a second stands by and takes over when the first dies."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.beat import BEAT_LEASE, lease_acquire, lease_current, lease_release
from metrics.models import Lease

from .conftest import celery_args, process_env, wait_for, worker_args

PROBE = "pt-lock-probe"


@pytest.mark.django_db
def test_only_one_holder_at_a_time_until_it_expires_or_is_released():
    now = timezone.now()
    assert lease_acquire(name="beat", holder="a", ttl=30, now=now)
    assert not lease_acquire(name="beat", holder="b", ttl=30, now=now + timedelta(seconds=5))
    assert lease_acquire(name="beat", holder="a", ttl=30, now=now + timedelta(seconds=20))  # renewed
    assert not lease_acquire(name="beat", holder="b", ttl=30, now=now + timedelta(seconds=40))
    assert lease_acquire(name="beat", holder="b", ttl=30, now=now + timedelta(seconds=51))  # a stopped renewing
    assert Lease.objects.get(name="beat").holder == "b"
    lease_release(name="beat", holder="a")  # not a's any more: nothing happens
    assert lease_current(name="beat", now=now + timedelta(seconds=52)).holder == "b"
    lease_release(name="beat", holder="b")
    assert lease_acquire(name="beat", holder="a", ttl=30, now=now + timedelta(seconds=53))


def _probe_task() -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name=PROBE, defaults={"task": "metrics.tests.lock_probe", "interval": every_second, "queue": "default"}
    )


def _sent(proc) -> int:
    return proc.log().count(f"Sending due task {PROBE}")


def _holder() -> str | None:
    lease = lease_current(name=BEAT_LEASE)
    return lease.holder if lease else None


def _beat(spawn, env, tmp_path, name: str):
    return spawn(celery_args("beat", "-l", "INFO", "-s", str(tmp_path / f"{name}-schedule")), env=env, name=name)


@pytest.fixture
def lock_env(private_broker):
    return process_env(private_broker, BEAT_LOCK_TTL="4", BEAT_LOCK_RETRY="0.5")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_second_beat_stands_by_and_takes_over_when_the_first_is_killed(spawn, lock_env, tmp_path, client, settings):
    _probe_task()
    settings.METRICS_TOKEN = "lock-token"
    first = _beat(spawn, lock_env, tmp_path, "beat-1")
    try:
        wait_for(lambda: _sent(first) >= 2, timeout=60, interval=0.3, what="the first beat dispatching")
    except AssertionError:
        raise AssertionError(first.log()[-3000:]) from None
    first_holder = _holder()
    assert first_holder and first_holder.endswith(f":{first.popen.pid}")

    second = _beat(spawn, lock_env, tmp_path, "beat-2")
    wait_for(lambda: "standing by" in second.log(), timeout=60, interval=0.3, what="the second beat standing by")
    sent_before = _sent(first)
    wait_for(lambda: _sent(first) >= sent_before + 3, timeout=30, interval=0.3, what="more sends by the first")
    assert _sent(second) == 0
    assert _holder() == first_holder

    body = client.get("/health/detailed", HTTP_AUTHORIZATION="Bearer lock-token").json()
    assert body["checks"]["beat"]["lock_holder"] == first_holder
    assert [name for name in body["checks"]["beat"]["standing_by"] if name.endswith(f":{second.popen.pid}")]

    # Killed: it cannot release the lock; the second takes over once it expires.
    first.stop(signal.SIGKILL)
    wait_for(lambda: _sent(second) >= 2, timeout=40, interval=0.3, what="the second beat taking over")
    assert _holder().endswith(f":{second.popen.pid}")

    # Stopped cleanly, it lets go at once.
    second.stop(signal.SIGTERM)
    assert _holder() is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_beat_beside_a_worker_with_embedded_beat_stands_by(spawn, lock_env, tmp_path):
    _probe_task()
    args = worker_args(name="embedded", queues=["pt-lock-unused"], pool="solo")
    embedded = spawn([*args, "-B", "-s", str(tmp_path / "embedded-schedule")], env=lock_env, name="embedded")
    try:
        wait_for(lambda: _sent(embedded) >= 2, timeout=60, interval=0.3, what="the embedded beat dispatching")
    except AssertionError:
        raise AssertionError(embedded.log()[-3000:]) from None
    standalone = _beat(spawn, lock_env, tmp_path, "beat-standalone")
    wait_for(lambda: "standing by" in standalone.log(), timeout=60, interval=0.3, what="the standalone beat standing by")
    sent_before = _sent(embedded)
    wait_for(lambda: _sent(embedded) >= sent_before + 3, timeout=30, interval=0.3, what="more embedded sends")
    assert _sent(standalone) == 0
