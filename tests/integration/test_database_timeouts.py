"""Issue 19, finding 6: a dropped or hung database connection must not freeze a worker.

Against the real PostgreSQL of this machine: the tracker store of the Rasa server
(server_plugins.tracker_store) and every engine of the action server
(actions.store.database.build_engine) connect with timeouts, probe a dead connection
and cancel a statement that hangs.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from actions.store.database import POSTGRES_CONNECTION_SETTINGS, SQLITE_BUSY_TIMEOUT, build_engine
from server_plugins.tracker_store import ResilientSQLTrackerStore


@pytest.fixture
def tracker_store(postgres_url, monkeypatch) -> Iterator[ResilientSQLTrackerStore]:
    monkeypatch.setenv("TRACKER_STORE_URL", postgres_url)
    monkeypatch.setenv("TRACKER_STORE_RETRY_SECONDS", "2")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "1")
    store = ResilientSQLTrackerStore(domain=Domain.empty())
    yield store
    store.engine.dispose()


@pytest.fixture
def answer_engine(postgres_url, monkeypatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "1")
    engine = build_engine(postgres_url)
    yield engine
    engine.dispose()


def save_one_turn(store: ResilientSQLTrackerStore, sender: str) -> None:
    async def turn() -> None:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    asyncio.run(turn())


def dsn_parameters(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection  # type: ignore[attr-defined]
        return dict(raw.get_dsn_parameters())


@pytest.mark.parametrize("which", ["tracker store", "action server"])
def test_postgres_connections_have_connect_keepalive_tcp_and_statement_timeouts(
    which, tracker_store, answer_engine
):
    engine = tracker_store.engine if which == "tracker store" else answer_engine
    parameters = dsn_parameters(engine)
    for name, value in POSTGRES_CONNECTION_SETTINGS.items():
        assert parameters[name] == str(value), name
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1s"
    assert engine.pool._pre_ping  # type: ignore[attr-defined]


def test_the_tracker_store_recovers_from_connections_the_server_dropped(tracker_store, postgres_url):
    """Every pooled connection is terminated (a database restart or failover): the next
    turn's read opens a new one instead of failing on a dead one."""
    sender = f"dropped-{uuid.uuid4().hex[:6]}"
    save_one_turn(tracker_store, sender)
    with tracker_store.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = build_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    started = time.monotonic()
    tracker = asyncio.run(tracker_store.retrieve(sender))
    assert tracker is not None and [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello"]
    assert time.monotonic() - started < 1.0  # pre-ping, not the retry loop


def blocked_call(function: Any, seconds: float) -> tuple[bool, BaseException | None, float]:
    """Run ``function`` in a thread; (finished within ``seconds``, its error, time taken)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            function()
        except BaseException as error:  # reported to the test
            outcome["error"] = error
        outcome["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), outcome.get("error"), outcome.get("took", seconds)


def test_a_hung_tracker_query_is_cut_by_the_statement_timeout(tracker_store):
    sender = f"hung-{uuid.uuid4().hex[:6]}"
    save_one_turn(tracker_store, sender)
    with _locked(tracker_store):
        finished, error, took = blocked_call(lambda: asyncio.run(tracker_store.retrieve(sender)), 20)
    assert finished, "the read waited for the lock with no end"
    assert isinstance(error, OperationalError) and "statement timeout" in str(error)
    assert took < 10  # 1 s per statement, retried for 2 s


def test_a_hung_action_server_query_is_cut_by_the_statement_timeout(answer_engine):
    with answer_engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id integer)"))
    with _locked(answer_engine):

        def query() -> None:
            with answer_engine.connect() as connection:
                connection.execute(text("SELECT count(*) FROM events"))

        finished, error, took = blocked_call(query, 20)
    assert finished, "the query waited for the lock with no end"
    assert isinstance(error, OperationalError) and "statement timeout" in str(error)
    assert took < 5


class _locked:
    """Hold ACCESS EXCLUSIVE on ``events`` from another connection of the same database."""

    def __init__(self, target: ResilientSQLTrackerStore | Engine) -> None:
        engine = target.engine if isinstance(target, ResilientSQLTrackerStore) else target
        self.url = engine.url

    def __enter__(self) -> None:
        self.locker = build_engine(self.url.render_as_string(hide_password=False), statement_timeout=60)
        self.connection = self.locker.connect()
        self.transaction = self.connection.begin()
        self.connection.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))

    def __exit__(self, *_exc: object) -> None:
        self.transaction.rollback()
        self.connection.close()
        self.locker.dispose()


def test_sqlite_waits_for_a_writer_a_bounded_time(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    with engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection  # type: ignore[attr-defined]
        busy = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    assert busy == int(SQLITE_BUSY_TIMEOUT * 1000)
    engine.dispose()
