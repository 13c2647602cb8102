"""FAQ answers: the repository protocol, its SQL implementation and a fake."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actions.store.database import session_scope
from actions.store.models import FaqSourceRow, FaqTopicRow
from actions.store.records import FaqAnswer, Source


class FaqRepository(Protocol):
    """Read access to FAQ answers."""

    def get(self, key: str) -> FaqAnswer | None:
        """The answer for ``key``, or None."""

    def titles(self, keys: Sequence[str]) -> dict[str, str]:
        """Human-readable titles of the known ``keys``."""

    def key_for(self, treatment: str, aspect: str) -> str | None:
        """The topic about ``aspect`` of ``treatment``, if there is one."""


def _to_record(row: FaqTopicRow) -> FaqAnswer:
    return FaqAnswer(
        key=row.key,
        title=row.title,
        treatment=row.treatment,
        aspect=row.aspect,
        text=row.answer,
        sources=tuple(Source(title=s.title, url=s.url) for s in row.sources),
        reviewed_on=row.reviewed_on,
    )


class SqlFaqRepository:
    """FAQ answers stored in SQL; the session belongs to the caller."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str) -> FaqAnswer | None:
        row = self._session.get(FaqTopicRow, key)
        return _to_record(row) if row is not None else None

    def titles(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = self._session.execute(
            select(FaqTopicRow.key, FaqTopicRow.title).where(FaqTopicRow.key.in_(list(keys)))
        )
        return {key: title for key, title in rows}

    def key_for(self, treatment: str, aspect: str) -> str | None:
        return self._session.execute(
            select(FaqTopicRow.key)
            .where(FaqTopicRow.treatment == treatment, FaqTopicRow.aspect == aspect)
            .order_by(FaqTopicRow.key)
            .limit(1)
        ).scalar_one_or_none()

    def all_keys(self) -> list[str]:
        return list(self._session.execute(select(FaqTopicRow.key).order_by(FaqTopicRow.key)).scalars())

    def replace_all(self, answers: Iterable[FaqAnswer], content_version: str) -> None:
        """Make the table hold exactly ``answers`` (the caller commits)."""
        self._session.execute(delete(FaqSourceRow))
        self._session.execute(delete(FaqTopicRow))
        for answer in answers:
            row = FaqTopicRow(
                key=answer.key,
                title=answer.title,
                treatment=answer.treatment,
                aspect=answer.aspect,
                answer=answer.text,
                reviewed_on=answer.reviewed_on,
                content_version=content_version,
            )
            row.sources = [
                FaqSourceRow(position=index, title=source.title, url=source.url)
                for index, source in enumerate(answer.sources)
            ]
            self._session.add(row)


@contextmanager
def sql_faq_repository() -> Iterator[FaqRepository]:
    """Default factory used by the actions: one session per action run."""
    with session_scope() as session:
        yield SqlFaqRepository(session)


class InMemoryFaqRepository:
    """A fake for unit tests and for running without a database."""

    def __init__(self, answers: Iterable[FaqAnswer]) -> None:
        self._answers = {answer.key: answer for answer in answers}

    def get(self, key: str) -> FaqAnswer | None:
        return self._answers.get(key)

    def titles(self, keys: Sequence[str]) -> dict[str, str]:
        return {key: self._answers[key].title for key in keys if key in self._answers}

    def key_for(self, treatment: str, aspect: str) -> str | None:
        matches = sorted(
            a.key for a in self._answers.values() if a.treatment == treatment and a.aspect == aspect
        )
        return matches[0] if matches else None
