"""SQL schema of the evidence table behind "what can I expect" answers.

One row per treatment x condition pair; each row has its answer parts (each part lists the
sources its wording comes from) and, where the evidence supports a personal estimate, the
sourced figures the arithmetic uses. Same declarative ``Base`` as the FAQ tables, so
``create_schema`` creates these tables too once this module is imported.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from actions.store.models import Base, child_rows


class EvidenceSourceRow(Base):
    """A publication the evidence table cites, with its publication date."""

    __tablename__ = "evidence_sources"

    id = Column(String(60), primary_key=True)
    position = Column(Integer, nullable=False)
    title = Column(String(400), nullable=False)
    url = Column(String(500), nullable=False)
    # "2016-06-28", "2015-02" or "2012": as precise as the source states it.
    published = Column(String(10), nullable=False)


class EvidencePairRow(Base):
    """What one treatment can and cannot do for one condition."""

    __tablename__ = "evidence_rows"
    __table_args__ = (UniqueConstraint("treatment", "condition", name="uq_evidence_rows_pair"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    treatment = Column(String(40), nullable=False)
    condition = Column(String(40), nullable=False)
    # direct | related | none: is there evidence for this exact pair?
    evidence = Column(String(20), nullable=False)
    # moderate | low | very_low | not_rated | no_direct_evidence
    grade = Column(String(30), nullable=False)
    # What the personal estimate compares against ("usual care"); None: no estimate possible.
    estimate_comparison = Column(String(80), nullable=True)
    reviewed_on = Column(Date, nullable=False)
    content_version = Column(String(40), nullable=False)

    parts = child_rows("EvidencePartRow")
    figures = child_rows("EvidenceFigureRow", "name")


class EvidencePartRow(Base):
    """One part of the answer (course, onset, results, ...) and the sources of its wording."""

    __tablename__ = "evidence_parts"
    __table_args__ = (UniqueConstraint("row_id", "name", name="uq_evidence_parts_name"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    row_id = Column(Integer, ForeignKey("evidence_rows.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(30), nullable=False)
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)

    sources = child_rows("EvidencePartSourceRow")


class EvidencePartSourceRow(Base):
    """A source the wording of a part comes from."""

    __tablename__ = "evidence_part_sources"

    part_id = Column(Integer, ForeignKey("evidence_parts.id", ondelete="CASCADE"), primary_key=True)
    source_id = Column(String(60), ForeignKey("evidence_sources.id"), primary_key=True)
    position = Column(Integer, nullable=False)

    source = relationship(EvidenceSourceRow, lazy="selectin")


class EvidenceFigureRow(Base):
    """A sourced number the personal estimate uses (baseline_days, responder_percent, ...)."""

    __tablename__ = "evidence_figures"
    __table_args__ = (UniqueConstraint("row_id", "name", name="uq_evidence_figures_name"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    row_id = Column(Integer, ForeignKey("evidence_rows.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(40), nullable=False)
    value = Column(Float, nullable=False)
    source_id = Column(String(60), ForeignKey("evidence_sources.id"), nullable=False)

    source = relationship(EvidenceSourceRow, lazy="selectin")
