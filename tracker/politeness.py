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
import fcntl
import hashlib
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from protego import Protego

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


# --- Pace and concurrency, shared by all workers --------------------------------------------
#
# The pace is a GCRA with no burst, granted only in the present: a turn is taken at the moment
# the request goes out, and the next one comes an interval later. A waiter never books a turn
# in the future, so one that wakes late pushes the next request back instead of crowding it:
# the shop sees at most its limit in a window of any length. The interval carries a small
# margin for the moments between the grant and the request reaching the shop.

PACE_MARGIN = 0.02  # aim this share under the store's limit


class _FileLimiter:
    """Works on one machine with no Redis: flock'd files in the data folder.

    A concurrency slot is an exclusive lock on one of N files; the kernel drops it when the
    holder dies, so a killed worker never keeps a slot.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def turn(self, key: str, interval: float) -> float:
        """Take the store's turn now: 0.0, or the seconds until the next turn (nothing taken)."""
        return self._pace(key, lambda tat, now: (tat - now, tat) if tat > now else (0.0, now + interval))

    def push(self, key: str, seconds: float) -> None:
        """No turn before `seconds` from now."""
        self._pace(key, lambda tat, now: (0.0, max(tat, now + seconds)))

    def _pace(self, key: str, step: Callable[[float, float], tuple[float, float]]) -> float:
        """Apply `step(tat, now) -> (wait, new tat)` to the key's next free moment, under its lock."""
        fd = os.open(self.folder / f"{key}.pace", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                tat = float(os.pread(fd, 64, 0).decode().strip() or 0)
            except ValueError:
                tat = 0.0
            wait, new_tat = step(tat, time.time())
            if new_tat != tat:
                _write(fd, new_tat)
            return wait
        finally:
            os.close(fd)  # closing releases the lock

    @contextlib.contextmanager
    def slot(self, key: str, limit: int, interval: float) -> Iterator[float | None]:
        """Hold one of `limit` concurrency slots and try for a turn: yields None when every slot
        is taken, else what `turn` returns (the slot is held either way)."""
        for index in range(max(limit, 1)):
            fd = os.open(self.folder / f"{key}.slot{index}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            try:
                yield self.turn(key, interval)
            finally:
                os.close(fd)  # closing releases the lock
            return
        yield None


def _write(fd: int, value: float) -> None:
    # Fixed width, so no truncate (a slow call on some filesystems) is needed.
    os.pwrite(fd, f"{value:24.6f}".encode(), 0)


_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: the store's slots (token -> expiry) and its pace (its next free moment); ARGV[1]: the
# interval. Returns the wait ('0': the turn is ours).
_TURN_LUA = (
    _NOW_LUA
    + """
local tat = tonumber(redis.call('GET', KEYS[2]) or '0')
if tat > now then return tostring(tat - now) end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[2], string.format('%.6f', now + interval), 'EX', math.ceil(interval + 3600))
return '0'
"""
)

# A slot and a turn in one round trip. ARGV: interval, limit, slot ttl, token. '-1': no slot.
_SLOT_LUA = _TURN_LUA.replace(
    _NOW_LUA,
    _NOW_LUA
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return '-1' end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
""",
)

_PUSH_LUA = (
    _NOW_LUA
    + """
local push = tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now + push)
redis.call('SET', KEYS[2], string.format('%.6f', tat), 'EX', math.ceil(tat - now + 3600))
return '0'
"""
)


class _RedisLimiter:
    """Shared by workers on every machine. A slot held by a dead worker expires on its own."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._turn = self.client.register_script(_TURN_LUA)
        self._slot = self.client.register_script(_SLOT_LUA)
        self._push = self.client.register_script(_PUSH_LUA)

    @staticmethod
    def _keys(key: str) -> list[str]:
        # One hash tag, so a store's two keys live on one node of a cluster.
        return [f"pt:{{{key}}}:slots", f"pt:{{{key}}}:pace"]

    def turn(self, key: str, interval: float) -> float:
        return float(self._turn(keys=self._keys(key), args=[interval]))

    def push(self, key: str, seconds: float) -> None:
        self._push(keys=self._keys(key), args=[seconds])

    @contextlib.contextmanager
    def slot(self, key: str, limit: int, interval: float) -> Iterator[float | None]:
        token = uuid.uuid4().hex
        slots, pace = self._keys(key)
        ttl = settings.FETCH_DEADLINE + settings.FETCH_CONNECT_TIMEOUT + 30
        wait = float(self._slot(keys=[slots, pace], args=[interval, max(limit, 1), ttl, token]))
        if wait < 0:
            yield None
            return
        try:
            yield wait
        finally:
            self.client.zrem(slots, token)


_limiter: _FileLimiter | _RedisLimiter | None = None
_limiter_config: tuple | None = None


def limiter() -> _FileLimiter | _RedisLimiter:
    """Redis when REDIS_URL is set, else file locks under DATA_DIR (one machine)."""
    global _limiter, _limiter_config
    config = (settings.REDIS_URL, str(settings.DATA_DIR), os.getpid())
    if _limiter is None or _limiter_config != config:
        if settings.REDIS_URL:
            _limiter = _RedisLimiter(settings.REDIS_URL)
        else:
            _limiter = _FileLimiter(Path(settings.DATA_DIR) / "politeness")
        _limiter_config = config
    return _limiter


@lru_cache(maxsize=8)
def _database_hash(ident: str) -> str:
    return hashlib.sha1(ident.encode()).hexdigest()[:10]


def _namespace() -> str:
    """Pace and slots belong to one database: a test database never shares a real one's."""
    db = settings.DATABASES["default"]
    return _database_hash(f"{db.get('ENGINE')}|{db.get('HOST', '')}|{db.get('PORT', '')}|{db.get('NAME')}")


def _key(store: Store) -> str:
    return f"{_namespace()}-store{store.pk}"


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
    backend = limiter()
    key = _key(store)
    spacing = interval * (1 + PACE_MARGIN)
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
        limiter().push(_key(store), max(seconds, 1.0))


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
