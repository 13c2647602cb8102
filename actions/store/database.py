"""Engine and session creation: lazy and cached, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from actions.settings import database_statement_timeout, get_settings
from actions.store.models import Base


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def display_url(url: str) -> str:
    """``url`` fit to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


# A connection that dies without a reset (a NAT or a failover dropping it) would leave a
# query waiting forever: the kernel probes an idle connection after 30 s, gives up after
# 3 unanswered probes 10 s apart, and unacknowledged data fails after 30 s.
POSTGRES_CONNECTION_SETTINGS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}
# Seconds SQLite waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT = 10.0


def engine_options(url: str | URL, statement_timeout: float | None = None) -> dict[str, Any]:
    """``create_engine`` keyword arguments every engine of the project uses (the answer
    database, the tracker store of the Rasa server and of forget-me/purge): pooled
    connections checked before use, timeouts on connecting, on a dead connection and on
    each PostgreSQL statement (``statement_timeout`` seconds, default from the settings),
    a busy timeout for SQLite."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # Actions run their queries in worker threads (see actions.base).
        connect_args.update(check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT)
    elif backend == "postgresql" and parsed.get_driver_name() == "psycopg2":
        seconds = database_statement_timeout() if statement_timeout is None else statement_timeout
        connect_args.update(
            POSTGRES_CONNECTION_SETTINGS, options=f"-c statement_timeout={round(seconds * 1000)}"
        )
    return {"pool_pre_ping": True, "connect_args": connect_args}


def build_engine(url: str, statement_timeout: float | None = None) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder and FK checks."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, **engine_options(url, statement_timeout))
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: ``DATABASE_URL``)."""
    return build_engine(url or get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One session for one unit of work; the caller commits explicitly."""
    with Session(engine or get_engine(), future=True) as session:
        yield session


def create_schema(engine: Engine | None = None) -> None:
    """Create every table that does not exist yet."""
    Base.metadata.create_all(engine or get_engine())
