"""The Redis broker transport, with one Redis client per channel instead of one per operation.

kombu's Redis channel builds a new `redis.Redis` client for every publish, every message it
takes (the unacked index) and every acknowledgement. redis-py 8 makes each new client copy its
table of reply callbacks (a few hundred entries): about a tenth of a worker's CPU went there.
The client kept here is the same kind of object, on the channel's own connection pool; it takes
a connection from the pool for each command, so it is as safe across threads as the new ones.

config/celery.py makes `redis://` URLs use it (by name, so this module, and redis-py with it,
load only where a Redis connection is made).
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:  # the event loop's client: kombu keeps it already
            return super()._create_client(asynchronous=True)
        if self._sync_client is None:
            self._sync_client = super()._create_client()
        return self._sync_client


class Transport(kombu_redis.Transport):
    Channel = Channel

