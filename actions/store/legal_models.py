"""SQL schema of the state legality tables (data/legal), on the shared declarative ``Base``.

One row per jurisdiction (50 states + DC) in each of two tables, with child rows for
the lists (conditions, caveats, other practitioners, cited sources) in display order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declared_attr, relationship

from actions.store.models import Base, child_rows


class LegalSourceRow(Base):
    """A source cited by the legality tables (data/legal/sources.yml)."""

    __tablename__ = "legal_sources"

    key = Column(String(80), primary_key=True)
    title = Column(String(300), nullable=False)
    url = Column(String(500), nullable=True)
    dated = Column(String(80), nullable=False)


class CitedStateColumns:
    """What a jurisdiction row of either table records about its citations, and its list of them.

    Declared attributes, so the columns stay last in the table, in this order, as before the
    mixin; ``_citation_row`` names the class holding the row's citations.
    """

    _citation_row: str

    @declared_attr
    def source_date(cls) -> Column:
        return Column(Date, nullable=True)

    @declared_attr
    def source_date_precision(cls) -> Column:
        return Column(String(10), nullable=False)

    @declared_attr
    def verified_on(cls) -> Column:
        return Column(Date, nullable=False)

    @declared_attr
    def data_version(cls) -> Column:
        return Column(String(40), nullable=False)

    @declared_attr
    def citations(cls) -> Any:
        return child_rows(cls._citation_row)


class CitationColumns:
    """A source cited by a jurisdiction row, in display order; ``_state_table`` is that row's table."""

    _state_table: str

    @declared_attr
    def id(cls) -> Column:
        return Column(Integer, primary_key=True, autoincrement=True)

    @declared_attr
    def state_code(cls) -> Column:
        return Column(
            String(2),
            ForeignKey(f"{cls._state_table}.state_code", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )

    @declared_attr
    def position(cls) -> Column:
        return Column(Integer, nullable=False)

    @declared_attr
    def source_key(cls) -> Column:
        return Column(String(80), ForeignKey("legal_sources.key"), nullable=False)

    @declared_attr
    def source(cls) -> Any:
        return relationship(LegalSourceRow, lazy="joined")


class DryNeedlingStateRow(CitedStateColumns, Base):
    """Whether physical therapists may dry needle in one jurisdiction, and on what terms."""

    __tablename__ = "legal_dry_needling"
    _citation_row = "DryNeedlingCitationRow"

    state_code = Column(String(2), primary_key=True)
    state_name = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False, index=True)
    summary = Column(Text, nullable=False)
    conflict = Column(Text, nullable=True)
    board = Column(String(200), nullable=True)
    board_url = Column(String(500), nullable=True)

    details = child_rows("DryNeedlingDetailRow")
    practitioners = child_rows("DryNeedlingPractitionerRow")


class DryNeedlingDetailRow(Base):
    """A condition, pending change or caveat of a dry needling row (``kind``)."""

    __tablename__ = "legal_dry_needling_details"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state_code = Column(
        String(2), ForeignKey("legal_dry_needling.state_code", ondelete="CASCADE"), nullable=False, index=True
    )
    kind = Column(String(20), nullable=False)
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)


class DryNeedlingPractitionerRow(Base):
    """What is known about another profession dry needling in that jurisdiction."""

    __tablename__ = "legal_dry_needling_practitioners"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state_code = Column(
        String(2), ForeignKey("legal_dry_needling.state_code", ondelete="CASCADE"), nullable=False, index=True
    )
    position = Column(Integer, nullable=False)
    practitioner = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False)
    verified = Column(Boolean, nullable=False)
    note = Column(Text, nullable=False)


class DryNeedlingCitationRow(CitationColumns, Base):
    """A source cited by a dry needling row, in display order (the first dates the row)."""

    __tablename__ = "legal_dry_needling_citations"
    _state_table = "legal_dry_needling"


class AcupunctureLicensureRow(CitedStateColumns, Base):
    """How one jurisdiction licenses acupuncturists: title, board, lookup, exam."""

    __tablename__ = "legal_acupuncture_licensure"
    _citation_row = "AcupunctureCitationRow"

    state_code = Column(String(2), primary_key=True)
    state_name = Column(String(40), nullable=False)
    licensed = Column(Boolean, nullable=False, index=True)
    licensed_title = Column(String(300), nullable=True)
    board_name = Column(String(300), nullable=True)
    lookup_url = Column(String(500), nullable=True)
    lookup_hint = Column(Text, nullable=False)
    exam = Column(Text, nullable=False)
    summary = Column(Text, nullable=False)

    caveats = child_rows("AcupunctureCaveatRow")


class AcupunctureCaveatRow(Base):
    """A detail of an acupuncture licensure row that is not confirmed."""

    __tablename__ = "legal_acupuncture_caveats"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state_code = Column(
        String(2),
        ForeignKey("legal_acupuncture_licensure.state_code", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)


class AcupunctureCitationRow(CitationColumns, Base):
    """A source cited by an acupuncture licensure row, in display order."""

    __tablename__ = "legal_acupuncture_citations"
    _state_table = "legal_acupuncture_licensure"
