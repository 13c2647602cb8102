"""Licence data: one row per licence a state board publishes (SQLAlchemy 1.4, 2.0 style).

Boards publish licences, not people: the same person licensed in two states appears
as two rows, and nothing in a board export identifies a person across states. So the
practitioner's name and city are stored with each licence, together with where the
row came from (``source``) and when it was retrieved (``retrieved_on``).

Matching columns (``number_key``, ``first_key``, ``last_key``, ``city_key``) hold the
folded forms computed by the functions below, so "AC-12345", "ac 12345" and
"AC12345" are the same licence and "José" finds "Jose".
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import Column, Date, Index, Integer, String, UniqueConstraint

from actions.store.models import Base
from lexicon import fold

# Canonical licence statuses, in the words the bot uses.
ACTIVE = "active"
PROBATION = "probation"
INACTIVE = "inactive"
EXPIRED = "expired"
SUSPENDED = "suspended"
REVOKED = "revoked"
SURRENDERED = "surrendered"
STATUSES = (ACTIVE, PROBATION, INACTIVE, EXPIRED, SUSPENDED, REVOKED, SURRENDERED)

# Professions derived from the licence type (which board regulates the licence).
ACUPUNCTURE = "acupuncture"
PHYSICAL_THERAPY = "physical_therapy"
MEDICINE = "medicine"
CHIROPRACTIC = "chiropractic"
OTHER = "other"
PROFESSIONS = (ACUPUNCTURE, PHYSICAL_THERAPY, MEDICINE, CHIROPRACTIC, OTHER)

# Column sizes, checked by the importer before anything reaches the database
# (PostgreSQL rejects an over-long value and with it the whole transaction).
MAX_LENGTHS = {
    "license_number": 40,
    "license_type": 80,
    "first_name": 80,
    "last_name": 80,
    "city": 80,
    "credentials": 200,
    "national_certification": 40,
    "source": 200,
}


class LicenceRow(Base):
    """One licence as published by a state board."""

    __tablename__ = "practitioner_licences"

    id = Column(Integer, primary_key=True, autoincrement=True)
    state = Column(String(2), nullable=False)
    license_number = Column(String(MAX_LENGTHS["license_number"]), nullable=False)
    number_key = Column(String(MAX_LENGTHS["license_number"]), nullable=False)
    license_type = Column(String(MAX_LENGTHS["license_type"]), nullable=False)
    profession = Column(String(20), nullable=False)
    first_name = Column(String(MAX_LENGTHS["first_name"]), nullable=False)
    last_name = Column(String(MAX_LENGTHS["last_name"]), nullable=False)
    first_key = Column(String(MAX_LENGTHS["first_name"]), nullable=False)
    last_key = Column(String(MAX_LENGTHS["last_name"]), nullable=False)
    city = Column(String(MAX_LENGTHS["city"]), nullable=True)
    city_key = Column(String(MAX_LENGTHS["city"]), nullable=True)
    status = Column(String(20), nullable=False)
    issue_date = Column(Date, nullable=True)
    expiration_date = Column(Date, nullable=True)
    credentials = Column(String(MAX_LENGTHS["credentials"]), nullable=True)
    national_certification = Column(String(MAX_LENGTHS["national_certification"]), nullable=True)
    source = Column(String(MAX_LENGTHS["source"]), nullable=False)
    retrieved_on = Column(Date, nullable=False)

    __table_args__ = (
        # A licence number is unique within its state; compared in its folded form.
        UniqueConstraint("state", "number_key", name="uq_practitioner_licences_state_number"),
        Index("ix_practitioner_licences_name", "state", "last_key", "first_key"),
        Index("ix_practitioner_licences_city", "state", "city_key", "profession", "status"),
    )


# Columns the importer writes (everything but the surrogate id).
VALUE_COLUMNS = (
    "state",
    "license_number",
    "number_key",
    "license_type",
    "profession",
    "first_name",
    "last_name",
    "first_key",
    "last_key",
    "city",
    "city_key",
    "status",
    "issue_date",
    "expiration_date",
    "credentials",
    "national_certification",
    "source",
    "retrieved_on",
)


def name_key(name: str) -> str:
    """'José  O'Neil-Smith' -> 'jose o neil smith' (what names are compared on)."""
    return fold(name)


def city_key(city: str) -> str:
    """'St. Louis' -> 'st louis'; 'Winston-Salem' -> 'winston salem'."""
    return fold(city)


_PROFESSION_PATTERNS = (
    (PHYSICAL_THERAPY, re.compile(r"physical therap|physiotherap|^(?:pt|dpt|pta)$")),
    (ACUPUNCTURE, re.compile(r"acupunct|oriental medicine|eastern medicine|^(?:l ?ac|dom|ap|eamp|aemp)$")),
    (CHIROPRACTIC, re.compile(r"chiropract|^dc$")),
    (MEDICINE, re.compile(r"physician|medical doctor|medicine|osteopath|^(?:md|do)$")),
)


@lru_cache(maxsize=1024)
def profession_for(license_type: str) -> str:
    """The profession a licence type belongs to ('Licensed Acupuncturist' -> 'acupuncture')."""
    folded = fold(license_type)
    for profession, pattern in _PROFESSION_PATTERNS:
        if pattern.search(folded):
            return profession
    return OTHER
