"""Being a good guest at every shop: robots.txt (robots.py), pace, concurrency and a circuit
breaker (circuit.py).

`listing_fetch` is what a check calls instead of fetching directly. It

1. skips the store while its circuit breaker is open (one probe when it goes half-open),
2. reads robots.txt (protego, cached on the Store row and in memory; fetching it takes a turn
   of the store's pace) and honours it unless an admin switched `respect_robots` off for the
   store; `Crawl-delay`/`Request-rate` slow us down,
3. takes a concurrency slot, then the store's pacing turn, both shared by every worker (Redis
   when configured, file locks in the data folder otherwise), waiting a little at most, never
   long; no window of any length sees more requests than the store's limit,
4. fetches (through the browser when the store renders JavaScript; through the store's proxy,
   or the default one, when set: `proxies.py`), and
5. tells the breaker how it went. A 429/503 with Retry-After also pushes the store's pace.

Anything that means "not now" raises `CheckSkipped` with the time to try again; the check
moves `next_check_at` instead of sleeping.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from protego import Protego

from ..models import Listing, Store
from . import pacing
from .circuit import circuit_check, circuit_record, counts_as_failure
from .client import fetch_page
from .proxies import store_proxy
from .results import CheckSkipped, FetchError, FetchResult
from .robots import robots_for_store, robots_refresh, robots_respected, robots_stale, user_agent_token

log = logging.getLogger(__name__)


def store_interval(*, store: Store, robots: Protego | None) -> float:
    """Seconds between two requests to this store: its own limit or robots.txt's, the slower."""
    interval = 60.0 / max(store.rate_limit_per_minute or 1, 1)
    if robots is not None:
        agent = user_agent_token()
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


def listing_fetch(*, listing: Listing, render: bool = False) -> FetchResult:
    """Fetch a listing's page politely (in the browser when the store renders, or `render`:
    the one try of a script shell). Raises CheckSkipped (not now) or FetchError.

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
        if not robots.can_fetch(listing.url, user_agent_token()):
            raise CheckSkipped(
                "the shop's robots.txt does not allow this page (an admin can override this per store)",
                retry_at=timezone.now() + timedelta(seconds=settings.ROBOTS_CACHE_SECONDS),
                listing_status=Listing.Status.BLOCKED,
            )
    interval = store_interval(store=store, robots=robots)
    with store_slot(store=store, interval=interval):
        try:
            if store.render_js or listing.render_js or render:
                from .rendering import render_page

                page = render_page(listing.url, proxy=store_proxy(store))
            else:
                page = fetch_page(
                    listing.url, etag=listing.etag, last_modified=listing.last_modified, proxy=store_proxy(store)
                )
        except FetchError as exc:
            if exc.retry_after and exc.http_status in (429, 503):
                store_push_back(store=store, seconds=exc.retry_after)
            verdict = counts_as_failure(exc)
            if verdict is not None:
                circuit_record(store=store, failed=verdict, listing_id=listing.pk)
            raise
    circuit_record(store=store, failed=False)
    return page
