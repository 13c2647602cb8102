"""SQL schema of the state legality tables (data/legal), on the shared declarative ``Base``.

One row per jurisdiction (50 states + DC) in each of two tables, with child rows for
the lists (conditions, caveats, other practitioners, cited sources) in display order.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from actions.store.models import Base


class LegalSourceRow(Base):
    """A source cited by the legality tables (data/legal/sources.yml)."""

    __tablename__ = "legal_sources"

    key = Column(String(80), primary_key=True)
    title = Column(String(300), nullable=False)
    url = Column(String(500), nullable=True)
    dated = Column(String(80), nullable=False)


class DryNeedlingStateRow(Base):
    """Whether physical therapists may dry needle in one jurisdiction, and on what terms."""

    __tablename__ = "legal_dry_needling"

    state_code = Column(String(2), primary_key=True)
    state_name = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False, index=True)
    summary = Column(Text, nullable=False)
    conflict = Column(Text, nullable=True)
    board = Column(String(200), nullable=True)
    board_url = Column(String(500), nullable=True)
    source_date = Column(Date, nullable=True)
    source_date_precision = Column(String(10), nullable=False)
    verified_on = Column(Date, nullable=False)
    data_version = Column(String(40), nullable=False)

    details = relationship(
        "DryNeedlingDetailRow",
        order_by="DryNeedlingDetailRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    practitioners = relationship(
        "DryNeedlingPractitionerRow",
        order_by="DryNeedlingPractitionerRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    citations = relationship(
        "DryNeedlingCitationRow",
        order_by="DryNeedlingCitationRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


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


class DryNeedlingCitationRow(Base):
    """A source cited by a dry needling row, in display order (the first dates the row)."""

    __tablename__ = "legal_dry_needling_citations"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state_code = Column(
        String(2), ForeignKey("legal_dry_needling.state_code", ondelete="CASCADE"), nullable=False, index=True
    )
    position = Column(Integer, nullable=False)
    source_key = Column(String(80), ForeignKey("legal_sources.key"), nullable=False)

    source = relationship(LegalSourceRow, lazy="joined")


class AcupunctureLicensureRow(Base):
    """How one jurisdiction licenses acupuncturists: title, board, lookup, exam."""

    __tablename__ = "legal_acupuncture_licensure"

    state_code = Column(String(2), primary_key=True)
    state_name = Column(String(40), nullable=False)
    licensed = Column(Boolean, nullable=False, index=True)
    licensed_title = Column(String(300), nullable=True)
    board_name = Column(String(300), nullable=True)
    lookup_url = Column(String(500), nullable=True)
    lookup_hint = Column(Text, nullable=False)
    exam = Column(Text, nullable=False)
    summary = Column(Text, nullable=False)
    source_date = Column(Date, nullable=True)
    source_date_precision = Column(String(10), nullable=False)
    verified_on = Column(Date, nullable=False)
    data_version = Column(String(40), nullable=False)

    caveats = relationship(
        "AcupunctureCaveatRow",
        order_by="AcupunctureCaveatRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    citations = relationship(
        "AcupunctureCitationRow",
        order_by="AcupunctureCitationRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


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


class AcupunctureCitationRow(Base):
    """A source cited by an acupuncture licensure row, in display order."""

    __tablename__ = "legal_acupuncture_citations"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state_code = Column(
        String(2),
        ForeignKey("legal_acupuncture_licensure.state_code", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    position = Column(Integer, nullable=False)
    source_key = Column(String(80), ForeignKey("legal_sources.key"), nullable=False)

    source = relationship(LegalSourceRow, lazy="joined")
