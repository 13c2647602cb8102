"""Reading a state board's licence export (CSV): columns, values, rows, rejections.

The import itself (writing, demo data, command line) is in actions.store.licence_import,
whose docstring describes the accepted file format.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from actions.store.licence_models import (
    ACTIVE,
    EXPIRED,
    INACTIVE,
    MAX_LENGTHS,
    PROBATION,
    REVOKED,
    STATUSES,
    SURRENDERED,
    SUSPENDED,
    city_key,
    name_key,
    profession_for,
)
from lexicon import load_states, normalize_state
from lexicon.licence_numbers import licence_number_key

CANONICAL_HEADER = (
    "state",
    "license_number",
    "license_type",
    "first_name",
    "last_name",
    "city",
    "status",
    "issue_date",
    "expiration_date",
    "credentials",
    "source",
    "retrieved_on",
)

# Extra columns understood besides the canonical ones.
OPTIONAL_FIELDS = ("national_certification", "full_name")

# Header spellings seen in board exports, after _header_key() folding.
_ALIASES: dict[str, tuple[str, ...]] = {
    "state": (
        "state",
        "st",
        "license state",
        "state code",
        "jurisdiction",
        "licensing state",
        "state of licensure",
        "license jurisdiction",
    ),
    "license_number": (
        "license number",
        "lic number",
        "license",
        "lic",
        "number",
        "license id",
        "credential number",
        "permit number",
        "registration number",
        "license num",
        "lic num",
        "certificate number",
    ),
    "license_type": (
        "license type",
        "lic type",
        "type",
        "credential type",
        "profession",
        "license category",
        "board",
        "license class",
        "credential",
    ),
    "first_name": ("first name", "first", "given name", "fname", "firstname"),
    "last_name": ("last name", "last", "surname", "family name", "lname", "lastname"),
    "full_name": (
        "name",
        "full name",
        "licensee name",
        "licensee",
        "practitioner name",
        "licensee full name",
    ),
    "city": ("city", "town", "practice city", "address city", "city of practice", "mailing city"),
    "status": ("status", "license status", "lic status", "current status", "status description"),
    "issue_date": (
        "issue date",
        "issued",
        "date issued",
        "original issue date",
        "license issue date",
        "issued on",
        "original license date",
        "initial license date",
        "issue dt",
    ),
    "expiration_date": (
        "expiration date",
        "expiration",
        "expires",
        "expiry date",
        "expiry",
        "exp date",
        "expiration dt",
        "license expiration date",
        "expires on",
        "exp dt",
    ),
    "credentials": ("credentials", "designations", "degrees", "post nominals", "titles"),
    "national_certification": (
        "national certification",
        "national certification number",
        "nccaom id",
        "nccaom number",
        "nccaom",
        "nccaom certification number",
        "certification number",
    ),
    "source": ("source", "data source"),
    "retrieved_on": (
        "retrieved on",
        "retrieved",
        "date retrieved",
        "retrieved date",
        "retrieved at",
        "download date",
        "extract date",
        "export date",
        "as of",
    ),
}

_STATUS_WORDS: dict[str, str] = {
    "active": ACTIVE,
    "current": ACTIVE,
    "clear": ACTIVE,
    "valid": ACTIVE,
    "licensed": ACTIVE,
    "active clear": ACTIVE,
    "active in good standing": ACTIVE,
    "active current": ACTIVE,
    "good standing": ACTIVE,
    "renewed": ACTIVE,
    "probation": PROBATION,
    "on probation": PROBATION,
    "probationary": PROBATION,
    "active probation": PROBATION,
    "active on probation": PROBATION,
    "active probationary": PROBATION,
    "inactive": INACTIVE,
    "retired": INACTIVE,
    "not active": INACTIVE,
    "expired": EXPIRED,
    "lapsed": EXPIRED,
    "delinquent": EXPIRED,
    "not renewed": EXPIRED,
    "suspended": SUSPENDED,
    "summary suspension": SUSPENDED,
    "suspension": SUSPENDED,
    "revoked": REVOKED,
    "revocation": REVOKED,
    "cancelled": REVOKED,
    "canceled": REVOKED,
    "surrendered": SURRENDERED,
    "voluntarily surrendered": SURRENDERED,
    "voluntary surrender": SURRENDERED,
}

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%m-%d-%Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
)


class MalformedFile(ValueError):
    """The file cannot be imported at all; nothing was written."""


class RowError(ValueError):
    """One row cannot be imported (the message is the reason shown to staff)."""


@dataclass(frozen=True)
class Rejection:
    """A rejected row: its line number in the file and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportOptions:
    """Values for columns the file lacks, and how to import."""

    source: str | None = None
    retrieved_on: date | None = None
    state: str | None = None
    license_type: str | None = None
    encoding: str = "utf-8-sig"
    dry_run: bool = False
    strict: bool = False


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    path: Path
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    ignored_columns: tuple[str, ...] = ()

    def summary(self) -> str:
        """'inserted 3, updated 1, unchanged 20, rejected 2'."""
        return (
            f"inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {len(self.rejected)}"
        )


# ---------------------------------------------------------------- header
def _header_key(name: str) -> str:
    """'Lic #' -> 'lic number'; 'Licence No.' -> 'license number'; 'EXPIRATION_DATE' -> 'expiration date'."""
    text = name.strip().lower().replace("#", " number ").replace("licence", "license")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"\b(?:no|nbr|num)$", "number", text)


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, aliases in _ALIASES.items():
        index[_header_key(canonical)] = canonical
        for alias in aliases:
            index[_header_key(alias)] = canonical
    return index


def map_columns(header: Sequence[str], options: ImportOptions) -> tuple[dict[str, int], tuple[str, ...]]:
    """Column index of each field the header provides; every problem at once if unusable."""
    index = _alias_index()
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for position, name in enumerate(header):
        canonical = index.get(_header_key(name))
        if canonical is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if canonical in columns:
            problems.append(
                f"columns {header[columns[canonical]]!r} and {name!r} both look like {canonical}; "
                "rename or remove one"
            )
            continue
        columns[canonical] = position
    if "license_number" not in columns:
        problems.append(
            "no licence-number column (expected e.g. 'license_number', 'License Number' or 'Lic #')"
        )
    if "status" not in columns:
        problems.append("no status column (expected e.g. 'status' or 'License Status')")
    if "last_name" not in columns and "full_name" not in columns:
        problems.append("no name column (expected 'last_name' and 'first_name', or 'Name')")
    for name, given in (
        ("state", options.state),
        ("license_type", options.license_type),
        ("source", options.source),
        ("retrieved_on", options.retrieved_on),
    ):
        if name not in columns and given is None:
            flag = "--" + name.replace("_", "-")
            problems.append(f"no {name} column: add one or give {flag} for the whole file")
    if problems:
        raise MalformedFile("; ".join(problems))
    return columns, tuple(ignored)


# ---------------------------------------------------------------- values
@lru_cache(maxsize=65536)
def parse_date(text: str) -> date | None:
    """ISO, US (M/D/YYYY) and spelled-out dates; '' -> None; anything else -> ValueError."""
    value = text.strip().rstrip(".")
    if not value:
        return None
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:  # the canonical format first: fromisoformat is far quicker than strptime
            return date.fromisoformat(value)
        except ValueError:
            pass
    value = re.sub(r"[\s,]+", " ", value)
    # Timestamps exported by spreadsheets: "2026-01-31 00:00:00", "2026-01-31T00:00:00".
    value = re.sub(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(?::\d{2})?$", r"\1", value)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


@lru_cache(maxsize=256)
def normalise_status(text: str) -> str | None:
    """A board's status wording -> one of STATUSES, or None if not recognised."""
    folded = re.sub(r"[^a-z]+", " ", text.lower()).strip()
    return _STATUS_WORDS.get(folded)


@lru_cache(maxsize=512)
def state_code(text: str) -> str | None:
    """'TX', 'tx', 'Texas' -> 'TX' (any two-letter code in any case: this is a data column)."""
    value = text.strip()
    if not value:
        return None
    codes = {state.code for state in load_states()}
    if value.upper() in codes:
        return value.upper()
    return normalize_state(value)


def split_full_name(text: str) -> tuple[str, str]:
    """'Example, Jane A' -> ('Jane A', 'Example'); 'Jane A Example' -> ('Jane A', 'Example')."""
    text = re.sub(r"\s+", " ", text).strip()
    if "," in text:
        last, _, rest = text.partition(",")
        first = rest.split(",")[0]
        return first.strip(), last.strip()
    words = text.split(" ")
    if len(words) == 1:
        return "", words[0]
    return " ".join(words[:-1]), words[-1]


class RowParser:
    """Turns one CSV row into the values of a licence row, or raises RowError."""

    def __init__(self, columns: dict[str, int], width: int, options: ImportOptions, today: date) -> None:
        self._columns = columns
        self._width = width
        self._options = options
        self._today = today

    def _cell(self, row: Sequence[str], name: str) -> str:
        position = self._columns.get(name)
        if position is None or position >= len(row):
            return ""
        return row[position].strip()

    def _date(self, row: Sequence[str], name: str) -> date | None:
        raw = self._cell(row, name)
        try:
            return parse_date(raw)
        except ValueError:
            raise RowError(f"bad date {raw!r} in {name}") from None

    def parse(self, row: Sequence[str]) -> dict[str, Any]:
        if len(row) > self._width:
            raise RowError(f"has {len(row)} fields but the header has {self._width} (check the quoting)")
        number = self._cell(row, "license_number")
        key = licence_number_key(number)
        if not key:
            raise RowError("missing licence number" if not number else f"bad licence number {number!r}")

        raw_state = self._cell(row, "state")
        if raw_state:
            state = state_code(raw_state)
            if state is None:
                raise RowError(f"bad state {raw_state!r}")
        elif self._options.state:
            state = self._options.state
        else:
            raise RowError("missing state")

        raw_status = self._cell(row, "status")
        if not raw_status:
            raise RowError("missing status")
        status = normalise_status(raw_status)
        if status is None:
            raise RowError(f"unknown status {raw_status!r} (expected {', '.join(STATUSES)})")

        first, last = self._cell(row, "first_name"), self._cell(row, "last_name")
        if not last and not first and "full_name" in self._columns:
            first, last = split_full_name(self._cell(row, "full_name"))
        if not name_key(last):
            raise RowError("missing last name")

        license_type = self._cell(row, "license_type") or self._options.license_type
        if not license_type:
            raise RowError("missing license_type")
        source = self._cell(row, "source") or self._options.source
        if not source:
            raise RowError("missing source")

        issue = self._date(row, "issue_date")
        expiration = self._date(row, "expiration_date")
        retrieved = self._date(row, "retrieved_on") or self._options.retrieved_on
        if retrieved is None:
            raise RowError("missing retrieved_on")
        if retrieved > self._today:
            raise RowError(f"retrieved_on {retrieved.isoformat()} is in the future")
        if issue and expiration and issue > expiration:
            raise RowError(
                f"issue_date {issue.isoformat()} is after expiration_date {expiration.isoformat()}"
            )

        city = self._cell(row, "city") or None
        values: dict[str, Any] = {
            "state": state,
            "license_number": number,
            "number_key": key,
            "license_type": license_type,
            "profession": profession_for(license_type),
            "first_name": first,
            "last_name": last,
            "first_key": name_key(first),
            "last_key": name_key(last),
            "city": city,
            "city_key": city_key(city) if city else None,
            "status": status,
            "issue_date": issue,
            "expiration_date": expiration,
            "credentials": self._cell(row, "credentials") or None,
            "national_certification": self._cell(row, "national_certification") or None,
            "source": source,
            "retrieved_on": retrieved,
        }
        for name, limit in MAX_LENGTHS.items():
            value = values.get(name)
            if value is not None and len(value) > limit:
                raise RowError(f"{name} is longer than {limit} characters")
        return values


# ---------------------------------------------------------------- reading
def _sniff_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_records(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record after the header."""
    first_line = handle.readline()
    if not first_line.strip():
        raise MalformedFile("the file is empty or its first line is blank (expected a header)")
    delimiter = _sniff_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter))
    yield 1, header
    reader = csv.reader(handle, delimiter=delimiter)
    previous_end = 1
    for cells in reader:
        start = previous_end + 1
        previous_end = reader.line_num + 1  # +1: the header was read before the reader started
        yield start, cells
