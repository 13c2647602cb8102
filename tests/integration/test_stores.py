"""Our Rasa-server stores against the real Redis and PostgreSQL servers on this machine."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from typing import Any

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import ActionExecuted, UserUttered

from server_plugins.lock_store import AtomicRedisLockStore, EnvLockStore, redis_lock_store
from server_plugins.tracker_store import ResilientSQLTrackerStore

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def run_turns(store, turns) -> Any:
    """asyncio.run(turns), then close the store's asyncio Redis client of that loop,
    as a Sanic worker does when it stops."""

    async def run_then_close() -> Any:
        try:
            return await turns
        finally:
            await store.aclose()

    return asyncio.run(run_then_close())


ORDERED_TURNS = ["first in", "first out", "second in", "second out"]


def two_overlapping_turns(store, conversation: str, wait: float, hold: float) -> list[str]:
    """A second turn of the conversation starts while the first holds the lock;
    returns the order in which they entered and left it."""
    steps: list[str] = []

    async def turn(name: str, seconds: float) -> None:
        async with store.lock(conversation, 60, wait_time_in_seconds=wait):
            steps.append(f"{name} in")
            await asyncio.sleep(seconds)
            steps.append(f"{name} out")

    async def both() -> None:
        first = asyncio.create_task(turn("first", hold))
        await asyncio.sleep(hold / 4)
        await turn("second", 0)
        await first

    run_turns(store, both())
    return steps


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
    from actions.settings import DeploymentConfigError

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FAQBOT_REPLICAS", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(
        DeploymentConfigError,
        match="SANIC_WORKERS=2, FAQBOT_REPLICAS=1 needs a shared lock store: set REDIS_URL",
    ):
        EnvLockStore()


@pytest.mark.parametrize("production", [False, True])
def test_several_replicas_without_redis_and_a_shared_tracker_store_refuse_to_start(
    monkeypatch, tmp_path, production
):
    """Issue 19: two compose replicas without REDIS_URL / TRACKER_STORE_URL ran on in-memory
    locks and a SQLite file each. In production an undeclared replica count counts as several."""
    from actions.settings import DeploymentConfigError

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    if production:
        monkeypatch.setenv("FAQBOT_ENV", "production")
        monkeypatch.delenv("FAQBOT_REPLICAS", raising=False)
    else:
        monkeypatch.setenv("FAQBOT_REPLICAS", "2")
    for store in (EnvLockStore, ResilientSQLTrackerStore):
        with pytest.raises(DeploymentConfigError) as refused:
            store()
        assert "needs a shared lock store: set REDIS_URL" in str(refused.value)
        assert "needs a shared tracker store: set TRACKER_STORE_URL to PostgreSQL" in str(refused.value)


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
    assert len(set(tickets)) == 100
    lock = replicas[0].get_lock(conversation)
    assert [ticket.number for ticket in lock.tickets] == sorted(tickets)  # queued in the order issued
    replicas[0].delete_lock(conversation)


def test_lock_is_released_after_cleanup(redis_url):
    store = redis_lock_store(redis_url)
    conversation = f"cleanup-{uuid.uuid4().hex}"

    async def one_turn() -> None:
        async with store.lock(conversation, 60):
            assert store.get_lock(conversation) is not None

    run_turns(store, one_turn())
    assert store.get_lock(conversation) is None


def test_a_turns_lock_does_not_block_the_event_loop(redis_url, monkeypatch):
    """Taking and returning the ticket go through the asyncio client: the synchronous
    scripts and the extra read of Rasa's lock() are never used on that path."""
    store = redis_lock_store(redis_url)
    conversation = f"async-{uuid.uuid4().hex}"

    def synchronous(*_args, **_kwargs):
        raise AssertionError("a synchronous Redis call on a turn's path")

    async def turn_and_ticker() -> list[str]:
        seen: list[str] = []
        async with store.lock(conversation, 60) as lock:
            assert lock.conversation_id == conversation and len(lock.tickets) == 1
            seen.append("locked" if store.red.exists(store.key_prefix + conversation) else "missing")
        return seen

    monkeypatch.setattr(store, "_issue_script", synchronous)
    monkeypatch.setattr(store, "_cleanup_script", synchronous)
    monkeypatch.setattr(store, "get_lock", synchronous)
    assert run_turns(store, turn_and_ticker()) == ["locked"]
    # A second event loop (a new asyncio.run) gets its own client.
    assert run_turns(store, turn_and_ticker()) == ["locked"]
    assert not store.red.exists(store.key_prefix + conversation)


@pytest.mark.parametrize("slow_step", ["_issue_async", "_cleanup_async"])
def test_a_turn_cancelled_during_a_redis_step_leaves_no_ticket(redis_url, monkeypatch, slow_step):
    """Sanic cancels a turn when the visitor disconnects. A cancellation that arrives
    while a ticket is being taken or returned must not leave the ticket behind (it would
    hold the conversation's next message back until it expired)."""
    store = redis_lock_store(redis_url)
    conversation = f"cancel-{uuid.uuid4().hex}"
    step = getattr(store, slow_step)
    in_step = asyncio.Event()

    async def slow(*args):
        # The dangerous moments: a ticket taken but its reply not yet read; a ticket
        # about to be returned.
        in_step.set()
        if slow_step == "_issue_async":
            taken = await step(*args)
            await asyncio.sleep(0.2)
            return taken
        await asyncio.sleep(0.2)
        return await step(*args)

    monkeypatch.setattr(store, slow_step, slow)
    entered: list[str] = []

    async def turn() -> None:
        async with store.lock(conversation, 60):
            entered.append("in")

    async def cancel_during_step() -> str:
        task = asyncio.create_task(turn())
        await in_step.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "finished"

    assert run_turns(store, cancel_during_step()) == "cancelled"
    assert entered == ([] if slow_step == "_issue_async" else ["in"])
    assert store.get_lock(conversation) is None  # the ticket was returned


def test_env_lock_store_uses_the_backends_own_lock(monkeypatch, redis_url):
    """EnvLockStore hands lock() to the Redis store (Rasa's generic lock() would read the
    lock again after taking the ticket, and block the loop on each step)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    store = EnvLockStore()
    conversation = f"env-{uuid.uuid4().hex}"
    reads: list[str] = []
    original = store.backend.get_lock

    def counted_get_lock(conversation_id: str):
        reads.append(conversation_id)
        return original(conversation_id)

    monkeypatch.setattr(store.backend, "get_lock", counted_get_lock)

    async def one_turn() -> None:
        async with store.lock(conversation, 60):
            pass

    run_turns(store, one_turn())
    assert reads == []
    assert original(conversation) is None


def test_env_lock_store_in_memory_lock_still_orders_turns(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = EnvLockStore()
    assert two_overlapping_turns(store, "memory", wait=0.01, hold=0.05) == ORDERED_TURNS
    assert store.get_lock("memory") is None


def test_scripted_lock_is_stored_in_rasas_format(redis_url):
    """Rasa's own RedisLockStore reads what the scripts write, and the scripts read Rasa's."""
    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import RedisLockStore

    store = redis_lock_store(redis_url)
    conversation = f"format-{uuid.uuid4().hex}"
    first, second = store.issue_ticket(conversation, 60), store.issue_ticket(conversation, 60)
    assert second > first
    rasas = RedisLockStore(host="127.0.0.1", port=6379, db=int(redis_url.rsplit("/", 1)[1]))
    rasas.key_prefix = store.key_prefix
    lock = rasas.get_lock(conversation)
    assert lock is not None and lock.conversation_id == conversation
    assert [t.number for t in lock.tickets] == [first, second] and lock.now_serving == first
    assert all(55 < t.expires - time.time() <= 60 for t in lock.tickets)
    # A lock saved by Rasa's code (numbered from 0, above the counter here): the script
    # continues above its highest number.
    rasas.delete_lock(conversation)
    written = TicketLock(conversation)
    for _ in range(3):
        written.issue_ticket(60)
    store.red.set(store.counter_key, 0)
    rasas.save_lock(written)
    assert store.issue_ticket(conversation, 60) == 3
    store.cleanup(conversation, 0)
    assert [t.number for t in store.get_lock(conversation).tickets] == [1, 2, 3]
    for ticket in (1, 2, 3):
        store.cleanup(conversation, ticket)
    assert store.get_lock(conversation) is None


def test_expired_tickets_are_dropped_when_a_ticket_is_issued(redis_url):
    store = redis_lock_store(redis_url)
    conversation = f"expiry-{uuid.uuid4().hex}"
    expired = store.issue_ticket(conversation, -1)  # expired at once: its holder died mid-turn
    ticket = store.issue_ticket(conversation, 60)
    assert ticket > expired
    assert [t.number for t in store.get_lock(conversation).tickets] == [ticket]
    store.cleanup(conversation, ticket)
    assert store.get_lock(conversation) is None


def test_a_turn_that_overran_its_ticket_cannot_free_the_next_holders_lock(redis_url):
    """Issue 19, finding 6: once every ticket had expired, numbers restarted at 0, so a turn
    that outlived its ticket returned ticket 0 -- the next holder's -- on its way out, and a
    third message ran while the second still held the conversation."""
    store = redis_lock_store(redis_url)
    conversation = f"overrun-{uuid.uuid4().hex}"
    steps: list[str] = []

    async def turn(name: str, lifetime: float, hold: float) -> None:
        async with store.lock(conversation, lifetime, wait_time_in_seconds=0.02):
            steps.append(f"{name} in")
            await asyncio.sleep(hold)
            steps.append(f"{name} out")

    async def scenario() -> None:
        slow = asyncio.create_task(turn("slow", 0.3, 0.6))  # outlives its 0.3 s ticket
        await asyncio.sleep(0.4)
        second = asyncio.create_task(turn("second", 60, 0.6))  # served: slow's ticket expired
        await asyncio.sleep(0.35)  # slow has left (at 0.6 s) and returned its ticket
        await turn("third", 60, 0)
        await asyncio.gather(slow, second)

    run_turns(store, scenario())
    assert steps.index("slow out") < steps.index("second out") < steps.index("third in"), steps
    assert store.get_lock(conversation) is None


def test_ticket_numbers_never_repeat_once_every_ticket_has_expired(redis_url):
    store = redis_lock_store(redis_url)
    conversation = f"repeat-{uuid.uuid4().hex}"
    numbers = []
    for _ in range(3):
        numbers.append(store.issue_ticket(conversation, -1))  # each expired before the next
    assert numbers == sorted(set(numbers))


def test_a_replica_whose_clock_runs_ahead_still_waits_for_the_holder(redis_url, monkeypatch):
    """Expiry is Redis's clock: a replica an hour ahead once dropped the holder's ticket as
    expired and ran a second turn of the conversation at the same time."""
    holder, ahead = redis_lock_store(redis_url), redis_lock_store(redis_url)
    conversation = f"clock-{uuid.uuid4().hex}"
    steps: list[str] = []
    real_time = time.time

    async def hold() -> None:
        async with holder.lock(conversation, 60, wait_time_in_seconds=0.02):
            steps.append("first in")
            await asyncio.sleep(0.3)
            steps.append("first out")

    async def scenario() -> None:
        first = asyncio.create_task(hold())
        await asyncio.sleep(0.1)
        monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
        try:
            async with ahead.lock(conversation, 60, wait_time_in_seconds=0.02):
                steps.append("second in")
        finally:
            await ahead.aclose()
        await first

    run_turns(holder, scenario())
    assert steps == ["first in", "first out", "second in"]


def test_every_lock_key_expires_by_itself(redis_url):
    """A lock whose holders all died no longer lingers without a TTL."""
    store = redis_lock_store(redis_url)
    conversation = f"ttl-{uuid.uuid4().hex}"
    key = store.key_prefix + conversation
    first = store.issue_ticket(conversation, 30)
    assert 30_000 < store.red.pttl(key) <= 31_000
    second = store.issue_ticket(conversation, 60)
    assert 60_000 < store.red.pttl(key) <= 61_000
    store.cleanup(conversation, second)  # the longest ticket left: the TTL follows the first one
    assert 25_000 < store.red.pttl(key) <= 31_000
    store.cleanup(conversation, first)
    assert store.red.exists(key) == 0
    assert store.red.ttl(store.counter_key) == -1  # the counter itself never expires


def test_a_ticket_that_expired_while_waiting_raises_rasas_lock_error(redis_url):
    from rasa.core.lock_store import LockError

    store = redis_lock_store(redis_url)
    conversation = f"waited-{uuid.uuid4().hex}"
    holder = store.issue_ticket(conversation, 60)

    async def wait_too_long() -> None:
        async with store.lock(conversation, 0.1, wait_time_in_seconds=0.2):
            pass

    with pytest.raises(LockError):
        run_turns(store, wait_too_long())
    store.cleanup(conversation, holder)
    assert store.get_lock(conversation) is None


def test_second_message_of_a_conversation_waits_for_the_first(redis_url):
    store = redis_lock_store(redis_url)
    conversation = f"order-{uuid.uuid4().hex}"
    assert two_overlapping_turns(store, conversation, wait=0.02, hold=0.2) == ORDERED_TURNS
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


# ---------------------------------------------------------------- fewer queries, same rows
@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store(request, tmp_path, monkeypatch):
    from rasa.shared.core.domain import Domain

    url = (
        f"sqlite:///{tmp_path / 'tracker.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    monkeypatch.setenv("TRACKER_STORE_RETRY_SECONDS", "5")
    store = ResilientSQLTrackerStore(domain=Domain.empty())
    yield store
    store.engine.dispose()


def stored_rows(store: ResilientSQLTrackerStore, sender: str) -> list[tuple[str, str | None]]:
    """(type, text or action name) of every stored event of ``sender``, in id order."""
    import json

    from sqlalchemy import select

    table = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.type_name, table.c.data).where(table.c.sender_id == sender).order_by(table.c.id)
        ).all()
    return [
        (type_name, json.loads(data).get("text") or json.loads(data).get("name")) for type_name, data in rows
    ]


def user(text: str) -> UserUttered:
    return UserUttered(text, {"name": "greet", "confidence": 1.0})


def session_start_events() -> list:
    from rasa.shared.core.events import SessionStarted

    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def test_a_turn_saves_only_its_new_events_without_counting_them(tracker_store, monkeypatch):
    sender = f"turns-{uuid.uuid4().hex[:8]}"

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)  # new: saves action_listen
        for event in [*session_start_events(), user("hello"), ActionExecuted("utter_greet")]:
            tracker.update(event)
        await tracker_store.save(tracker)
        for text in ("what is acupuncture", "thanks"):
            tracker = await tracker_store.retrieve(sender)
            assert tracker is not None
            # The read knows how many events are stored: no count query before the save.
            monkeypatch.setattr(tracker_store, "_event_query", _no_query)
            tracker.update(user(text))
            tracker.update(ActionExecuted("action_listen"))
            await tracker_store.save(tracker)
            monkeypatch.undo()

    asyncio.run(conversation())
    assert stored_rows(tracker_store, sender) == [
        ("action", "action_listen"),
        ("action", "action_session_start"),
        ("session_started", None),
        ("action", "action_listen"),
        ("user", "hello"),
        ("action", "utter_greet"),
        ("user", "what is acupuncture"),
        ("action", "action_listen"),
        ("user", "thanks"),
        ("action", "action_listen"),
    ]


def _no_query(*_args, **_kwargs):
    raise AssertionError("the save counted stored events although the read knew their number")


def test_saving_one_tracker_twice_and_across_a_new_session_stores_each_event_once(tracker_store):
    sender = f"sessions-{uuid.uuid4().hex[:8]}"

    async def conversation() -> list:
        tracker = await tracker_store.get_or_create_tracker(sender)
        for event in [*session_start_events(), user("first session")]:
            tracker.update(event)
        await tracker_store.save(tracker)
        tracker = await tracker_store.retrieve(sender)
        tracker.update(ActionExecuted("action_listen"))
        await tracker_store.save(tracker)
        # The same object saved again: the count carried over from the previous save.
        tracker.update(user("again"))
        await tracker_store.save(tracker)
        # A later turn after the session expired: Rasa starts a new one on the tracker it read.
        tracker = await tracker_store.retrieve(sender)
        for event in [*session_start_events(), user("second session")]:
            tracker.update(event)
        await tracker_store.save(tracker)
        tracker = await tracker_store.retrieve(sender)
        tracker.update(ActionExecuted("action_listen"))
        await tracker_store.save(tracker)
        latest = await tracker_store.retrieve(sender)
        return list(latest.events)

    latest_session = asyncio.run(conversation())
    assert stored_rows(tracker_store, sender) == [
        ("action", "action_listen"),
        *[("action", "action_session_start"), ("session_started", None), ("action", "action_listen")],
        ("user", "first session"),
        ("action", "action_listen"),
        ("user", "again"),
        *[("action", "action_session_start"), ("session_started", None), ("action", "action_listen")],
        ("user", "second session"),
        ("action", "action_listen"),
    ]
    assert [e.text for e in latest_session if isinstance(e, UserUttered)] == ["second session"]


def test_a_tracker_not_read_from_the_store_is_counted_before_saving(tracker_store):
    """E.g. PUT /conversations/<id>/tracker builds the tracker from the request."""
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = f"replace-{uuid.uuid4().hex[:8]}"

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)
        tracker.update(user("hello"))
        await tracker_store.save(tracker)
        rebuilt = DialogueStateTracker.from_dict(sender, [e.as_dict() for e in tracker.events], [])
        rebuilt.update(ActionExecuted("utter_greet"))
        await tracker_store.save(rebuilt)

    asyncio.run(conversation())
    assert stored_rows(tracker_store, sender) == [
        ("action", "action_listen"),
        ("user", "hello"),
        ("action", "utter_greet"),
    ]


def test_a_failed_save_is_retried_and_stores_each_event_once(tracker_store, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    sender = f"retry-{uuid.uuid4().hex[:8]}"
    commit = Session.commit
    failures = {"left": 1}

    def flaky_commit(self):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("COMMIT", {}, Exception("connection lost"))
        return commit(self)

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)
        tracker = await tracker_store.retrieve(sender)
        tracker.update(user("hello"))
        tracker.update(ActionExecuted("action_listen"))
        monkeypatch.setattr(Session, "commit", flaky_commit)
        await tracker_store.save(tracker)
        monkeypatch.setattr(Session, "commit", commit)

    asyncio.run(conversation())
    assert failures["left"] == 0
    assert stored_rows(tracker_store, sender) == [
        ("action", "action_listen"),
        ("user", "hello"),
        ("action", "action_listen"),
    ]


def test_saved_rows_are_the_rows_rasas_own_store_writes(tracker_store):
    """Our Core INSERTs write exactly what Rasa's SQLTrackerStore.save writes (every column but id)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy import select

    events = [
        *session_start_events(),
        UserUttered("what is dry needling", {"name": "faq", "confidence": 0.93}, parse_data={"text": "x"}),
        ActionExecuted("action_answer_faq", policy="RulePolicy", confidence=1.0),
        BotUttered("Dry needling is ...", {"buttons": None}),
        ActionExecuted("action_listen"),
    ]
    ours, theirs = f"ours-{uuid.uuid4().hex[:8]}", f"rasa-{uuid.uuid4().hex[:8]}"
    asyncio.run(tracker_store.save(DialogueStateTracker.from_events(ours, events)))
    asyncio.run(SQLTrackerStore.save(tracker_store, DialogueStateTracker.from_events(theirs, events)))
    table = tracker_store.SQLEvent.__table__
    columns = [c for c in table.c if c.name not in ("id", "sender_id")]

    def rows(sender: str) -> list[tuple]:
        with tracker_store.engine.connect() as connection:
            query = select(*columns).where(table.c.sender_id == sender).order_by(table.c.id)
            return [tuple(row) for row in connection.execute(query)]

    assert len(rows(ours)) == len(events)
    assert rows(ours) == rows(theirs)


def test_an_unreachable_redis_raises_rasas_lock_error():
    """Rasa turns a LockError into a clear failure of the turn; any Redis error must become one."""
    from rasa.core.lock_store import LockError

    from scripts.servers import free_port
    from server_plugins.lock_store import AtomicRedisLockStore

    store = AtomicRedisLockStore(host="127.0.0.1", port=free_port(), db=1, socket_timeout=1)
    with pytest.raises(LockError, match="Error while acquiring lock"):
        store.issue_ticket("nobody", 60)

    async def one_turn() -> None:
        async with store.lock("nobody", 60):
            pass

    with pytest.raises(LockError, match="Error while acquiring lock"):
        run_turns(store, one_turn())


def test_two_replicas_share_the_memory_of_platform_deliveries(redis_url, monkeypatch):
    """A platform's retry that reaches another replica is not answered again (issue 19):
    with REDIS_URL set, the delivery ids are recorded in Redis with a 10-minute expiry."""
    import redis

    from channels.base import TELEGRAM, SeenDeliveries

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_LOCK_PREFIX", f"deliveries{uuid.uuid4().hex[:8]}")
    replicas = [SeenDeliveries(), SeenDeliveries()]
    update = uuid.uuid4().int % 10**9

    async def deliver() -> list[bool]:
        try:
            return [
                await replicas[0].first_delivery(TELEGRAM, update),
                await replicas[1].first_delivery(TELEGRAM, update),  # the retry, on the other replica
                await replicas[1].first_delivery(TELEGRAM, update + 1),
            ]
        finally:
            for replica in replicas:
                await replica.aclose()

    assert asyncio.run(deliver()) == [True, False, True]
    client = redis.Redis.from_url(redis_url)
    key = f"{os.environ['REDIS_LOCK_PREFIX']}:delivery:tg:{update}"
    try:
        assert 590 <= client.ttl(key) <= 600
        client.delete(key, f"{os.environ['REDIS_LOCK_PREFIX']}:delivery:tg:{update + 1}")
    finally:
        client.close()


# ---------------------------------------------------------------- the tracker saved last
def as_dicts(tracker) -> list[dict]:
    return [event.as_dict() for event in tracker.events]


def test_a_conversations_next_turn_gets_the_tracker_saved_last_when_nothing_changed(tracker_store):
    sender = f"recent-{uuid.uuid4().hex[:8]}"
    other_worker = ResilientSQLTrackerStore(domain=tracker_store.domain)

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)
        for text in ("hello", "what is acupuncture", "thanks"):
            tracker = await tracker_store.retrieve(sender)
            tracker.update(user(text))
            tracker.update(ActionExecuted("action_listen"))
            await tracker_store.save(tracker)
            again = await tracker_store.retrieve(sender)
            # The same object, with exactly what a read of the stored rows gives.
            assert again is tracker
            assert as_dicts(again) == as_dicts(await other_worker.retrieve(sender))
            await tracker_store.save(again)  # nothing new: still the latest
        # Handed out once: a second read in a row reads the rows.
        first = await tracker_store.retrieve(sender)
        second = await tracker_store.retrieve(sender)
        assert first is not second and as_dicts(first) == as_dicts(second)

    try:
        asyncio.run(conversation())
    finally:
        other_worker.engine.dispose()


def test_another_workers_save_or_a_deletion_makes_the_next_turn_read_the_rows(tracker_store):
    sender = f"shared-{uuid.uuid4().hex[:8]}"
    other_worker = ResilientSQLTrackerStore(domain=tracker_store.domain)

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)
        tracker.update(user("hello"))
        await tracker_store.save(tracker)
        # Another worker or replica answers the next turn.
        elsewhere = await other_worker.retrieve(sender)
        elsewhere.update(user("asked elsewhere"))
        await other_worker.save(elsewhere)
        here = await tracker_store.retrieve(sender)
        assert here is not tracker
        assert [e.text for e in here.events if isinstance(e, UserUttered)] == ["hello", "asked elsewhere"]
        here.update(user("back here"))
        await tracker_store.save(here)
        # "Forget me" or the purge deletes the conversation's rows.
        table = tracker_store.SQLEvent.__table__
        with tracker_store.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.sender_id == sender))
        assert await tracker_store.retrieve(sender) is None

    try:
        asyncio.run(conversation())
    finally:
        other_worker.engine.dispose()


def test_a_tracker_that_differs_from_what_its_save_stored_is_not_handed_out(tracker_store):
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = f"differs-{uuid.uuid4().hex[:8]}"

    async def conversation() -> None:
        tracker = await tracker_store.get_or_create_tracker(sender)
        tracker.update(user("first session"))
        await tracker_store.save(tracker)
        # Events added after the save (a turn that failed before saving).
        tracker.update(user("never saved"))
        fresh = await tracker_store.retrieve(sender)
        assert fresh is not tracker
        assert [e.text for e in fresh.events if isinstance(e, UserUttered)] == ["first session"]
        # A save that starts a new session: the next read has only the new session.
        for event in [*session_start_events(), user("second session")]:
            fresh.update(event)
        await tracker_store.save(fresh)
        latest = await tracker_store.retrieve(sender)
        assert latest is not fresh
        assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["second session"]
        # A tracker built from a request (PUT /conversations/<id>/tracker) is never kept.
        rebuilt = DialogueStateTracker.from_dict(sender, as_dicts(latest), [])
        rebuilt.update(ActionExecuted("utter_greet"))
        await tracker_store.save(rebuilt)
        assert await tracker_store.retrieve(sender) is not rebuilt

    asyncio.run(conversation())
