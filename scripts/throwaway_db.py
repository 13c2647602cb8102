"""Throw-away PostgreSQL databases for tests and benchmarks: created on the server at
TEST_POSTGRES_URL (an admin URL; default the local trust-auth server), dropped after.

Shared by tests/conftest.py (``postgres_url``), the end-to-end fixtures and
bench/import_licences.py; imports no pytest.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from actions.store.database import build_engine

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available(admin_url: str = POSTGRES_ADMIN_URL) -> str | None:
    """None if reachable, else the reason."""
    try:
        engine = build_engine(admin_url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any driver/network error means "not here"
        return f"PostgreSQL not reachable at {admin_url}: {type(error).__name__}"


def admin_sql(*statements: str, admin_url: str = POSTGRES_ADMIN_URL, **params: str) -> None:
    """Run ``statements`` on the admin database, outside a transaction (CREATE/DROP DATABASE)."""
    admin = build_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.execute(text(statement), params)
    finally:
        admin.dispose()


def create_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    """Create the database ``name``; return its URL."""
    admin_sql(f'CREATE DATABASE "{name}"', admin_url=admin_url)
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """Drop the database ``name``, ending its connections (and allowing them again
    first: a fault test may have forbidden them)."""
    admin_sql(
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n",
        f'DROP DATABASE IF EXISTS "{name}"',
        admin_url=admin_url,
        n=name,
    )


@contextmanager
def throwaway_database(prefix: str = "faqbot_test", admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A new database named ``prefix``_<random>, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(name, admin_url)
    try:
        yield url
    finally:
        drop_database(name, admin_url)
