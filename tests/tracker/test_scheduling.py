"""Scheduling (tracker.scheduling): checks a dead worker or a lost message left behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tracker import scheduling, services
from tracker.models import CheckLog

pytestmark = pytest.mark.django_db


def test_checks_queued_or_running_too_long_are_queued_again_and_others_are_left(user, settings):
    listing = services.listing_add(owner=user, url="http://127.0.0.1:9/p/kettle", name="Kettle")
    long_ago = timezone.now() - timedelta(seconds=settings.CHECK_STALE_AFTER + 60)
    lost = CheckLog.objects.create(listing=listing, queued_at=long_ago)
    dead = CheckLog.objects.create(listing=listing, outcome="running", queued_at=long_ago, started_at=long_ago)
    CheckLog.objects.create(listing=listing)  # queued just now
    CheckLog.objects.create(listing=listing, outcome="ok", queued_at=long_ago, started_at=long_ago,
                            finished_at=long_ago)

    found = scheduling.checks_find_stale()

    assert sorted(item.check_id for item in found) == sorted([lost.pk, dead.pk])
    assert set(CheckLog.objects.filter(pk__in=[lost.pk, dead.pk]).values_list("outcome", flat=True)) == {"queued"}
    assert scheduling.checks_find_stale() == []  # queued again just now: not stale any more
