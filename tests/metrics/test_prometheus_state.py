"""/metrics state read at scrape time: each store's circuit, dependencies, disk, heartbeats, beat lock."""

from __future__ import annotations

import pytest

from metrics.beat import BEAT_LEASE, lease_acquire
from metrics.heartbeats import heartbeat_record
from tracker.fetching.circuit import circuit_record
from tracker.models import Store

from .test_prometheus import samples


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = "state-token"

    def _scrape() -> dict:
        return samples(client.get("/metrics", HTTP_AUTHORIZATION="Bearer state-token").content.decode())

    return _scrape


@pytest.mark.django_db
def test_each_stores_circuit_state_is_a_gauge_set_by_the_circuit_breaker(scrape, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    failing = Store.objects.create(domain="failing.test")
    Store.objects.create(domain="fine.test")
    for _ in range(2):
        circuit_record(store=failing, failed=True)

    found = scrape()
    state = "pricetracker_store_circuit_state"
    assert found[(state, (("state", "open"), ("store", "failing.test")))] == 1
    assert found[(state, (("state", "closed"), ("store", "failing.test")))] == 0
    assert found[(state, (("state", "closed"), ("store", "fine.test")))] == 1
    assert found[("pricetracker_store_circuit_failures", (("store", "failing.test"),))] == 2

    circuit_record(store=Store.objects.get(domain="failing.test"), failed=False)
    assert scrape()[(state, (("state", "closed"), ("store", "failing.test")))] == 1


@pytest.mark.django_db
def test_dependencies_disk_heartbeats_and_the_beat_lock_are_gauges(scrape):
    heartbeat_record(name="w@test", kind="worker", queues=["default"])
    found = scrape()
    assert found[("pricetracker_dependency_up", (("dependency", "database"),))] == 1
    assert found[("pricetracker_dependency_up", (("dependency", "broker"),))] == 1
    assert found[("pricetracker_data_disk_free_bytes", ())] > 0
    assert 0 <= found[("pricetracker_heartbeat_age_seconds", (("kind", "worker"),))] < 60
    assert ("pricetracker_heartbeat_age_seconds", (("kind", "beat"),)) not in found  # beat never reported
    assert found[("pricetracker_beat_lock_held", ())] == 0
    lease_acquire(name=BEAT_LEASE, holder="beat@test:1", ttl=60)
    assert scrape()[("pricetracker_beat_lock_held", ())] == 1
