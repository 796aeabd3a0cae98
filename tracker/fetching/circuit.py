"""The circuit breaker of each store: after repeated failures the store is left alone for a
cool-down, then one check probes it (half-open) and its answer closes or reopens the circuit.
The state lives on the Store row and changes by conditional UPDATEs, so workers agree."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Listing, Store
from .results import CheckSkipped, FetchError

log = logging.getLogger(__name__)


STATE = Store.CircuitState


def circuit_check(*, store: Store) -> None:
    """Let a check through, or raise CheckSkipped while the store's circuit is open.

    When the cool-down is over, one check wins a conditional UPDATE to half-open and goes
    ahead as the probe; the others are skipped until it reports.
    """
    if store.circuit_state == STATE.CLOSED:
        return
    now = timezone.now()
    cooldown = timedelta(seconds=settings.CIRCUIT_COOLDOWN)
    opened = store.circuit_opened_at or now
    if store.circuit_state == STATE.OPEN and now < opened + cooldown:
        raise CheckSkipped(
            f"shop paused after {store.circuit_failures} failures in a row (circuit open); "
            f"next try after {(opened + cooldown):%H:%M} UTC",
            retry_at=opened + cooldown + timedelta(seconds=random.uniform(0, 60)),
        )
    probe_timeout = timedelta(seconds=settings.FETCH_DEADLINE * 3)
    if store.circuit_state == STATE.HALF_OPEN and now < opened + probe_timeout:
        raise CheckSkipped(
            "shop paused (circuit half-open): a test request is under way",
            retry_at=now + timedelta(seconds=random.uniform(30, 90)),
        )
    won = Store.objects.filter(
        pk=store.pk, circuit_state=store.circuit_state, circuit_opened_at=store.circuit_opened_at
    ).update(circuit_state=STATE.HALF_OPEN, circuit_opened_at=now)
    if not won:
        raise CheckSkipped(
            "shop paused (circuit half-open): another worker is testing it",
            retry_at=now + timedelta(seconds=random.uniform(30, 90)),
        )
    store.circuit_state, store.circuit_opened_at = STATE.HALF_OPEN, now


def circuit_record(*, store: Store, failed: bool, listing_id: int | None = None) -> str:
    """Count a success or failure for the store; returns the circuit state afterwards.

    Success closes the circuit (no write when it already is). A failure while half-open opens
    it. Otherwise the breaker opens on the shop failing, not on one person's broken pages:
    each listing counts once however often it fails (`circuit_failures` is the number of
    distinct failing listings), and while other people track the store the failures must come
    from at least CIRCUIT_MIN_OWNERS of them, so five broken URLs of one person do not pause
    everyone else's checks. A store only one person tracks opens on his listings alone.
    """
    now = timezone.now()
    if not failed:
        if store.circuit_state != STATE.CLOSED or store.circuit_failures:
            Store.objects.filter(pk=store.pk).filter(
                ~Q(circuit_state=STATE.CLOSED) | Q(circuit_failures__gt=0)
            ).update(circuit_state=STATE.CLOSED, circuit_failures=0, circuit_failing=[], circuit_opened_at=None)
        return STATE.CLOSED
    owner_id = None
    if listing_id is not None:
        owner_id = Listing.objects.filter(pk=listing_id).values_list("product__owner_id", flat=True).first()
    with transaction.atomic():
        row = (
            Store.objects.select_for_update()
            .filter(pk=store.pk)
            .values("circuit_state", "circuit_failing")
            .first()
        ) or {"circuit_state": STATE.CLOSED, "circuit_failing": []}
        failing = [tuple(pair) for pair in row["circuit_failing"] or []]
        source = (listing_id, owner_id)
        if listing_id is None or source not in failing:
            failing = (failing + [source])[-_FAILING_KEPT:]
        Store.objects.filter(pk=store.pk).update(circuit_failures=len(failing), circuit_failing=failing)
    state, failures = row["circuit_state"], len(failing)
    owners = {owner for _, owner in failing}
    if state == STATE.HALF_OPEN or (
        state == STATE.CLOSED
        and failures >= settings.CIRCUIT_FAILURE_THRESHOLD
        and len(owners) >= min(settings.CIRCUIT_MIN_OWNERS, _owners_tracking(store))
    ):
        if Store.objects.filter(pk=store.pk, circuit_state=state).update(
            circuit_state=STATE.OPEN, circuit_opened_at=now
        ):
            log.warning("circuit opened", extra={"store_id": store.pk, "failures": failures, "owners": len(owners)})
            state = STATE.OPEN
    return state


_FAILING_KEPT = 200  # distinct failing listings remembered per store; far above any threshold


def _owners_tracking(store: Store) -> int:
    return Listing.objects.filter(store=store).values("product__owner_id").distinct().count() or 1


def counts_as_failure(exc: FetchError) -> bool | None:
    """True: the shop is struggling or refusing us. False: it answered. None: says nothing."""
    if exc.kind == "render_unavailable":
        return None  # our browser is missing, not the shop's fault
    if exc.kind == "blocked" or exc.transient:
        return True
    if exc.kind in ("http", "not_html", "too_large"):
        return False
    return None


def circuit_snapshot() -> dict:
    """For metrics and dashboards: stores per circuit state and the stores not closed."""
    counts = {state: 0 for state in STATE.values}
    for state, count in _state_counts():
        counts[state] = count
    not_closed = list(
        Store.objects.exclude(circuit_state=STATE.CLOSED).values(
            "id", "domain", "circuit_state", "circuit_failures", "circuit_opened_at"
        )[:100]
    )
    return {"counts": counts, "stores": not_closed}


def _state_counts() -> list[tuple[str, int]]:
    from django.db.models import Count

    return list(Store.objects.values_list("circuit_state").annotate(n=Count("id")).values_list("circuit_state", "n"))
