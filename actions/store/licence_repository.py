"""Licence data: the repository protocol, its SQL implementation and an in-memory fake.

Lookups are tolerant the way people type: licence numbers are compared without
spaces, dashes or case ("ac 12345" finds "AC-12345"), and may leave out the
letters or leading zeros; names ignore case, accents, titles, middle names and
initials; a last name with a small typo still finds its closest spellings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from actions.store.database import session_scope
from actions.store.licence_models import (
    ACTIVE,
    ACUPUNCTURE,
    LicenceRow,
    city_key,
    name_key,
)
from lexicon.licence_numbers import licence_number_key

MAX_NAME_MATCHES = 20
# How close a misspelt last name must be to count as "probably meant" (difflib ratio).
SIMILAR_NAME_CUTOFF = 0.8
# Digits alone ("12345" for "AC-12345") must be this long to match a number with a prefix.
MIN_LOOSE_DIGITS = 4


@dataclass(frozen=True)
class LicenceRecord:
    """One licence as our data shows it (never an ORM object)."""

    state: str
    license_number: str
    license_type: str
    profession: str
    first_name: str
    last_name: str
    city: str | None
    status: str
    issue_date: date | None
    expiration_date: date | None
    credentials: str | None
    national_certification: str | None
    source: str
    retrieved_on: date

    @property
    def full_name(self) -> str:
        """'Jane Example' (first name first, as people say it)."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Coverage:
    """What licence data we hold for one state: size, sources and retrieval dates."""

    state: str
    licences: int
    sources: tuple[str, ...]
    oldest_retrieved_on: date
    newest_retrieved_on: date


class LicenceRepository(Protocol):
    """Read access to licence data."""

    def find_by_number(self, state: str, number: str) -> list[LicenceRecord]:
        """Licences in ``state`` whose number matches ``number`` (format-tolerant)."""

    def find_by_name(self, state: str, first: str | None, last: str) -> list[LicenceRecord]:
        """Licences in ``state`` held by someone of that name; close spellings if none."""

    def find_active_near(
        self, city: str, state: str, limit: int = 5, profession: str = ACUPUNCTURE
    ) -> list[LicenceRecord]:
        """Active, unexpired licences of ``profession`` in ``city``, at most ``limit``."""

    def coverage(self, state: str) -> Coverage | None:
        """What we hold for ``state``, or None if nothing."""


# ---------------------------------------------------------------- matching rules
_TITLES = {"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof"}
_SUFFIXES = {
    "jr",
    "sr",
    "ii",
    "iii",
    "iv",
    "lac",
    "l ac",
    "md",
    "do",
    "dpt",
    "pt",
    "dc",
    "dom",
    "phd",
    "dipl",
    "om",
    "ac",
    "ch",
    "abt",
    "nccaom",
    "cac",
    "ap",
    "msom",
    "mac",
    "daom",
    "dacm",
}


def split_name(text: str) -> tuple[str | None, str | None]:
    """'Dr. Jane Q. Example, L.Ac.' -> ('jane', 'example'); 'Example, Jane' -> ('jane', 'example').

    Returns folded (first, last); first is None when only one name is given.
    """
    if "," in text:
        head, _, tail = text.partition(",")
        tail_words = [w for w in name_key(tail).split() if w not in _SUFFIXES and w not in _TITLES]
        head_words = [w for w in name_key(head).split() if w not in _TITLES]
        # "Example, Jane" (last, first) unless the part after the comma is only titles/credentials.
        if tail_words and len(head_words) == 1:
            return tail_words[0], head_words[0]
        text = head
    words = [w for w in name_key(text).split() if w not in _TITLES]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    if not words:
        return None, None
    if len(words) == 1:
        return None, words[0]
    return words[0], words[-1]


def _first_name_matches(query: str | None, stored_key: str) -> bool:
    """'jane' matches 'jane' and 'jane marie'; 'j' matches 'jane'; no first name matches all."""
    if not query:
        return True
    stored = stored_key.split()
    if not stored:
        return False
    if len(query) == 1:
        return stored[0].startswith(query)
    return query == stored[0] or query == stored_key


def _last_name_condition(last: str) -> tuple[str, ...]:
    """LIKE patterns so 'garcia' also finds 'garcia lopez' and 'lopez garcia'."""
    return (f"{last} %", f"% {last}")


def _number_parts(key: str) -> tuple[str, str]:
    """'DEMOAC00123' -> ('DEMOAC', '123'): letters before the trailing digits, digits without zeros."""
    match = re.match(r"^(.*?)(\d+)$", key)
    if not match:
        return key, ""
    letters = re.sub(r"\d", "", match.group(1))
    return letters, match.group(2).lstrip("0")


def _loose_number_match(query_key: str, stored_key: str) -> bool:
    """'12345' or 'AC012345' finds 'AC12345'; 'AC123' finds 'DEMOAC00123'."""
    q_letters, q_digits = _number_parts(query_key)
    s_letters, s_digits = _number_parts(stored_key)
    if not q_digits or q_digits != s_digits:
        return False
    typed_digits = len(query_key) - len(query_key.rstrip("0123456789"))
    if not q_letters and typed_digits < MIN_LOOSE_DIGITS:
        return False  # "123" alone would match too much
    return not q_letters or s_letters.endswith(q_letters)


def _is_current(record_status: str, expiration: date | None, today: date) -> bool:
    return record_status == ACTIVE and (expiration is None or expiration >= today)


# ---------------------------------------------------------------- SQL
def _to_record(row: LicenceRow) -> LicenceRecord:
    return LicenceRecord(
        state=row.state,
        license_number=row.license_number,
        license_type=row.license_type,
        profession=row.profession,
        first_name=row.first_name,
        last_name=row.last_name,
        city=row.city,
        status=row.status,
        issue_date=row.issue_date,
        expiration_date=row.expiration_date,
        credentials=row.credentials,
        national_certification=row.national_certification,
        source=row.source,
        retrieved_on=row.retrieved_on,
    )


def _ordered(records: Iterable[LicenceRecord]) -> list[LicenceRecord]:
    return sorted(
        records, key=lambda r: (r.last_name.lower(), r.first_name.lower(), r.city or "", r.license_number)
    )


class SqlLicenceRepository:
    """Licence data in SQL; the session belongs to the caller."""

    def __init__(self, session: Session, today: date | None = None) -> None:
        self._session = session
        self._today = today

    @property
    def today(self) -> date:
        return self._today or date.today()

    def find_by_number(self, state: str, number: str) -> list[LicenceRecord]:
        key = licence_number_key(number)
        if not key:
            return []
        rows = self._session.execute(
            select(LicenceRow).where(LicenceRow.state == state, LicenceRow.number_key == key)
        ).scalars()
        exact = [_to_record(row) for row in rows]
        if exact:
            return exact
        _, digits = _number_parts(key)
        if not digits:
            return []
        # Same trailing digits (any prefix, any leading zeros): a LIKE narrows, Python decides.
        candidates = self._session.execute(
            select(LicenceRow)
            .where(LicenceRow.state == state, LicenceRow.number_key.like(f"%{digits}"))
            .limit(200)
        ).scalars()
        return _ordered(_to_record(row) for row in candidates if _loose_number_match(key, row.number_key))

    def find_by_name(self, state: str, first: str | None, last: str) -> list[LicenceRecord]:
        first_q = name_key(first) if first else None
        last_q = name_key(last)
        if not last_q:
            return []
        matches = self._by_last_names(state, first_q, [last_q], partial=True)
        if matches:
            return matches
        # A typo in the last name: the closest spellings among that state's last names
        # starting with the same letter.
        known = self._session.execute(
            select(LicenceRow.last_key)
            .where(LicenceRow.state == state, LicenceRow.last_key.like(f"{last_q[0]}%"))
            .distinct()
        ).scalars()
        close = difflib.get_close_matches(last_q, list(known), n=3, cutoff=SIMILAR_NAME_CUTOFF)
        return self._by_last_names(state, first_q, close, partial=False) if close else []

    def _by_last_names(
        self, state: str, first_q: str | None, lasts: Sequence[str], partial: bool
    ) -> list[LicenceRecord]:
        conditions = [LicenceRow.last_key.in_(list(lasts))]
        if partial:
            for last in lasts:
                conditions += [LicenceRow.last_key.like(pattern) for pattern in _last_name_condition(last)]
        rows = self._session.execute(
            select(LicenceRow).where(LicenceRow.state == state, or_(*conditions)).limit(500)
        ).scalars()
        found = [_to_record(row) for row in rows if _first_name_matches(first_q, row.first_key)]
        return _ordered(found)[:MAX_NAME_MATCHES]

    def find_active_near(
        self, city: str, state: str, limit: int = 5, profession: str = ACUPUNCTURE
    ) -> list[LicenceRecord]:
        key = city_key(city)
        if not key:
            return []
        rows = self._session.execute(
            select(LicenceRow)
            .where(
                LicenceRow.state == state,
                LicenceRow.city_key == key,
                LicenceRow.profession == profession,
                LicenceRow.status == ACTIVE,
                or_(LicenceRow.expiration_date.is_(None), LicenceRow.expiration_date >= self.today),
            )
            .order_by(LicenceRow.last_key, LicenceRow.first_key, LicenceRow.number_key)
            .limit(limit)
        ).scalars()
        return [_to_record(row) for row in rows]

    def coverage(self, state: str) -> Coverage | None:
        count, oldest, newest = self._session.execute(
            select(
                func.count(LicenceRow.id),
                func.min(LicenceRow.retrieved_on),
                func.max(LicenceRow.retrieved_on),
            ).where(LicenceRow.state == state)
        ).one()
        if not count:
            return None
        sources = self._session.execute(
            select(LicenceRow.source)
            .where(LicenceRow.state == state)
            .distinct()
            .order_by(LicenceRow.source)
            .limit(5)
        ).scalars()
        return Coverage(state, int(count), tuple(sources), oldest, newest)


@contextmanager
def sql_licence_repository() -> Iterator[LicenceRepository]:
    """Default factory used by the actions: one session per action run."""
    with session_scope() as session:
        yield SqlLicenceRepository(session)


# ---------------------------------------------------------------- fake
class InMemoryLicenceRepository:
    """A fake for unit tests, with the same matching rules as the SQL repository."""

    def __init__(self, records: Iterable[LicenceRecord], today: date | None = None) -> None:
        self._records = list(records)
        self._today = today or date.today()

    def find_by_number(self, state: str, number: str) -> list[LicenceRecord]:
        key = licence_number_key(number)
        if not key:
            return []
        in_state = [r for r in self._records if r.state == state]
        exact = [r for r in in_state if licence_number_key(r.license_number) == key]
        if exact:
            return exact
        return _ordered(r for r in in_state if _loose_number_match(key, licence_number_key(r.license_number)))

    def find_by_name(self, state: str, first: str | None, last: str) -> list[LicenceRecord]:
        first_q = name_key(first) if first else None
        last_q = name_key(last)
        if not last_q:
            return []
        in_state = [r for r in self._records if r.state == state]

        def matching(lasts: Sequence[str], partial: bool) -> list[LicenceRecord]:
            found = []
            for record in in_state:
                stored = name_key(record.last_name)
                hit = stored in lasts or (
                    partial and any(stored.startswith(f"{q} ") or stored.endswith(f" {q}") for q in lasts)
                )
                if hit and _first_name_matches(first_q, name_key(record.first_name)):
                    found.append(record)
            return _ordered(found)[:MAX_NAME_MATCHES]

        matches = matching([last_q], partial=True)
        if matches:
            return matches
        known = sorted(
            {name_key(r.last_name) for r in in_state if name_key(r.last_name).startswith(last_q[0])}
        )
        close = difflib.get_close_matches(last_q, known, n=3, cutoff=SIMILAR_NAME_CUTOFF)
        return matching(close, partial=False) if close else []

    def find_active_near(
        self, city: str, state: str, limit: int = 5, profession: str = ACUPUNCTURE
    ) -> list[LicenceRecord]:
        key = city_key(city)
        found = [
            r
            for r in self._records
            if r.state == state
            and r.city is not None
            and city_key(r.city) == key
            and r.profession == profession
            and _is_current(r.status, r.expiration_date, self._today)
        ]
        found.sort(
            key=lambda r: (
                name_key(r.last_name),
                name_key(r.first_name),
                licence_number_key(r.license_number),
            )
        )
        return found[:limit]

    def coverage(self, state: str) -> Coverage | None:
        in_state = [r for r in self._records if r.state == state]
        if not in_state:
            return None
        dates = [r.retrieved_on for r in in_state]
        return Coverage(
            state, len(in_state), tuple(sorted({r.source for r in in_state}))[:5], min(dates), max(dates)
        )
