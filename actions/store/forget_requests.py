"""Deletion requests ("forget me"), kept in the answer database until they are done.

A request is recorded before the visitor is told anything, so a failed deletion
or a restart of the action server cannot lose it: the eraser
(``actions.safety.eraser.ConversationEraser``) retries pending requests until they are
done, and picks them up again when the action server starts and when
``purge-conversations`` runs. No message text is stored; ``last_error`` is the
type of the error only. Times are UTC, without a time zone (SQLite has none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.settings import get_settings
from actions.store.database import get_engine, session_scope
from actions.store.models import ForgetRequestRow


def utc_now() -> datetime:
    """Now, in UTC without a time zone (as the table stores it)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class ForgetRequest:
    """One deletion request."""

    id: int
    conversation_id: str
    marker: str
    requested_at: datetime
    attempts: int = 0
    last_error: str | None = None
    done_at: datetime | None = None


class ForgetRequestStore(Protocol):
    """Where deletion requests are kept."""

    def record(self, conversation_id: str, marker: str, now: datetime) -> ForgetRequest:
        """Store a new pending request and return it."""

    def get(self, request_id: int) -> ForgetRequest | None:
        """The request with ``request_id``, if it exists."""

    def pending(self) -> list[ForgetRequest]:
        """Requests not done yet, oldest first."""

    def record_failure(self, request_id: int, error: str) -> None:
        """Count one failed attempt and keep the error's type."""

    def mark_done(self, request_id: int, now: datetime) -> None:
        """Count the successful attempt and set ``done_at`` (once)."""

    def delete_done_before(self, cutoff: datetime) -> int:
        """Forget requests done before ``cutoff``; return how many."""


def _request(row: ForgetRequestRow) -> ForgetRequest:
    return ForgetRequest(
        id=row.id,
        conversation_id=row.conversation_id,
        marker=row.marker,
        requested_at=row.requested_at,
        attempts=row.attempts,
        last_error=row.last_error,
        done_at=row.done_at,
    )


class SqlForgetRequestStore:
    """The ``forget_requests`` table; the session (and its transaction) belongs to the caller."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, conversation_id: str, marker: str, now: datetime) -> ForgetRequest:
        row = ForgetRequestRow(conversation_id=conversation_id, marker=marker, requested_at=now, attempts=0)
        self._session.add(row)
        self._session.flush()
        return _request(row)

    def get(self, request_id: int) -> ForgetRequest | None:
        row = self._session.get(ForgetRequestRow, request_id)
        return _request(row) if row is not None else None

    def pending(self) -> list[ForgetRequest]:
        rows = self._session.execute(
            select(ForgetRequestRow)
            .where(ForgetRequestRow.done_at.is_(None))
            .order_by(ForgetRequestRow.requested_at, ForgetRequestRow.id)
        ).scalars()
        return [_request(row) for row in rows]

    def record_failure(self, request_id: int, error: str) -> None:
        self._session.execute(
            update(ForgetRequestRow)
            .where(ForgetRequestRow.id == request_id)
            .values(attempts=ForgetRequestRow.attempts + 1, last_error=error[:200])
        )

    def mark_done(self, request_id: int, now: datetime) -> None:
        self._session.execute(
            update(ForgetRequestRow)
            .where(ForgetRequestRow.id == request_id, ForgetRequestRow.done_at.is_(None))
            .values(attempts=ForgetRequestRow.attempts + 1, done_at=now)
        )

    def delete_done_before(self, cutoff: datetime) -> int:
        result = self._session.execute(delete(ForgetRequestRow).where(ForgetRequestRow.done_at < cutoff))
        return int(result.rowcount or 0)


@lru_cache(maxsize=8)
def _table_ready(engine: Engine) -> bool:
    # A database set up before this table existed gets it on first use (init-db and
    # load-content create it with the others).
    ForgetRequestRow.__table__.create(engine, checkfirst=True)
    return True


@contextmanager
def sql_forget_request_store(url: str | None = None) -> Iterator[ForgetRequestStore]:
    """One transaction on the answer database (default ``DATABASE_URL``)."""
    engine = get_engine(url or get_settings().database_url)
    _table_ready(engine)
    with session_scope(engine) as session, session.begin():
        yield SqlForgetRequestStore(session)


class InMemoryForgetRequestStore:
    """A fake for unit tests."""

    def __init__(self) -> None:
        self.requests: dict[int, ForgetRequest] = {}

    def record(self, conversation_id: str, marker: str, now: datetime) -> ForgetRequest:
        request = ForgetRequest(len(self.requests) + 1, conversation_id, marker, now)
        self.requests[request.id] = request
        return request

    def get(self, request_id: int) -> ForgetRequest | None:
        return self.requests.get(request_id)

    def pending(self) -> list[ForgetRequest]:
        return [r for r in self.requests.values() if r.done_at is None]

    def record_failure(self, request_id: int, error: str) -> None:
        request = self.requests[request_id]
        self.requests[request_id] = replace(request, attempts=request.attempts + 1, last_error=error)

    def mark_done(self, request_id: int, now: datetime) -> None:
        request = self.requests[request_id]
        if request.done_at is None:
            self.requests[request_id] = replace(request, attempts=request.attempts + 1, done_at=now)

    def delete_done_before(self, cutoff: datetime) -> int:
        done = [key for key, r in self.requests.items() if r.done_at is not None and r.done_at < cutoff]
        for key in done:
            del self.requests[key]
        return len(done)
