"""Which exceptions mean that the data layer could not answer (database down, lost
connection, statement timeout): actions catch these without importing SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

STORE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError,)
