"""The pace and concurrency limits of each store, shared by every worker: Redis when
configured, file locks in the data folder otherwise. `politeness.store_slot` applies them to
a request.

The pace is a GCRA with no burst, granted only in the present: a turn is taken at the moment
the request goes out, and the next one comes an interval later. A waiter never books a turn
in the future, so one that wakes late pushes the next request back instead of crowding it:
the shop sees at most its limit in a window of any length. The interval carries a small
margin for the moments between the grant and the request reaching the shop.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from ..models import Store

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


def store_key(store: Store) -> str:
    return f"{_namespace()}-store{store.pk}"
