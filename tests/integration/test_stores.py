"""Our Rasa-server stores against the real Redis and PostgreSQL servers on this machine."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import ActionExecuted, UserUttered

from server_plugins.lock_store import AtomicRedisLockStore, EnvLockStore, redis_lock_store
from server_plugins.tracker_store import ResilientSQLTrackerStore

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {type(error).__name__}")
    return REDIS_URL


def test_env_lock_store_is_in_memory_without_redis_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(EnvLockStore().backend, InMemoryLockStore)


def test_env_lock_store_refuses_several_workers_without_redis(monkeypatch):
    from server_plugins.lock_store import LockStoreConfigError

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(
        LockStoreConfigError, match="SANIC_WORKERS=2 needs a shared lock store: set REDIS_URL"
    ):
        EnvLockStore()


def test_env_lock_store_allows_several_workers_with_redis(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert isinstance(EnvLockStore().backend, AtomicRedisLockStore)


def test_env_lock_store_uses_atomic_redis_when_configured(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(EnvLockStore().backend, AtomicRedisLockStore)


def test_concurrent_tickets_from_two_replicas_are_unique(redis_url):
    """Two store instances (two replicas) issuing tickets at once never share one."""
    replicas = [redis_lock_store(redis_url), redis_lock_store(redis_url)]
    conversation = f"race-{uuid.uuid4().hex}"
    tickets: list[int] = []
    guard = threading.Lock()

    def issue(store) -> None:
        for _ in range(25):
            ticket = store.issue_ticket(conversation, 60)
            with guard:
                tickets.append(ticket)

    threads = [threading.Thread(target=issue, args=(store,)) for store in replicas for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(100))
    replicas[0].delete_lock(conversation)


def test_lock_is_released_after_cleanup(redis_url):
    store = redis_lock_store(redis_url)
    conversation = f"cleanup-{uuid.uuid4().hex}"

    async def one_turn() -> None:
        async with store.lock(conversation, 60):
            assert store.get_lock(conversation) is not None

    asyncio.run(one_turn())
    assert store.get_lock(conversation) is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tracker_store_url_from_environment(backend, tmp_path, monkeypatch, request):
    from rasa.shared.core.domain import Domain

    url = (
        f"sqlite:///{tmp_path / 'tracker.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    store = ResilientSQLTrackerStore(domain=Domain.empty())
    sender = f"user-{uuid.uuid4().hex[:6]}"

    async def round_trip():
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        return await store.retrieve(sender)

    loaded = asyncio.run(round_trip())
    assert loaded is not None
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)] == ["hello"]
    assert str(store.engine.url).startswith(url.split("://")[0])
    store.engine.dispose()


def test_sqlite_tracker_store_writes_ahead_to_a_log(tmp_path, monkeypatch):
    from rasa.shared.core.domain import Domain
    from sqlalchemy import text

    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    store = ResilientSQLTrackerStore(domain=Domain.empty())
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.engine.dispose()
