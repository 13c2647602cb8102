"""FAQ answers: the repository protocol, its SQL implementation, the in-memory
copy the action server reads from, and a fake."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.store.database import session_scope
from actions.store.models import ContentLoadRow, FaqSourceRow, FaqTopicRow
from actions.store.records import FaqAnswer, Source

FAQ_CONTENT_KIND = "faq"


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
        short=row.short,
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

    def all_answers(self) -> list[FaqAnswer]:
        rows = self._session.execute(select(FaqTopicRow).order_by(FaqTopicRow.key)).scalars()
        return [_to_record(row) for row in rows]

    def fingerprint(self) -> str | None:
        """The fingerprint of the loaded answers (None: loaded before fingerprints existed)."""
        return self._session.execute(
            select(ContentLoadRow.fingerprint).where(ContentLoadRow.kind == FAQ_CONTENT_KIND)
        ).scalar_one_or_none()

    def replace_all(self, answers: Iterable[FaqAnswer], content_version: str) -> None:
        """Make the table hold exactly ``answers`` (the caller commits)."""
        answers = list(answers)
        self._session.execute(delete(FaqSourceRow))
        self._session.execute(delete(FaqTopicRow))
        self._session.merge(ContentLoadRow(kind=FAQ_CONTENT_KIND, fingerprint=answers_fingerprint(answers)))
        for answer in answers:
            row = FaqTopicRow(
                key=answer.key,
                title=answer.title,
                treatment=answer.treatment,
                aspect=answer.aspect,
                short=answer.short,
                answer=answer.text,
                reviewed_on=answer.reviewed_on,
                content_version=content_version,
            )
            row.sources = [
                FaqSourceRow(position=index, title=source.title, url=source.url)
                for index, source in enumerate(answer.sources)
            ]
            self._session.add(row)


def answers_fingerprint(answers: Iterable[FaqAnswer]) -> str:
    """A hash that changes whenever any answer's text, title, source or date changes."""
    digest = hashlib.sha256()
    for answer in sorted(answers, key=lambda a: a.key):
        digest.update(repr(answer).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class _Snapshot:
    fingerprint: str
    repository: InMemoryFaqRepository


class FaqContentCache:
    """The FAQ answers in memory, re-read whenever the stored fingerprint changes.

    Answering a follow-up re-targets every ranked topic, which took a dozen row
    reads per turn (about 10 ms). With the copy it is one indexed read of the
    fingerprint, and an edit loaded by staff is still answered on the next turn.
    Safe across threads: a snapshot is immutable and replaced in one assignment.
    """

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None

    def repository(self, session: Session) -> FaqRepository:
        sql = SqlFaqRepository(session)
        fingerprint = sql.fingerprint()
        if fingerprint is None:
            return sql
        snapshot = self._snapshot
        if snapshot is None or snapshot.fingerprint != fingerprint:
            # Rows are read after the fingerprint: at worst a newer load is labelled
            # with the older fingerprint and read again on the next turn.
            snapshot = _Snapshot(fingerprint, InMemoryFaqRepository(sql.all_answers()))
            self._snapshot = snapshot
        return snapshot.repository


def cached_faq_repository_factory(
    engine: Engine | None = None, cache: FaqContentCache | None = None
) -> Callable[[], AbstractContextManager[FaqRepository]]:
    """A repository factory for the actions: one session per action run, answers
    served from ``cache`` (a new one if not given) while the database says they
    are current."""
    content_cache = cache or FaqContentCache()

    @contextmanager
    def scope() -> Iterator[FaqRepository]:
        with session_scope(engine) as session:
            yield content_cache.repository(session)

    return scope


_process_cache: FaqContentCache | None = None


@contextmanager
def sql_faq_repository() -> Iterator[FaqRepository]:
    """Default factory used by the actions: the process-wide cached copy."""
    global _process_cache
    if _process_cache is None:
        _process_cache = FaqContentCache()
    with session_scope() as session:
        yield _process_cache.repository(session)


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
