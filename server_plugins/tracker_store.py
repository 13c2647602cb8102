"""SQL tracker store configured from the environment, resilient to short outages.

- ``TRACKER_STORE_URL`` (any SQLAlchemy URL; default: the SQLite file
  ``var/tracker.db``) so production can point at PostgreSQL without editing
  endpoints.yml (Rasa's own ``${VAR}`` expansion fails when a variable is unset).
- Reads and writes retry for ``TRACKER_STORE_RETRY_SECONDS`` (default 15 s), so a
  PostgreSQL restart mid-conversation loses nothing; pooled connections are
  checked before use, and PostgreSQL connections have connect, keepalive, TCP and
  statement timeouts (a dropped connection or a hung query cannot freeze a worker).
- At start-up it refuses a set-up that would fail silently
  (``actions.settings.check_deployment``: several replicas on SQLite, placeholders).
- If the store is still down after that, Rasa's FailSafeTrackerStore would keep
  the turn in memory silently: :data:`STORE_HEALTH` records the failure so the
  guarded channels can tell the user, and it is logged at ERROR.
- A SQLite file runs in WAL mode; the constructor also installs ``speedups``.
- A conversation's next turn reads no events when nothing changed since its last save:
  each worker keeps the trackers it saved last (:data:`RECENT_TRACKERS`) and hands one
  back, once, if the conversation's last stored row is still the one it saved (one
  indexed ``max(id)`` query; another worker or replica, a deletion or a purge changes it)
  and the tracker has no events its save did not store. Only a tracker read from the store
  whose save kept the latest session whole is kept (not one rebuilt from a request, not
  one whose save started a new session). Rasa rebuilt the tracker from every event row of
  the session on every turn: the cost grew with the conversation.
- Fewer queries per turn, same rows (profiling: the count query Rasa runs before
  every save was 8% of a Rasa worker's CPU under load). A turn reads the tracker
  and saves it while holding the conversation's lock, so the number of stored
  events the read returned is still the number stored when the turn saves: it is
  kept on the tracker object and the save skips the count. Anything else (a
  tracker built from a request, a second save after a new session started) still
  counts, as Rasa does. Reads select the event data with one cached Core
  statement instead of building an ORM query each time. These re-implement private
  ``SQLTrackerStore`` methods, so they apply only while Rasa's versions are the
  source they were written against (:data:`OVERRIDDEN_FINGERPRINTS`,
  ``server_plugins/rasa_guard.py``); otherwise Rasa's own methods run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.settings import check_deployment, tracker_store_retry_seconds, tracker_store_url
from actions.store.database import engine_options
from server_plugins import rasa_guard, speedups

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Attribute set on a tracker read from the store: how many of its events are stored
# (Rasa's "events since the latest session start" count, known without a query).
STORED_EVENTS_ATTRIBUTE = "_faqbot_stored_events"
# Attribute set on a tracker read from the store (and kept up to date by its saves): the id
# of the conversation's last stored event row.
LAST_ROW_ATTRIBUTE = "_faqbot_last_row"
# How many recently saved conversations each worker keeps in memory for their next turn.
RECENT_TRACKERS = 256

# rasa_guard.source_fingerprint of the SQLTrackerStore methods re-implemented below
# (``save`` by ``_save_once``, ``_event_query`` by ``_event_data_statements``), Rasa 3.6.21.
OVERRIDDEN_FINGERPRINTS = {
    "_retrieve": "c8adbf6f4b61ddd1",
    "_additional_events": "d22f99eb863acb07",
    "save": "57165e46eab3de08",
    "_event_query": "cd44f7901b860bfd",
}


def own_overrides_apply() -> bool:
    """Whether Rasa's SQLTrackerStore is still the code our overrides re-implement."""
    return all(
        [
            rasa_guard.unchanged(
                f"Tracker store override of SQLTrackerStore.{name}",
                getattr(SQLTrackerStore, name),
                fingerprint,
            )
            for name, fingerprint in OVERRIDDEN_FINGERPRINTS.items()
        ]
    )


@dataclass
class StoreHealth:
    """Monotonic time of the last failed tracker-store operation (0 if none)."""

    last_failure: float = 0.0

    def failed_since(self, moment: float) -> bool:
        """True if a read or write failed after ``moment``."""
        return self.last_failure >= moment


STORE_HEALTH = StoreHealth()


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for ``event``."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _sqlite_write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """WAL: a commit appends to the log instead of rewriting the database file, and the
    action server (forget me) can read while Rasa writes. synchronous=NORMAL is still
    safe against a crash of the process; production uses PostgreSQL anyway."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose URL comes from the environment and that retries."""

    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        check_deployment("rasa")
        # Rasa passes the endpoint's url/host/... (unset here): the URL comes from the environment.
        for key in ("host", "port", "db", "dialect", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        url = make_url(kwargs.pop("url", None) or tracker_store_url())
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
            **kwargs,
        )
        # Rasa's engine has no pre-ping and no timeouts: after a database restart every
        # pooled connection is dead, and a connection dropped without a reset would hold
        # a worker forever. Rebuild it with the project's engine options
        # (actions.store.database.engine_options: pre-ping, connect/keepalive/TCP and
        # statement timeouts for PostgreSQL, a busy timeout for SQLite).
        engine: Engine = self.engine  # type: ignore[has-type]  # set by SQLTrackerStore.__init__
        engine_url = engine.url
        engine.dispose()
        engine_kwargs = create_engine_kwargs(engine_url)
        options = engine_options(engine_url)
        connect_args = {**engine_kwargs.pop("connect_args", {})}
        for key, value in options.pop("connect_args").items():
            # Rasa's own options (POSTGRESQL_SCHEMA's search_path) come first.
            connect_args[key] = (
                f"{connect_args[key]} {value}" if key == "options" and key in connect_args else value
            )
        if sqlite:
            # SQLAlchemy 1.4 opens and closes a SQLite file connection for every session
            # (NullPool): each turn then paid for opening the file and, in WAL mode, a
            # checkpoint on close. Keep connections; Rasa uses them from its event loop.
            engine_kwargs.update(poolclass=sa.pool.QueuePool)
        self.engine = sa.create_engine(engine_url, connect_args=connect_args, **options, **engine_kwargs)
        if sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.retry_seconds = tracker_store_retry_seconds()
        self._insert_event = self.SQLEvent.__table__.insert()  # one statement, built once
        events = self.SQLEvent.__table__
        self._last_row = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        self._recent: OrderedDict[str, DialogueStateTracker] = OrderedDict()
        self.own_overrides = own_overrides_apply()
        speedups.install()

    async def _with_retries(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.2
        while True:
            try:
                return await operation()
            except (OperationalError, DBAPIError) as error:
                if time.monotonic() + delay > deadline:
                    STORE_HEALTH.last_failure = time.monotonic()
                    logger.error("tracker store %s failed after retries: %s", what, type(error).__name__)
                    raise
                logger.warning("tracker store %s failed (%s); retrying", what, type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _event_data_statements(self) -> tuple[sa.sql.Select, sa.sql.Select]:
        """Rasa's `_event_query` as two Core statements (built once, compiled once):
        the events of the latest session, and all events; both in id order."""
        statements = getattr(self, "_event_statements", None)
        if statements is None:
            events = self.SQLEvent.__table__
            sender = sa.bindparam("sender_id")
            session_start = (
                sa.select(sa.func.max(events.c.timestamp))
                .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            every_event = sa.select(events.c.data, events.c.id).where(events.c.sender_id == sender)
            latest_session = every_event.where(
                sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
            )
            statements = (latest_session.order_by(events.c.id), every_event.order_by(events.c.id))
            self._event_statements = statements
        return statements

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if not self.own_overrides:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if not fetch_events_from_all_sessions:
            kept = self._unchanged_since_saved(sender_id)
            if kept is not None:
                return kept
        latest_session, every_event = self._event_data_statements()
        statement = every_event if fetch_events_from_all_sessions else latest_session
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).all()
        if not (self.domain and rows):
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data, _ in rows], self.domain.slots
        )
        if not fetch_events_from_all_sessions:
            tracker.__dict__[STORED_EVENTS_ATTRIBUTE] = len(rows)
            tracker.__dict__[LAST_ROW_ATTRIBUTE] = rows[-1][1]
        return tracker

    def _unchanged_since_saved(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker this worker saved last for ``sender_id`` (handed out once), if the
        conversation's last stored row is still the one that save wrote and the tracker
        holds exactly the stored events."""
        tracker = self._recent.pop(sender_id, None)
        if tracker is None or tracker.__dict__.get(STORED_EVENTS_ATTRIBUTE) != len(tracker.events):
            return None
        with self.session_scope() as session:
            stored_last_row = session.execute(self._last_row, {"sender_id": sender_id}).scalar()
        return tracker if stored_last_row == tracker.__dict__.get(LAST_ROW_ATTRIBUTE) else None

    def _remember_saved(self, tracker: DialogueStateTracker, last_row: Any) -> None:
        """Keep a tracker read from the store for the conversation's next turn, when its
        save left the stored latest session equal to its events."""
        self._recent.pop(tracker.sender_id, None)
        if last_row is None or tracker.__dict__.get(STORED_EVENTS_ATTRIBUTE) != len(tracker.events):
            tracker.__dict__.pop(LAST_ROW_ATTRIBUTE, None)
            return
        tracker.__dict__[LAST_ROW_ATTRIBUTE] = last_row
        self._recent[tracker.sender_id] = tracker
        while len(self._recent) > RECENT_TRACKERS:
            self._recent.popitem(last=False)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        if not self.own_overrides:
            return super()._additional_events(session, tracker)
        stored = tracker.__dict__.get(STORED_EVENTS_ATTRIBUTE)
        if stored is None:
            stored = self._event_query(
                session, tracker.sender_id, fetch_events_from_all_sessions=False
            ).count()
        new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
        if any(isinstance(event, SessionStarted) for event in new_events):
            # The latest session now starts inside these events: count next time.
            tracker.__dict__.pop(STORED_EVENTS_ATTRIBUTE, None)
        else:
            # What the latest session will hold once this save commits (a failed
            # save forgets it, below).
            tracker.__dict__[STORED_EVENTS_ATTRIBUTE] = stored + len(new_events)
        return iter(new_events)

    async def _save_once(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``SQLTrackerStore.save``, with a Core INSERT per new event instead of
        ORM objects: the same rows, without the unit of work (ORM flush was 6-8% of a
        worker's busy time). One statement per event keeps their ids in event order."""
        if not self.own_overrides:
            await super().save(tracker)
            return
        last_row = tracker.__dict__.get(LAST_ROW_ATTRIBUTE)
        try:
            await self.stream_events(tracker)
            with self.session_scope() as session:
                for event in self._additional_events(session, tracker):
                    inserted = session.execute(self._insert_event, _event_row(tracker.sender_id, event))
                    if last_row is not None:
                        last_row = inserted.inserted_primary_key[0]
                session.commit()
        except BaseException:
            tracker.__dict__.pop(STORED_EVENTS_ATTRIBUTE, None)
            tracker.__dict__.pop(LAST_ROW_ATTRIBUTE, None)
            self._recent.pop(tracker.sender_id, None)
            raise
        self._remember_saved(tracker, last_row)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._with_retries(lambda: self._save_once(tracker), "save")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._with_retries(
            lambda: super(ResilientSQLTrackerStore, self).retrieve(sender_id), "retrieve"
        )

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._with_retries(
            lambda: super(ResilientSQLTrackerStore, self).retrieve_full_tracker(conversation_id),
            "retrieve",
        )
