"""The embedded broker (config/filesystem_broker.py) under concurrent publishers and workers:
every message arrives once and whole. kombu's own filesystem transport lost a few in a
hundred here (a worker took files still being written and read them empty)."""

from __future__ import annotations

import multiprocessing
import os

from kombu import Connection

from config import filesystem_broker
from config.celery import app  # noqa: F401  (registers the transport for filesystem:// URLs)

PAD = "x" * 100_000  # large messages take long enough to write for a reader to meet them half-written


def _options(folder) -> dict:
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def _publish(folder, first: int, count: int) -> None:
    with Connection("filesystem://", transport_options=_options(folder)) as conn:
        queue = conn.SimpleQueue("race")
        for number in range(first, first + count):
            queue.put({"n": number, "pad": PAD})


def _consume(folder, results, wanted: int) -> None:
    seen, problems = [], []
    with Connection("filesystem://", transport_options=_options(folder)) as conn:
        queue = conn.SimpleQueue("race")
        idle = 0
        while len(seen) < wanted and idle < 40:
            try:
                message = queue.get(timeout=0.05)
            except queue.Empty:
                idle += 1
                continue
            except Exception as exc:  # kombu's transport: JSONDecodeError on a half-written file
                problems.append(f"{type(exc).__name__}: {exc}")
                continue
            idle = 0
            body = message.payload
            if body.get("pad") != PAD:
                problems.append(f"message {body.get('n')} arrived cut short")
            seen.append(body["n"])
            message.ack()
    results.put((seen, problems))


def test_the_embedded_broker_is_the_one_whose_messages_appear_whole(tmp_path):
    with Connection("filesystem://", transport_options=_options(tmp_path)) as conn:
        assert isinstance(conn.transport, filesystem_broker.Transport)


def test_concurrent_publishers_and_workers_lose_no_message(tmp_path):
    for sub in ("queue", "processed", "control"):
        (tmp_path / sub).mkdir()
    per_publisher, publishers, workers = 150, 2, 2
    total = per_publisher * publishers
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    consumers = [ctx.Process(target=_consume, args=(tmp_path, results, total)) for _ in range(workers)]
    producers = [
        ctx.Process(target=_publish, args=(tmp_path, i * per_publisher, per_publisher))
        for i in range(publishers)
    ]
    for process in consumers + producers:
        process.start()
    for process in producers:
        process.join(60)
    outcomes = [results.get(timeout=90) for _ in consumers]
    for process in consumers:
        process.join(10)

    received = sorted(n for seen, _ in outcomes for n in seen)
    problems = [p for _, found in outcomes for p in found]
    assert problems == []
    assert received == list(range(total)), "a message was lost or delivered twice"
    assert not [name for name in os.listdir(tmp_path / "queue") if not name.startswith(".")]
