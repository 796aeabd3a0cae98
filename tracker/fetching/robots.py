"""robots.txt: fetched through the gate, cached on the Store row and in memory (protego).

RFC 9309: a missing robots.txt allows everything, an unreachable one keeps the last copy, and
without one the check is skipped (CheckSkipped) until it can be read.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from protego import Protego

from ..models import Store
from .client import safe_get
from .proxies import store_proxy
from .results import CheckSkipped, FetchError


def robots_respected(store: Store) -> bool:
    return bool(settings.FETCH_RESPECT_ROBOTS and store.respect_robots)


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
        result = safe_get(
            _robots_url(url), accept="text", max_bytes=settings.ROBOTS_MAX_BYTES, proxy=store_proxy(store)
        )
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


def user_agent_token() -> str:
    return settings.ROBOTS_USER_AGENT or settings.FETCH_USER_AGENT
