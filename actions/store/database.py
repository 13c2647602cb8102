"""Engine and session creation: lazy and cached, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from actions.settings import get_settings
from actions.store.models import Base


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def display_url(url: str) -> str:
    """``url`` fit to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def build_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder and FK checks."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # Actions run their queries in worker threads (see actions.base).
        connect_args["check_same_thread"] = False
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        connect_args["connect_timeout"] = 5
    engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
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
