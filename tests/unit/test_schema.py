"""The SQL schema stays as deployed databases have it: a refactor of the models (mixins,
moved columns) must produce the same CREATE statements on SQLite and PostgreSQL.

After a deliberate schema change (with its migration), regenerate tests/unit/schema.sql
with ``python -m tests.unit.test_schema``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from actions.store import evidence_models, legal_models, licence_models  # noqa: F401  (register tables)
from actions.store.models import Base

SNAPSHOT = Path(__file__).with_name("schema.sql")


def create_statements() -> str:
    """Every table's CREATE TABLE and CREATE INDEX, for SQLite then PostgreSQL."""
    lines = []
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        for table in Base.metadata.sorted_tables:
            lines.append(str(CreateTable(table).compile(dialect=dialect)).strip())
            lines.extend(
                str(CreateIndex(index).compile(dialect=dialect)).strip()
                for index in sorted(table.indexes, key=lambda index: str(index.name))
            )
    return "\n".join(lines) + "\n"


def test_the_schema_is_unchanged():
    assert create_statements() == SNAPSHOT.read_text(encoding="utf-8")


if __name__ == "__main__":
    SNAPSHOT.write_text(create_statements(), encoding="utf-8")
