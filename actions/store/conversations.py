"""Conversations in Rasa's SQL tracker store: find, delete and expire them (privacy).

Rasa's ``SQLTrackerStore`` keeps every event of every conversation in one
table, ``events`` (id, sender_id, type_name, timestamp, intent_name,
action_name, data). This module reads and deletes rows of that table only;
it never creates it, and it is described with its own ``MetaData`` so that
``create_schema`` of the answer database never touches it.

A deletion on request ("forget me") removes every trace of the conversation, so the
staff report could not count them: each one leaves a row in ``faqbot_erasures`` (the
day, at midnight UTC, and the channel prefix; nothing else), created on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.orm import Session

from actions.store.database import get_engine, session_scope

_tracker_metadata = MetaData()

# The columns Rasa 3.6 creates (rasa.core.tracker_store.SQLTrackerStore.SQLEvent).
EVENTS = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# One row per conversation deleted on request: when (day only) and on which channel.
ERASURES = Table(
    "faqbot_erasures",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("erased_at", Float, nullable=False, index=True),
    Column("channel", String(16), nullable=False),
)


def day_start(timestamp: float) -> float:
    """Midnight UTC of the day of ``timestamp`` (what an erasure record keeps of the time)."""
    return float(int(timestamp) // 86400 * 86400)


class ConversationStore(Protocol):
    """What the privacy features need from the tracker store."""

    def event_count(self, sender_id: str) -> int:
        """How many events are stored for ``sender_id`` (all sessions)."""

    def has_slot_value(self, sender_id: str, slot: str, value: str) -> bool:
        """Whether a ``slot`` event setting ``slot`` to ``value`` is stored for ``sender_id``."""

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every event of ``sender_id``; return how many were deleted."""

    def delete_inactive_before(self, timestamp: float) -> int:
        """Delete conversations whose latest event is older than ``timestamp``; return how many."""

    def record_erasure(self, channel: str, timestamp: float) -> None:
        """Count one conversation deleted on request (day and channel only)."""


class SqlConversationStore:
    """The tracker store's ``events`` table; the session (and its transaction) belongs to the caller."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def event_count(self, sender_id: str) -> int:
        return int(
            self._session.execute(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == sender_id)
            ).scalar_one()
        )

    def has_slot_value(self, sender_id: str, slot: str, value: str) -> bool:
        # Rasa stores the event as JSON text; the value is a random token, so a
        # substring test on the sender's slot events is exact enough and portable.
        rows = self._session.execute(
            select(EVENTS.c.data).where(
                EVENTS.c.sender_id == sender_id,
                EVENTS.c.type_name == "slot",
                EVENTS.c.data.contains(value, autoescape=True),
            )
        ).scalars()
        return any(_is_slot_event(data, slot, value) for data in rows)

    def delete_conversation(self, sender_id: str) -> int:
        result = self._session.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id))
        return int(result.rowcount or 0)

    def delete_inactive_before(self, timestamp: float) -> int:
        stale = (
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < timestamp)
        )
        senders = list(self._session.execute(stale).scalars())
        for start in range(0, len(senders), 500):
            batch = senders[start : start + 500]
            self._session.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(batch)))
        return len(senders)

    def record_erasure(self, channel: str, timestamp: float) -> None:
        ERASURES.create(self._session.connection(), checkfirst=True)
        self._session.execute(ERASURES.insert().values(erased_at=day_start(timestamp), channel=channel))


def _is_slot_event(data: str | None, slot: str, value: str) -> bool:
    import json

    try:
        event = json.loads(data or "")
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("name") == slot and event.get("value") == value


@contextmanager
def sql_conversation_store(url: str) -> Iterator[ConversationStore]:
    """One transaction on the tracker store at ``url``: committed on success, rolled back on error."""
    with session_scope(get_engine(url)) as session, session.begin():
        yield SqlConversationStore(session)


class InMemoryConversationStore:
    """A fake tracker store for unit tests: sender_id -> list of Rasa event dicts."""

    def __init__(self, conversations: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.conversations: dict[str, list[dict[str, Any]]] = {
            sender: list(events) for sender, events in (conversations or {}).items()
        }
        self.erasures: list[tuple[str, float]] = []

    def add(self, sender_id: str, events: Iterable[dict[str, Any]]) -> None:
        """Append events, as Rasa's save would."""
        self.conversations.setdefault(sender_id, []).extend(events)

    def event_count(self, sender_id: str) -> int:
        return len(self.conversations.get(sender_id, []))

    def has_slot_value(self, sender_id: str, slot: str, value: str) -> bool:
        return any(
            event.get("event") == "slot" and event.get("name") == slot and event.get("value") == value
            for event in self.conversations.get(sender_id, [])
        )

    def delete_conversation(self, sender_id: str) -> int:
        return len(self.conversations.pop(sender_id, []))

    def delete_inactive_before(self, timestamp: float) -> int:
        stale = [
            sender
            for sender, events in self.conversations.items()
            if max((float(e.get("timestamp") or 0.0) for e in events), default=0.0) < timestamp
        ]
        for sender in stale:
            del self.conversations[sender]
        return len(stale)

    def record_erasure(self, channel: str, timestamp: float) -> None:
        self.erasures.append((channel, day_start(timestamp)))
