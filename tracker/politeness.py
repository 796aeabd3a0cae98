"""Being a good guest at every shop: robots.txt, pace, concurrency and a circuit breaker.

`listing_fetch` is what a check calls instead of fetching directly. It

1. skips the store while its circuit breaker is open (one probe when it goes half-open),
2. reads robots.txt (protego, cached on the Store row and in memory; fetching it takes a turn
   of the store's pace) and honours it unless an admin switched `respect_robots` off for the
   store; `Crawl-delay`/`Request-rate` slow us down,
3. takes a concurrency slot, then the store's pacing turn, both shared by every worker (Redis
   when configured, file locks in the data folder otherwise), waiting a little at most, never
   long; no window of any length sees more requests than the store's limit,
4. fetches (through the browser when the store renders JavaScript), and
5. tells the breaker how it went. A 429/503 with Retry-After also pushes the store's pace.

Anything that means "not now" raises `CheckSkipped` with the time to try again; the check
moves `next_check_at` instead of sleeping.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from protego import Protego

from . import pacing
from .fetching import FetchError, FetchResult, fetch_page, safe_get
from .models import Listing, Store

log = logging.getLogger(__name__)


class CheckSkipped(Exception):
    """The check was not made now; `retry_at` says when to try again. Nothing is recorded."""

    def __init__(
        self,
        reason: str,
        *,
        retry_at: datetime,
        listing_status: str | None = None,
        requeue: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at
        self.listing_status = listing_status
        # A short wait for the store's turn: the same check goes back to the queue with a
        # countdown of at most FETCH_REQUEUE_MAX seconds instead of being skipped.
        self.requeue = requeue and (retry_at - timezone.now()).total_seconds() <= settings.FETCH_REQUEUE_MAX

    @property
    def retry_in(self) -> float:
        return max((self.retry_at - timezone.now()).total_seconds(), 0.0)


def robots_respected(store: Store) -> bool:
    return bool(settings.FETCH_RESPECT_ROBOTS and store.respect_robots)


# --- robots.txt ----------------------------------------------------------------------------

_robots_cache: dict[int, tuple[datetime | None, str, Protego]] = {}
_robots_lock = threading.Lock()


def _robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def robots_refresh(*, store: Store, url: str) -> str:
    """Fetch the store's robots.txt through the gate and keep it on the Store row.

    Safe to run twice: it only overwrites the cached text. A missing robots.txt (4xx) allows
    everything; an unreachable one (5xx, network) keeps the last copy, and without one the
    check is skipped, as RFC 9309 asks.
    """
    now = timezone.now()
    try:
        result = safe_get(_robots_url(url), accept="text", max_bytes=settings.ROBOTS_MAX_BYTES)
        text = result.text
    except FetchError as exc:
        if exc.kind == "http" and exc.http_status and 400 <= exc.http_status < 500 and exc.http_status != 429:
            text = ""
        elif exc.kind in ("not_html", "too_large", "refused", "invalid", "redirects"):
            text = ""
        elif store.robots_fetched_at is not None:
            retry = now - timedelta(seconds=settings.ROBOTS_CACHE_SECONDS) + timedelta(seconds=3600)
            Store.objects.filter(pk=store.pk).update(robots_fetched_at=retry)
            store.robots_fetched_at = retry
            return store.robots_txt
        else:
            raise CheckSkipped(
                f"robots.txt could not be read ({exc}); trying again later",
                retry_at=now + timedelta(seconds=settings.FETCH_BACKOFF_BASE),
            ) from exc
    Store.objects.filter(pk=store.pk).update(robots_txt=text, robots_fetched_at=now)
    store.robots_txt, store.robots_fetched_at = text, now
    return text


def robots_stale(*, store: Store) -> bool:
    fetched = store.robots_fetched_at
    return fetched is None or timezone.now() - fetched > timedelta(seconds=settings.ROBOTS_CACHE_SECONDS)


def robots_for_store(*, store: Store, url: str) -> Protego:
    """The store's parsed robots.txt, fetched when older than ROBOTS_CACHE_SECONDS."""
    if robots_stale(store=store):
        robots_refresh(store=store, url=url)
    with _robots_lock:
        cached = _robots_cache.get(store.pk)
        if cached and cached[0] == store.robots_fetched_at and cached[1] == store.robots_txt:
            return cached[2]
    parsed = Protego.parse(store.robots_txt or "")
    with _robots_lock:
        _robots_cache[store.pk] = (store.robots_fetched_at, store.robots_txt, parsed)
    return parsed


def _user_agent_token() -> str:
    return settings.ROBOTS_USER_AGENT or settings.FETCH_USER_AGENT


def store_interval(*, store: Store, robots: Protego | None) -> float:
    """Seconds between two requests to this store: its own limit or robots.txt's, the slower."""
    interval = 60.0 / max(store.rate_limit_per_minute or 1, 1)
    if robots is not None:
        agent = _user_agent_token()
        delay = robots.crawl_delay(agent)
        if delay:
            interval = max(interval, min(float(delay), settings.ROBOTS_MAX_CRAWL_DELAY))
        rate = robots.request_rate(agent)
        if rate and rate.requests:
            interval = max(interval, min(rate.seconds / rate.requests, settings.ROBOTS_MAX_CRAWL_DELAY))
    return interval


# --- Pace and concurrency, shared by all workers (the limiters are in pacing.py) -------------


@contextlib.contextmanager
def store_slot(*, store: Store, interval: float) -> Iterator[None]:
    """Hold one of the store's concurrency slots and its pacing turn for one request.

    Waits at most FETCH_PACE_WAIT_MAX seconds for the turn (a short pause between requests to
    one shop); a turn further away, or no free slot, raises CheckSkipped with the time to
    come back.
    """
    if not settings.FETCH_PACING_ENABLED:
        yield
        return
    backend = pacing.limiter()
    key = pacing.store_key(store)
    spacing = interval * (1 + pacing.PACE_MARGIN)
    with backend.slot(key, store.max_concurrency, spacing) as wait:
        if wait is None:
            raise CheckSkipped(
                f"{store.max_concurrency} request(s) to this shop already running; trying again shortly",
                retry_at=timezone.now() + timedelta(seconds=max(interval, 2.0) * random.uniform(1.0, 2.0)),
                requeue=True,
            )
        waited = 0.0
        while wait > 0:
            if waited + wait > settings.FETCH_PACE_WAIT_MAX:
                raise CheckSkipped(
                    "waiting for this shop's rate limit",
                    retry_at=timezone.now() + timedelta(seconds=wait + random.uniform(0, interval)),
                    requeue=True,
                )
            time.sleep(wait)
            waited += wait
            wait = backend.turn(key, spacing)  # only the holders of a slot compete for the turn
        yield


def store_push_back(*, store: Store, seconds: float) -> None:
    """The shop asked us to slow down (429/503 Retry-After): no request to it before then."""
    if settings.FETCH_PACING_ENABLED:
        pacing.limiter().push(pacing.store_key(store), max(seconds, 1.0))


# --- Circuit breaker -----------------------------------------------------------------------

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


def circuit_record(*, store: Store, failed: bool) -> str:
    """Count a success or failure for the store; returns the circuit state afterwards.

    Success closes the circuit (no write when it already is). A failure while half-open,
    or the CIRCUIT_FAILURE_THRESHOLD-th in a row, opens it.
    """
    now = timezone.now()
    if not failed:
        if store.circuit_state != STATE.CLOSED or store.circuit_failures:
            Store.objects.filter(pk=store.pk).filter(
                ~Q(circuit_state=STATE.CLOSED) | Q(circuit_failures__gt=0)
            ).update(circuit_state=STATE.CLOSED, circuit_failures=0, circuit_opened_at=None)
        return STATE.CLOSED
    Store.objects.filter(pk=store.pk).update(circuit_failures=F("circuit_failures") + 1)
    row = Store.objects.filter(pk=store.pk).values("circuit_state", "circuit_failures").first() or {}
    state, failures = row.get("circuit_state", STATE.CLOSED), row.get("circuit_failures", 0)
    if state == STATE.HALF_OPEN or (state == STATE.CLOSED and failures >= settings.CIRCUIT_FAILURE_THRESHOLD):
        if Store.objects.filter(pk=store.pk, circuit_state=state).update(
            circuit_state=STATE.OPEN, circuit_opened_at=now
        ):
            log.warning("circuit opened", extra={"store_id": store.pk, "failures": failures})
            state = STATE.OPEN
    return state


def _counts_as_failure(exc: FetchError) -> bool | None:
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


# --- Back-off ------------------------------------------------------------------------------


def retry_delay(*, failures: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds until the next try after a transient failure.

    The shop's own Retry-After wins; otherwise exponential (base x 2^(n-1), capped) with
    jitter between half and all of it, so listings that failed together do not return
    together.
    """
    if retry_after is not None and retry_after > 0:
        return float(min(retry_after, settings.FETCH_RETRY_AFTER_MAX))
    exponent = max(failures, 1) - 1
    delay = min(settings.FETCH_BACKOFF_BASE * (2 ** min(exponent, 20)), settings.FETCH_BACKOFF_MAX)
    return delay * (rng or random).uniform(0.5, 1.0)


# --- The whole path --------------------------------------------------------------------------


@dataclass
class FetchPlan:
    robots: Protego | None
    interval: float


def listing_fetch(*, listing: Listing) -> FetchResult:
    """Fetch a listing's page politely. Raises CheckSkipped (not now) or FetchError.

    Safe to run twice: it reads and counts, and the only state it writes (robots cache,
    breaker counters, pacing) tolerates a repeat.
    """
    store = listing.store
    circuit_check(store=store)
    robots = None
    if robots_respected(store):
        if robots_stale(store=store):
            # robots.txt is a request to the shop like any other: it takes a turn of the pace.
            with store_slot(store=store, interval=store_interval(store=store, robots=None)):
                robots_refresh(store=store, url=listing.url)
        robots = robots_for_store(store=store, url=listing.url)
        if not robots.can_fetch(listing.url, _user_agent_token()):
            raise CheckSkipped(
                "the shop's robots.txt does not allow this page (an admin can override this per store)",
                retry_at=timezone.now() + timedelta(seconds=settings.ROBOTS_CACHE_SECONDS),
                listing_status=Listing.Status.BLOCKED,
            )
    interval = store_interval(store=store, robots=robots)
    with store_slot(store=store, interval=interval):
        try:
            if store.render_js:
                from .rendering import render_page

                page = render_page(listing.url)
            else:
                page = fetch_page(listing.url, etag=listing.etag, last_modified=listing.last_modified)
        except FetchError as exc:
            if exc.retry_after and exc.http_status in (429, 503):
                store_push_back(store=store, seconds=exc.retry_after)
            verdict = _counts_as_failure(exc)
            if verdict is not None:
                circuit_record(store=store, failed=verdict)
            raise
    circuit_record(store=store, failed=False)
    return page
