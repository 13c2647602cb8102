"""channels.rate_limit.MessageRate on a real Redis: replicas share the message count
of a conversation (issue 19, finding 3), refilled with Redis' own clock."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from channels.rate_limit import MessageRate

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url(monkeypatch) -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must be reachable in CI at {REDIS_URL}: {type(error).__name__}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {type(error).__name__}")
    monkeypatch.setenv("REDIS_LOCK_PREFIX", f"rate{uuid.uuid4().hex[:8]}")
    return REDIS_URL


def test_two_replicas_share_a_conversations_bucket_and_it_refills(redis_url):
    import redis

    replicas = [MessageRate(burst=4, per_minute=120, redis_url=redis_url) for _ in range(2)]
    conversation = f"web:{uuid.uuid4().hex}"

    async def send(count: int) -> list[bool]:
        try:
            return [await replicas[number % 2].conversation_allowed(conversation) for number in range(count)]
        finally:
            for replica in replicas:
                await replica.aclose()

    assert asyncio.run(send(6)) == [True] * 4 + [False] * 2  # one bucket for both replicas
    client = redis.Redis.from_url(redis_url)
    key = f"{os.environ['REDIS_LOCK_PREFIX']}:rate:{conversation}"
    try:
        assert 0 < client.ttl(key) <= 3  # forgotten once it would be full again (4 at 2 a second)
        time.sleep(1.1)  # 2 a second: two more
        assert asyncio.run(send(3)) == [True, True, False]
    finally:
        client.delete(key)
        client.close()
