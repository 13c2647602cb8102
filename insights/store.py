"""Reading the tracker store for the report: only the window asked for, never past retention.

Rows come from Rasa's ``events`` table (described in ``actions.store.conversations``),
streamed in conversation order, oldest first. The retention limit is applied in the SQL
query itself, so a row older than the retention period is never read, whatever the dates
asked for. Sender ids are used only to tell conversations apart and to read their channel
prefix; they never leave this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, inspect, not_, select
from sqlalchemy.engine import Engine

from actions.store.conversations import ERASURES, EVENTS
from channels.namespaces import channel_of

# What the report reads; action_listen (half of all action rows) is never needed.
READ_TYPES = ("user", "bot", "action", "slot")
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class Window:
    """The period read: [start, end) in epoch seconds, and the days it covers (UTC)."""

    start: float
    end: float
    first_day: date
    last_day: date
    # True when the first day asked for was older than the retention period allows.
    clamped: bool


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def report_window(
    first_day: date | None, last_day: date | None, retention_days: int, now: float | None = None
) -> Window:
    """The days asked for (default: the whole retention period up to today), cut at retention."""
    now = time.time() if now is None else now
    today = datetime.fromtimestamp(now, timezone.utc).date()
    oldest_allowed = now - retention_days * 86400
    last = last_day or today
    first = first_day or datetime.fromtimestamp(oldest_allowed, timezone.utc).date()
    if first > last:
        raise ValueError(f"FROM ({first}) is after TO ({last})")
    start = _midnight(first)
    clamped = first_day is not None and start < oldest_allowed
    if start < oldest_allowed:
        start = oldest_allowed
        first = datetime.fromtimestamp(oldest_allowed, timezone.utc).date()
    end = min(_midnight(last + timedelta(days=1)), now + 1)
    return Window(start=start, end=end, first_day=first, last_day=last, clamped=clamped)


@dataclass(frozen=True)
class EventRow:
    """One stored event: its type, the indexed columns Rasa fills, and the JSON text."""

    type_name: str
    intent_name: str | None
    action_name: str | None
    data: str


def has_events(engine: Engine) -> bool:
    """Whether the tracker store has an ``events`` table yet (the bot creates it on first use)."""
    return inspect(engine).has_table(EVENTS.name)


def conversations(engine: Engine, window: Window) -> Iterator[tuple[str, list[EventRow]]]:
    """(channel, events in order) for every conversation with events in ``window``."""
    columns = EVENTS.c
    query = (
        select(columns.sender_id, columns.type_name, columns.intent_name, columns.action_name, columns.data)
        .where(
            columns.timestamp >= window.start,
            columns.timestamp < window.end,
            columns.type_name.in_(READ_TYPES),
            not_(and_(columns.type_name == "action", columns.action_name == "action_listen")),
        )
        .order_by(columns.sender_id, columns.id)
    )
    current: str | None = None
    events: list[EventRow] = []
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
        for sender_id, type_name, intent_name, action_name, data in result:
            if sender_id != current:
                if current is not None and events:
                    yield channel_of(current), events
                current, events = sender_id, []
            events.append(EventRow(type_name, intent_name, action_name, data or "{}"))
    if current is not None and events:
        yield channel_of(current), events


def erasures(engine: Engine, window: Window) -> dict[tuple[date, str], int]:
    """Conversations deleted on request ("forget me"), per (day, channel), within ``window``."""
    if not inspect(engine).has_table(ERASURES.name):
        return {}
    columns = ERASURES.c
    query = select(columns.erased_at, columns.channel).where(
        columns.erased_at >= window.start, columns.erased_at < window.end
    )
    counts: dict[tuple[date, str], int] = {}
    with engine.connect() as connection:
        for erased_at, channel in connection.execute(query):
            key = (datetime.fromtimestamp(erased_at, timezone.utc).date(), channel)
            counts[key] = counts.get(key, 0) + 1
    return counts
