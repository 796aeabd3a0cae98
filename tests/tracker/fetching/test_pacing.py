"""The stores' pace and concurrency slots, shared by every worker process (tracker.fetching.pacing), on
the file limiter and, in the PostgreSQL + Redis pass, on Redis."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal

import pytest

from tracker.fetching import pacing


@pytest.fixture(params=["file", "redis"])
def backend(request, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL not set: the Redis limiter runs in the PostgreSQL + Redis pass")
        settings.REDIS_URL = os.environ["REDIS_URL"]
    else:
        settings.REDIS_URL = ""
    pacing._limiter = None
    yield pacing.limiter()
    pacing._limiter = None


def _turn_in_child(key, interval, queue):  # runs in another process
    pacing._limiter = None
    queue.put(pacing.limiter().turn(key, interval))


def _hold_slot_in_child(key, ready, release):
    pacing._limiter = None
    with pacing.limiter().slot(key, 1, 0.0) as got:
        ready.put(got is not None)
        release.wait(10)


def test_the_pace_is_shared_between_processes(backend):
    key = f"pace-{random.random()}"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_turn_in_child, args=(key, 5.0, queue))
    child.start()
    assert queue.get(timeout=10) == 0.0
    child.join(10)
    wait = backend.turn(key, 5.0)
    assert 4.0 < wait <= 5.0, "the other process's request was not counted"
    assert backend.turn(key, 5.0) > 4.0, "asking took a turn in the future"


def test_a_concurrency_slot_is_shared_between_processes_and_freed_when_its_holder_dies(backend):
    key = f"slots-{random.random()}"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_hold_slot_in_child, args=(key, ready, release))
    child.start()
    try:
        assert ready.get(timeout=10) is True
        with backend.slot(key, 1, 0.0) as got:
            assert got is None
        with backend.slot(key, 2, 0.0) as got:
            assert got == 0.0
        if isinstance(backend, pacing._FileLimiter):
            os.kill(child.pid, signal.SIGKILL)
            child.join(10)
            with backend.slot(key, 1, 0.0) as got:
                assert got is not None, "a killed worker kept its slot"
    finally:
        if child.is_alive():
            release.set()  # (never after the kill: a dead waiter would block Event.set)
            child.join(10)


class Clock:
    """Stands in for `time` in pacing (and politeness): sleeping moves the clock, by a little more than asked
    (a busy machine wakes threads late)."""

    def __init__(self, rng: random.Random, oversleep: float) -> None:
        self.now, self.rng, self.oversleep = 1_000_000.0, rng, oversleep

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.rng.uniform(0, self.oversleep)


def test_a_turn_that_starts_late_pushes_the_next_one_back(settings, tmp_path, monkeypatch):
    settings.DATA_DIR, settings.REDIS_URL = tmp_path, ""
    pacing._limiter = None
    clock = Clock(random.Random(1), 0.0)
    monkeypatch.setattr(pacing, "time", clock)
    backend = pacing.limiter()
    assert backend.turn("late", 1.0) == 0.0
    clock.now += 0.5
    assert backend.turn("late", 1.0) == pytest.approx(0.5)  # nothing taken
    clock.now += 0.8  # the waiter woke 0.3 s after its turn came
    assert backend.turn("late", 1.0) == 0.0
    clock.now += 0.7
    assert backend.turn("late", 1.0) == pytest.approx(0.3), "the next request would crowd the late one"
