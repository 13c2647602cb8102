"""Real databases: a SQLite file always; PostgreSQL on 127.0.0.1:5432 when it is running."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from actions.store.database import build_engine

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> str | None:
    """None if reachable, else the reason."""
    try:
        engine = build_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any driver/network error means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database, dropped afterwards."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    name = f"faqbot_test_{uuid.uuid4().hex[:10]}"
    admin = build_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path: Path) -> Iterator[Engine]:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'faq.db'}"
        engine = build_engine(url)
        yield engine
        engine.dispose()
    else:
        url = request.getfixturevalue("postgres_url")
        engine = build_engine(url)
        yield engine
        engine.dispose()
