"""The evidence table: plain records, the repository protocol, its SQL implementation and a fake."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actions.store.database import session_scope
from actions.store.evidence_models import (
    EvidenceFigureRow,
    EvidencePairRow,
    EvidencePartRow,
    EvidencePartSourceRow,
    EvidenceSourceRow,
)

# Canonical keys (as in data/lexicon) and how answers name them.
TREATMENT_LABELS: dict[str, str] = {
    "acupuncture": "acupuncture",
    "electroacupuncture": "electroacupuncture",
    "dry_needling": "dry needling",
    "tui_na": "Tui Na",
    "cupping": "cupping",
}
CONDITION_LABELS: dict[str, str] = {
    "episodic_migraine": "episodic migraine",
    "chronic_migraine": "chronic migraine",
    "tension_type_headache": "tension-type headache",
    "cervicogenic_headache": "cervicogenic (neck-related) headache",
    "neck_shoulder_tension": "general neck and shoulder tension",
}
# The parts of every row, in the order an answer shows them; "see_doctor" is common to all rows.
# "short" is the one or two sentences sent first (issue 20), at most SHORT_MAX_WORDS words.
ROW_PARTS = ("short", "course", "onset", "results", "certainty", "maintenance", "limits")
SHORT_MAX_WORDS = 40
COMMON_PARTS = ("see_doctor",)
PART_NAMES = ROW_PARTS + COMMON_PARTS
# The figures a personal estimate needs (see actions/evidence_ranges.py).
ESTIMATE_FIGURES = (
    "baseline_days",
    "treated_days",
    "comparison_days",
    "responder_percent",
    "max_baseline_days",
)
EVIDENCE_KINDS = ("direct", "related", "none")
GRADES = ("moderate", "low", "very_low", "not_rated", "no_direct_evidence")


@dataclass(frozen=True)
class EvidenceSource:
    """A cited publication with its publication date ("2016-06-28", "2015-02" or "2012")."""

    id: str
    title: str
    url: str
    published: str


@dataclass(frozen=True)
class EvidencePart:
    """One part of an answer and the sources its wording (and every number in it) comes from."""

    name: str
    text: str
    sources: tuple[EvidenceSource, ...]


@dataclass(frozen=True)
class EvidenceFigure:
    """A sourced number used by the personal-estimate arithmetic."""

    name: str
    value: float
    source: EvidenceSource


@dataclass(frozen=True)
class EvidenceRow:
    """What one treatment can and cannot do for one condition."""

    treatment: str
    condition: str
    evidence: str
    grade: str
    parts: tuple[EvidencePart, ...]
    figures: tuple[EvidenceFigure, ...]
    estimate_comparison: str | None
    reviewed_on: date

    def part(self, name: str) -> EvidencePart:
        """The part called ``name`` (KeyError if the row has none)."""
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def figure(self, name: str) -> EvidenceFigure | None:
        """The figure called ``name``, if the row has it."""
        return next((figure for figure in self.figures if figure.name == name), None)

    @property
    def sources(self) -> tuple[EvidenceSource, ...]:
        """Every source the row cites, each once, in order of first use."""
        seen: dict[str, EvidenceSource] = {}
        for part in self.parts:
            for source in part.sources:
                seen.setdefault(source.id, source)
        for figure in self.figures:
            seen.setdefault(figure.source.id, figure.source)
        return tuple(seen.values())


@dataclass(frozen=True)
class EvidenceTable:
    """The whole versioned table, as validated from data/evidence."""

    version: str
    sources: tuple[EvidenceSource, ...]
    rows: tuple[EvidenceRow, ...]


class EvidenceRepository(Protocol):
    """Read access to the evidence table."""

    def get(self, treatment: str, condition: str) -> EvidenceRow | None:
        """The row for the pair, or None."""

    def pairs(self) -> set[tuple[str, str]]:
        """Every (treatment, condition) pair that has a row."""


def _source(row: EvidenceSourceRow) -> EvidenceSource:
    return EvidenceSource(id=row.id, title=row.title, url=row.url, published=row.published)


def _to_record(row: EvidencePairRow) -> EvidenceRow:
    return EvidenceRow(
        treatment=row.treatment,
        condition=row.condition,
        evidence=row.evidence,
        grade=row.grade,
        parts=tuple(
            EvidencePart(
                name=part.name,
                text=part.text,
                sources=tuple(_source(link.source) for link in part.sources),
            )
            for part in row.parts
        ),
        figures=tuple(
            EvidenceFigure(name=figure.name, value=float(figure.value), source=_source(figure.source))
            for figure in row.figures
        ),
        estimate_comparison=row.estimate_comparison,
        reviewed_on=row.reviewed_on,
    )


class SqlEvidenceRepository:
    """The evidence table stored in SQL; the session belongs to the caller."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, treatment: str, condition: str) -> EvidenceRow | None:
        row = self._session.execute(
            select(EvidencePairRow).where(
                EvidencePairRow.treatment == treatment, EvidencePairRow.condition == condition
            )
        ).scalar_one_or_none()
        return _to_record(row) if row is not None else None

    def pairs(self) -> set[tuple[str, str]]:
        rows = self._session.execute(select(EvidencePairRow.treatment, EvidencePairRow.condition))
        return {(treatment, condition) for treatment, condition in rows}

    def replace_all(self, table: EvidenceTable) -> None:
        """Make the tables hold exactly ``table`` (the caller commits)."""
        for model in (
            EvidencePartSourceRow,
            EvidenceFigureRow,
            EvidencePartRow,
            EvidencePairRow,
            EvidenceSourceRow,
        ):
            self._session.execute(delete(model))
        sources = {
            source.id: EvidenceSourceRow(
                id=source.id, position=index, title=source.title, url=source.url, published=source.published
            )
            for index, source in enumerate(table.sources)
        }
        self._session.add_all(sources.values())
        for record in table.rows:
            row = EvidencePairRow(
                treatment=record.treatment,
                condition=record.condition,
                evidence=record.evidence,
                grade=record.grade,
                estimate_comparison=record.estimate_comparison,
                reviewed_on=record.reviewed_on,
                content_version=table.version,
            )
            row.parts = [
                EvidencePartRow(
                    name=part.name,
                    position=index,
                    text=part.text,
                    sources=[
                        EvidencePartSourceRow(position=rank, source=sources[source.id])
                        for rank, source in enumerate(part.sources)
                    ],
                )
                for index, part in enumerate(record.parts)
            ]
            row.figures = [
                EvidenceFigureRow(name=figure.name, value=figure.value, source=sources[figure.source.id])
                for figure in record.figures
            ]
            self._session.add(row)


@contextmanager
def sql_evidence_repository() -> Iterator[EvidenceRepository]:
    """Default factory used by the actions: one session per action run."""
    with session_scope() as session:
        yield SqlEvidenceRepository(session)


class InMemoryEvidenceRepository:
    """A fake for unit tests and for running without a database."""

    def __init__(self, rows: Iterable[EvidenceRow]) -> None:
        self._rows = {(row.treatment, row.condition): row for row in rows}

    def get(self, treatment: str, condition: str) -> EvidenceRow | None:
        return self._rows.get((treatment, condition))

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._rows)
