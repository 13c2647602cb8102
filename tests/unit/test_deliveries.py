"""channels.deliveries.SeenDeliveries: the connectors' memory of platform deliveries
already handled (issue 19), without a Redis server."""

from __future__ import annotations

import asyncio

import redis

from channels.base import MESSENGER, SLACK, TELEGRAM, SeenDeliveries


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def firsts(deliveries: SeenDeliveries, *keys: tuple[str, object]) -> list[bool]:
    async def run() -> list[bool]:
        try:
            return [await deliveries.first_delivery(namespace, key) for namespace, key in keys]
        finally:
            await deliveries.aclose()

    return asyncio.run(run())


def test_a_repeated_id_is_not_a_first_delivery_and_namespaces_are_apart():
    deliveries = SeenDeliveries(redis_url="")
    assert firsts(deliveries, (TELEGRAM, 7), (TELEGRAM, 7), (TELEGRAM, "7"), (SLACK, 7), (TELEGRAM, 8)) == [
        True,
        False,
        False,  # Telegram's 7 as a number or as text is one update
        True,
        True,
    ]


def test_a_delivery_without_an_id_is_always_new():
    deliveries = SeenDeliveries(redis_url="")
    assert (
        firsts(deliveries, (MESSENGER, None), (MESSENGER, None), (MESSENGER, ""), (MESSENGER, ""))
        == [True] * 4
    )


def test_ids_are_forgotten_after_ten_minutes():
    clock = Clock()
    deliveries = SeenDeliveries(redis_url="", clock=clock)
    assert deliveries.seconds == 600
    assert deliveries.remember("tg:1")
    clock.now += 599
    assert not deliveries.remember("tg:1")  # still within 10 minutes of its first delivery
    assert deliveries.remember("tg:2")
    clock.now += 1
    assert deliveries.remember("tg:1")  # 10 minutes after: new again
    assert not deliveries.remember("tg:2")


def test_at_most_ten_thousand_ids_are_kept_the_oldest_forgotten_first():
    assert SeenDeliveries(redis_url="").size == 10_000
    deliveries = SeenDeliveries(size=3, redis_url="")
    for key in ("a", "b", "c", "d"):
        assert deliveries.remember(key)
    assert len(deliveries._seen) == 3
    assert deliveries.remember("a")  # pushed out by "d"
    assert not deliveries.remember("c") and not deliveries.remember("d")


def test_redis_url_is_read_by_redis_py(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "rediss://user:example%40pw@redis.internal:6380/2")

    async def client_settings() -> tuple[type, dict]:
        deliveries = SeenDeliveries()
        try:
            pool = deliveries._client().connection_pool  # nothing connects until a command
            return pool.connection_class, pool.connection_kwargs
        finally:
            await deliveries.aclose()

    connection_class, settings = asyncio.run(client_settings())
    assert issubclass(connection_class, redis.asyncio.SSLConnection)
    assert {key: settings[key] for key in ("host", "port", "username", "password", "db")} == {
        "host": "redis.internal",
        "port": 6380,
        "username": "user",
        "password": "example@pw",
        "db": 2,
    }

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379")

    async def default_db() -> int:
        deliveries = SeenDeliveries()
        try:
            return int(deliveries._client().connection_pool.connection_kwargs["db"])
        finally:
            await deliveries.aclose()

    assert asyncio.run(default_db()) == 1  # as the lock store, when the URL names none
