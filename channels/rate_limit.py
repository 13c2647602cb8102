"""How fast one visitor may send messages: token buckets per connection and per conversation.

The proxy's request limit (deploy/nginx.conf ``limit_req``) counts HTTP requests;
a socket.io WebSocket is one request however many messages it carries, and each
message costs a turn of NLU and the action server. So the widget's channel
counts messages itself (channels/socketio.py):

- per connection (a socket lives in one process: in memory), so one socket
  cannot flood by naming many conversations;
- per conversation (every tab of a visitor, over any replica): in memory, and
  in Redis when ``REDIS_URL`` is set (channels.base.SharedRedis), so replicas
  share the count. When Redis does not answer, the process's own buckets decide.

A bucket holds ``burst`` messages and refills at ``per_minute``; a message
finding it empty is refused: the visitor gets :data:`TOO_FAST` and the message
is not processed. Defaults (WEBCHAT_MESSAGES_BURST=10,
WEBCHAT_MESSAGES_PER_MINUTE=30) are far above what a person types or clicks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import redis

from channels.deliveries import SharedRedis

logger = logging.getLogger(__name__)

TOO_FAST = "You're sending messages too fast. Please wait a moment, then send your message again."
DEFAULT_BURST = 10
DEFAULT_PER_MINUTE = 30
BUCKETS_REMEMBERED = 100_000
RATE_REDIS_TIMEOUT_SECONDS = 0.5

# One bucket in Redis: a hash {tokens, at}, refilled with Redis' own clock (replicas'
# clocks may differ), expiring once it would be full again anyway.
TAKE_TOKEN = """
redis.replicate_commands()
local burst = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_second)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / per_second) + 1)
return allowed
"""


@dataclass
class Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """Token buckets in this process's memory, one per key.

    A bucket left alone long enough to be full again is forgotten (a new one
    starts full), and at most ``size`` are kept (the least recently used go).
    """

    def __init__(
        self,
        burst: int,
        per_minute: float,
        size: int = BUCKETS_REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = max(1, burst)
        self.per_second = max(per_minute, 0.001) / 60
        self.size = size
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()  # least recently used first

    def take(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        now = self._clock()
        refill_seconds = self.burst / self.per_second
        while self._buckets:
            oldest_key, oldest = next(iter(self._buckets.items()))
            if now - oldest.at < refill_seconds and len(self._buckets) < self.size:
                break
            del self._buckets[oldest_key]
        bucket = self._buckets.pop(key, None) or Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        self._buckets[key] = bucket
        return allowed

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)


class MessageRate:
    """The message limits of the widget's channel (see the module's docstring)."""

    def __init__(
        self,
        burst: int = DEFAULT_BURST,
        per_minute: float = DEFAULT_PER_MINUTE,
        redis_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connections = TokenBuckets(burst, per_minute, clock=clock)
        self.conversations = TokenBuckets(burst, per_minute, clock=clock)
        self._redis = SharedRedis(redis_url, RATE_REDIS_TIMEOUT_SECONDS)
        self._key_prefix = self._redis.key_prefix + ":rate:"
        self._redis_failing = False

    def connection_allowed(self, connection: str) -> bool:
        """One more message on the connection ``connection`` (a socket.io sid)?"""
        return self.connections.take(connection)

    def connection_closed(self, connection: str) -> None:
        self.connections.forget(connection)

    async def conversation_allowed(self, conversation: str) -> bool:
        """One more message in ``conversation`` (counted over every replica with Redis)?"""
        if not self._redis.url:
            return self.conversations.take(conversation)
        buckets = self.conversations
        try:
            allowed = await self._redis.client().eval(
                TAKE_TOKEN, 1, self._key_prefix + conversation, buckets.burst, repr(buckets.per_second)
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
            if not self._redis_failing:  # one line per outage, not one per message
                logger.warning(
                    "message rate: Redis did not answer (%s); each process counts on its own",
                    type(error).__name__,
                )
            self._redis_failing = True
            return buckets.take(conversation)
        if self._redis_failing:
            logger.info("message rate: Redis answers again")
            self._redis_failing = False
        return bool(allowed)

    async def aclose(self) -> None:
        await self._redis.aclose()
