"""Fixtures that run PriceTracker for real: Celery worker processes and a shop on loopback.

Tests that use a worker need `transactional_db` (the worker is another process: it only sees
committed rows). The worker reads this run's test database and private broker.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from .shop import TinyShop
from .workers import CeleryProcess, worker_start


@pytest.fixture(scope="session")
def celery_log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("celery-logs")


@pytest.fixture(scope="module")
def live_worker(django_db_setup, private_broker, celery_log_dir) -> CeleryProcess:
    """A prefork worker on every check queue, shared by the tests of one module.

    A module that starts workers of its own (other queues, other settings) does not use it.
    """
    worker = worker_start(broker_env=private_broker, log_dir=celery_log_dir)
    yield worker
    worker.stop()


@pytest.fixture
def start_worker(django_db_setup, private_broker, celery_log_dir):
    """Start extra workers (own queues, concurrency or environment); all stopped after the test."""
    started: list[CeleryProcess] = []

    def start(**kwargs) -> CeleryProcess:
        worker = worker_start(broker_env=private_broker, log_dir=celery_log_dir, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def shop():
    shop = TinyShop()
    yield shop
    shop.stop()


@pytest.fixture
def broker_purge():
    """Empty this run's check queues (messages a test left for a worker it did not start)."""
    from config.celery import app

    def purge() -> None:
        with app.connection_for_write() as conn:
            for queue in (queue.name for queue in settings.CELERY_TASK_QUEUES):
                try:
                    conn.default_channel.queue_purge(queue)
                except Exception:  # a queue nobody declared yet holds nothing
                    pass

    yield purge
    purge()


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="carol", password="pw-carol-123")
