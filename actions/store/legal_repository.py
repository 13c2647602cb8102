"""State legality data: records, the repository protocol, its SQL implementation and a fake.

Two tables, one row per jurisdiction (50 states + DC): whether physical therapists
(and, where known, others) may dry needle, and how acupuncturists are licensed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actions.store.database import session_scope
from actions.store.legal_models import (
    AcupunctureCaveatRow,
    AcupunctureCitationRow,
    AcupunctureLicensureRow,
    DryNeedlingCitationRow,
    DryNeedlingDetailRow,
    DryNeedlingPractitionerRow,
    DryNeedlingStateRow,
    LegalSourceRow,
)

# Status of dry needling by physical therapists.
ALLOWED = "allowed"
PROHIBITED = "prohibited"
NOT_ADDRESSED = "not_addressed"
UNCLEAR = "unclear"
DRY_NEEDLING_STATUSES = (ALLOWED, PROHIBITED, NOT_ADDRESSED, UNCLEAR)
# Status of another profession (chiropractors, acupuncturists, ...) where known.
PRACTITIONER_STATUSES = (ALLOWED, PROHIBITED, UNCLEAR)
# How precise a row's source_date is (see data/legal/README.md).
DATE_PRECISIONS = ("day", "month", "year", "approx", "undated")

_CONDITION, _PENDING, _CAVEAT, _CHECK_FIRST = "condition", "pending", "caveat", "check_first"


@dataclass(frozen=True)
class LegalSource:
    """A cited source; ``url`` is None when no complete address is known."""

    key: str
    title: str
    url: str | None
    dated: str


@dataclass(frozen=True)
class OtherPractitioner:
    """What is known about another profession dry needling in a jurisdiction."""

    practitioner: str
    status: str
    verified: bool
    note: str


@dataclass(frozen=True)
class DryNeedlingRule:
    """Dry needling in one jurisdiction: the status for PTs, terms, others, sources, dates."""

    state_code: str
    state_name: str
    status: str
    summary: str
    conditions: tuple[str, ...]
    others: tuple[OtherPractitioner, ...]
    pending: tuple[str, ...]
    caveats: tuple[str, ...]
    conflict: str | None
    board: str | None
    board_url: str | None
    sources: tuple[LegalSource, ...]
    source_date: date | None
    source_date_precision: str
    verified_on: date
    # Why to check with the board before relying on the row at all (e.g. a law due to
    # expire); the bot says it first. Stored as a detail row, so the schema is unchanged.
    check_first: str | None = None

    def other(self, practitioner: str) -> OtherPractitioner | None:
        """The entry for ``practitioner`` (e.g. "chiropractor"), if the data has one."""
        return next((o for o in self.others if o.practitioner == practitioner), None)


@dataclass(frozen=True)
class AcupunctureLicensure:
    """How one jurisdiction licenses acupuncturists.

    ``licensed`` is False where there is no state licence (Alabama, Oklahoma,
    South Dakota); then ``licensed_title`` and ``board_name`` are None.
    """

    state_code: str
    state_name: str
    licensed: bool
    licensed_title: str | None
    board_name: str | None
    lookup_url: str | None
    lookup_hint: str
    exam: str
    notes: str
    caveats: tuple[str, ...]
    sources: tuple[LegalSource, ...]
    source_date: date | None
    source_date_precision: str
    verified_on: date


@dataclass(frozen=True)
class LegalDataset:
    """Everything in data/legal, validated: what the loader writes and the fake serves."""

    version: str
    sources: tuple[LegalSource, ...]
    dry_needling: tuple[DryNeedlingRule, ...]
    acupuncture: tuple[AcupunctureLicensure, ...]

    def oldest_verified_on(self) -> date:
        """The earliest ``verified_on`` over both tables."""
        return min(
            [rule.verified_on for rule in self.dry_needling] + [row.verified_on for row in self.acupuncture]
        )

    def oldest_source_date(self) -> date | None:
        """The earliest dated ``source_date`` over both tables (undated rows are skipped)."""
        dates = [rule.source_date for rule in self.dry_needling if rule.source_date]
        dates += [row.source_date for row in self.acupuncture if row.source_date]
        return min(dates) if dates else None


class LegalRepository(Protocol):
    """Read access to the state legality tables."""

    def dry_needling(self, state_code: str) -> DryNeedlingRule | None:
        """The dry needling row for a USPS code, or None."""

    def dry_needling_all(self) -> list[DryNeedlingRule]:
        """All dry needling rows, by state name."""

    def acupuncture_board(self, state_code: str) -> AcupunctureLicensure | None:
        """How a jurisdiction licenses acupuncturists (board, title, lookup, exam), or None."""

    def acupuncture_all(self) -> list[AcupunctureLicensure]:
        """All acupuncture licensure rows, by state name."""


def _source(row: LegalSourceRow) -> LegalSource:
    return LegalSource(key=row.key, title=row.title, url=row.url, dated=row.dated)


def _dry_needling_record(row: DryNeedlingStateRow) -> DryNeedlingRule:
    def texts(kind: str) -> tuple[str, ...]:
        return tuple(detail.text for detail in row.details if detail.kind == kind)

    return DryNeedlingRule(
        state_code=row.state_code,
        state_name=row.state_name,
        status=row.status,
        summary=row.summary,
        conditions=texts(_CONDITION),
        others=tuple(
            OtherPractitioner(practitioner=p.practitioner, status=p.status, verified=p.verified, note=p.note)
            for p in row.practitioners
        ),
        pending=texts(_PENDING),
        caveats=texts(_CAVEAT),
        conflict=row.conflict,
        board=row.board,
        board_url=row.board_url,
        sources=tuple(_source(citation.source) for citation in row.citations),
        source_date=row.source_date,
        source_date_precision=row.source_date_precision,
        verified_on=row.verified_on,
        check_first=next(iter(texts(_CHECK_FIRST)), None),
    )


def _acupuncture_record(row: AcupunctureLicensureRow) -> AcupunctureLicensure:
    return AcupunctureLicensure(
        state_code=row.state_code,
        state_name=row.state_name,
        licensed=row.licensed,
        licensed_title=row.licensed_title,
        board_name=row.board_name,
        lookup_url=row.lookup_url,
        lookup_hint=row.lookup_hint,
        exam=row.exam,
        notes=row.summary,
        caveats=tuple(caveat.text for caveat in row.caveats),
        sources=tuple(_source(citation.source) for citation in row.citations),
        source_date=row.source_date,
        source_date_precision=row.source_date_precision,
        verified_on=row.verified_on,
    )


class SqlLegalRepository:
    """The legality tables in SQL; the session belongs to the caller."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def dry_needling(self, state_code: str) -> DryNeedlingRule | None:
        row = self._session.get(DryNeedlingStateRow, state_code)
        return _dry_needling_record(row) if row is not None else None

    def dry_needling_all(self) -> list[DryNeedlingRule]:
        rows = self._session.execute(select(DryNeedlingStateRow).order_by(DryNeedlingStateRow.state_name))
        return [_dry_needling_record(row) for row in rows.scalars()]

    def acupuncture_board(self, state_code: str) -> AcupunctureLicensure | None:
        row = self._session.get(AcupunctureLicensureRow, state_code)
        return _acupuncture_record(row) if row is not None else None

    def acupuncture_all(self) -> list[AcupunctureLicensure]:
        rows = self._session.execute(
            select(AcupunctureLicensureRow).order_by(AcupunctureLicensureRow.state_name)
        )
        return [_acupuncture_record(row) for row in rows.scalars()]

    def replace_all(self, dataset: LegalDataset) -> None:
        """Make the tables hold exactly ``dataset`` (the caller commits)."""
        for table in (
            DryNeedlingCitationRow,
            DryNeedlingPractitionerRow,
            DryNeedlingDetailRow,
            DryNeedlingStateRow,
            AcupunctureCitationRow,
            AcupunctureCaveatRow,
            AcupunctureLicensureRow,
            LegalSourceRow,
        ):
            self._session.execute(delete(table))
        self._session.add_all(
            LegalSourceRow(key=s.key, title=s.title, url=s.url, dated=s.dated) for s in dataset.sources
        )
        self._session.flush()
        for rule in dataset.dry_needling:
            self._session.add(self._dry_needling_row(rule, dataset.version))
        for licensure in dataset.acupuncture:
            self._session.add(self._acupuncture_row(licensure, dataset.version))

    @staticmethod
    def _dry_needling_row(rule: DryNeedlingRule, version: str) -> DryNeedlingStateRow:
        row = DryNeedlingStateRow(
            state_code=rule.state_code,
            state_name=rule.state_name,
            status=rule.status,
            summary=rule.summary,
            conflict=rule.conflict,
            board=rule.board,
            board_url=rule.board_url,
            source_date=rule.source_date,
            source_date_precision=rule.source_date_precision,
            verified_on=rule.verified_on,
            data_version=version,
        )
        details = [(_CONDITION, t) for t in rule.conditions]
        details += [(_PENDING, t) for t in rule.pending]
        details += [(_CAVEAT, t) for t in rule.caveats]
        details += [(_CHECK_FIRST, rule.check_first)] if rule.check_first else []
        row.details = [
            DryNeedlingDetailRow(kind=kind, position=index, text=text)
            for index, (kind, text) in enumerate(details)
        ]
        row.practitioners = [
            DryNeedlingPractitionerRow(
                position=index, practitioner=o.practitioner, status=o.status, verified=o.verified, note=o.note
            )
            for index, o in enumerate(rule.others)
        ]
        row.citations = [
            DryNeedlingCitationRow(position=index, source_key=source.key)
            for index, source in enumerate(rule.sources)
        ]
        return row

    @staticmethod
    def _acupuncture_row(licensure: AcupunctureLicensure, version: str) -> AcupunctureLicensureRow:
        row = AcupunctureLicensureRow(
            state_code=licensure.state_code,
            state_name=licensure.state_name,
            licensed=licensure.licensed,
            licensed_title=licensure.licensed_title,
            board_name=licensure.board_name,
            lookup_url=licensure.lookup_url,
            lookup_hint=licensure.lookup_hint,
            exam=licensure.exam,
            summary=licensure.notes,
            source_date=licensure.source_date,
            source_date_precision=licensure.source_date_precision,
            verified_on=licensure.verified_on,
            data_version=version,
        )
        row.caveats = [
            AcupunctureCaveatRow(position=index, text=text) for index, text in enumerate(licensure.caveats)
        ]
        row.citations = [
            AcupunctureCitationRow(position=index, source_key=source.key)
            for index, source in enumerate(licensure.sources)
        ]
        return row


@contextmanager
def sql_legal_repository() -> Iterator[LegalRepository]:
    """Default factory used by the actions: one session per action run."""
    with session_scope() as session:
        yield SqlLegalRepository(session)


class InMemoryLegalRepository:
    """A fake for unit tests and for running without a database."""

    def __init__(
        self,
        dry_needling: Iterable[DryNeedlingRule] = (),
        acupuncture: Iterable[AcupunctureLicensure] = (),
    ) -> None:
        self._dry_needling = {rule.state_code: rule for rule in dry_needling}
        self._acupuncture = {row.state_code: row for row in acupuncture}

    @classmethod
    def from_dataset(cls, dataset: LegalDataset) -> InMemoryLegalRepository:
        """A fake holding everything a validated dataset holds."""
        return cls(dataset.dry_needling, dataset.acupuncture)

    def dry_needling(self, state_code: str) -> DryNeedlingRule | None:
        return self._dry_needling.get(state_code)

    def dry_needling_all(self) -> list[DryNeedlingRule]:
        return sorted(self._dry_needling.values(), key=lambda rule: rule.state_name)

    def acupuncture_board(self, state_code: str) -> AcupunctureLicensure | None:
        return self._acupuncture.get(state_code)

    def acupuncture_all(self) -> list[AcupunctureLicensure]:
        return sorted(self._acupuncture.values(), key=lambda row: row.state_name)
