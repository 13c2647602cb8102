"""What the Rasa processes share through Redis beyond the lock store
(:class:`SharedRedis`), and the connectors' memory of platform deliveries
already handled (:class:`SeenDeliveries`), so a platform's retry is not
answered twice."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import redis.asyncio

logger = logging.getLogger(__name__)


class SharedRedis:
    """The Redis server that ``REDIS_URL`` names (``url`` is "" when it is unset),
    for what the Rasa processes must share beyond the lock store: the deliveries
    already handled, the message rate of a conversation.

    One asyncio client per event loop (a Sanic worker has one; tests start
    several), with short timeouts: a caller that gets a Redis error falls back
    to its process's own memory rather than holding a visitor back.
    """

    def __init__(self, redis_url: str | None = None, timeout: float = 1.0) -> None:
        url = os.environ.get("REDIS_URL", "") if redis_url is None else redis_url
        self.url = url.strip()
        self.key_prefix = os.environ.get("REDIS_LOCK_PREFIX", "faqbot")
        self.timeout = timeout
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis]
        self._clients = weakref.WeakKeyDictionary()

    def client(self) -> redis.asyncio.Redis:
        """The running loop's client (nothing connects until a command)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # redis-py reads the URL itself: rediss:// (TLS), user, %-escaped password, /db.
            client = redis.asyncio.from_url(
                self.url,
                db=1,  # when the URL names none, as the lock store
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's client, if one was made."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close(close_connection_pool=True)


DELIVERIES_REMEMBERED = 10_000
DELIVERY_MEMORY_SECONDS = 10 * 60
DELIVERY_REDIS_TIMEOUT_SECONDS = 1.0


class SeenDeliveries:
    """Which platform deliveries were already handled, so a retry is not answered twice.

    A platform sends an update again when our answer to it was slow or failed:
    Telegram and Messenger wait for the webhook's response, which comes after the
    turn; Slack retries after 3 s. Each connector asks :meth:`first_delivery` with
    the delivery's own id (Telegram ``update_id``, Slack ``event_id``, Messenger
    ``mid``) before it starts a turn; a repeat is acknowledged (200) and nothing
    else happens.

    Every process remembers the last 10,000 ids for 10 minutes (in memory, the
    oldest forgotten first; a repeat does not extend its time). With several
    replicas or Sanic workers a retry may reach another process, which has not
    seen the id: that needs a shared store.
    So when ``REDIS_URL`` is set (required with more than one process, see
    server_plugins/lock_store.py) each new id is also recorded there (``SET NX``
    with the same 10-minute expiry) and an id any process recorded counts as seen.
    When Redis does not answer, the process's own memory decides (a warning is
    logged) rather than holding the webhook back.

    An id is recorded when the delivery arrives, before its turn: a turn that
    fails is not run again on a retry (the visitor got an apology), nor, with
    Redis, one cut short by a restart (memory alone is lost with the process).
    """

    def __init__(
        self,
        size: int = DELIVERIES_REMEMBERED,
        seconds: float = DELIVERY_MEMORY_SECONDS,
        redis_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.seconds = seconds
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> first seen, oldest first
        self._redis = SharedRedis(redis_url, DELIVERY_REDIS_TIMEOUT_SECONDS)
        self._key_prefix = self._redis.key_prefix + ":delivery:"

    def remember(self, key: str) -> bool:
        """Record ``key`` in this process's memory; False if it was already there."""
        now = self._clock()
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.seconds:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True

    def _client(self) -> redis.asyncio.Redis:
        return self._redis.client()

    async def first_delivery(self, namespace: str, delivery_id: Any) -> bool:
        """True the first time the delivery ``delivery_id`` of a connector arrives,
        False when it was seen in the last 10 minutes. A delivery without an id is
        always new."""
        if delivery_id is None or str(delivery_id) == "":
            return True
        key = f"{namespace}:{delivery_id}"
        if not self.remember(key):
            return False
        if not self._redis.url:
            return True
        try:
            recorded = await self._client().set(
                self._key_prefix + key, "1", nx=True, ex=max(1, int(self.seconds))
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
            logger.warning(
                "%s: Redis did not answer (%s); retries are recognised by this process only",
                namespace,
                type(error).__name__,
            )
            return True
        return bool(recorded)

    async def aclose(self) -> None:
        """Close the running loop's Redis client, if one was made."""
        await self._redis.aclose()
