"""Import a state board's licence export (CSV) into the licence table.

    python -m actions.store.licence_import FILE.csv [options]     (make import-licences CSV=FILE.csv)
    python -m actions.store.licence_import --remove-demo          delete the fictional demo rows

The file may use the project's canonical header

    state,license_number,license_type,first_name,last_name,city,status,issue_date,
    expiration_date,credentials,source,retrieved_on

(plus an optional national_certification column) or the column names boards commonly
use, in any case and order: "License Number", "Lic #", "Expiration Date", "Licensee Name"
("Last, First"), ... Commas, semicolons, tabs or pipes as separators; UTF-8 (with or
without BOM) unless ``--encoding`` says otherwise. Columns a board export lacks can be
given once for the whole file: ``--source``, ``--retrieved-on``, ``--state``, ``--license-type``.

Rows are upserted by (state, licence number), the number compared without spaces,
dashes or case, so importing the same file twice changes nothing. Every bad row is
reported with its line number and the reason and the good rows are imported; a file
that cannot be read as a licence export (no licence-number column, wrong encoding,
broken CSV) is refused as a whole. Everything happens in one transaction: an error
part-way leaves the database exactly as it was. Exit status: 0 imported, 1 refused.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from actions.store.database import create_schema, display_url
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
    VALUE_COLUMNS,
    LicenceRow,
    city_key,
    licence_number_key,
    name_key,
    profession_for,
)
from lexicon import load_states, normalize_state

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

DEMO_FILE = Path("licences") / "demo_licences.csv"
DEMO_NUMBER_PREFIX = "DEMO-"
BATCH_SIZE = 5000

TABLE = LicenceRow.__table__

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


def _records(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
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


# ---------------------------------------------------------------- writing
def _fingerprint(values: Sequence[Any]) -> int:
    return hash(tuple(values))


class _Writer:
    """Batches writes inside the caller's transaction; knows which keys already exist.

    New licences go in with a plain multi-row INSERT (psycopg2's execute_values on
    PostgreSQL, executemany on SQLite), changed ones with an UPDATE by (state, number):
    the fast path for the common case, and the same SQL on every database. The keys are
    read once per state at the start, so two imports of the same state at the same time
    are not supported: the second one fails on the unique key and writes nothing.
    """

    def __init__(self, connection: Connection, dry_run: bool) -> None:
        self._connection = connection
        self._dry_run = dry_run
        self._existing: dict[str, dict[str, int]] = {}
        self._new: list[dict[str, Any]] = []
        self._changed: list[dict[str, Any]] = []
        self._update = (
            update(TABLE)
            .where(TABLE.c.state == bindparam("k_state"), TABLE.c.number_key == bindparam("k_number"))
            .values({name: bindparam(name) for name in VALUE_COLUMNS if name not in ("state", "number_key")})
        )

    def _known(self, state: str) -> dict[str, int]:
        """number_key -> fingerprint of the stored values, loaded once per state in one query."""
        known = self._existing.get(state)
        if known is None:
            columns = [TABLE.c[name] for name in VALUE_COLUMNS]
            result = self._connection.execute(select(*columns).where(TABLE.c.state == state))
            key_position = VALUE_COLUMNS.index("number_key")
            known = {row[key_position]: _fingerprint(row) for row in result}
            self._existing[state] = known
        return known

    def add(self, values: dict[str, Any]) -> str:
        """Queue one row; return 'inserted', 'updated' or 'unchanged'."""
        known = self._known(values["state"])
        fingerprint = _fingerprint([values[name] for name in VALUE_COLUMNS])
        previous = known.get(values["number_key"])
        if previous == fingerprint:
            return "unchanged"
        known[values["number_key"]] = fingerprint
        if previous is None:
            self._new.append(values)
        else:
            self._changed.append({**values, "k_state": values["state"], "k_number": values["number_key"]})
        if len(self._new) + len(self._changed) >= BATCH_SIZE:
            self.flush()
        return "inserted" if previous is None else "updated"

    def flush(self) -> None:
        if not self._dry_run:
            if self._new:
                self._connection.execute(insert(TABLE), self._new)
            if self._changed:
                self._connection.execute(self._update, self._changed)
        self._new, self._changed = [], []


# ---------------------------------------------------------------- import
def import_licences(
    path: Path,
    engine: Engine,
    options: ImportOptions | None = None,
    today: date | None = None,
) -> ImportReport:
    """Import one CSV file in one transaction; raise MalformedFile (nothing written) if unusable."""
    options = options or ImportOptions()
    today = today or date.today()
    started = time.perf_counter()
    report = ImportReport(path=Path(path), dry_run=options.dry_run)
    if not Path(path).is_file():
        raise MalformedFile(f"{path}: no such file")
    create_schema(engine)
    try:
        with open(path, encoding=options.encoding, newline="") as handle, engine.connect() as connection:
            transaction = connection.begin()
            try:
                _run(handle, connection, options, today, report)
                if options.strict and report.rejected:
                    shown = "; ".join(str(rejection) for rejection in report.rejected[:5])
                    raise MalformedFile(
                        f"{len(report.rejected)} rejected row(s) and --strict was given, "
                        f"so nothing was imported: {shown}"
                    )
                if options.dry_run:
                    transaction.rollback()
                else:
                    transaction.commit()
            except BaseException:
                transaction.rollback()
                raise
    except UnicodeDecodeError as error:
        raise MalformedFile(
            f"{path}: not valid {options.encoding} text ({error.reason}); "
            "board exports from Windows often need --encoding cp1252"
        ) from None
    except csv.Error as error:
        raise MalformedFile(f"{path}: not a readable CSV file ({error})") from None
    report.seconds = time.perf_counter() - started
    return report


def _run(
    handle: TextIO, connection: Connection, options: ImportOptions, today: date, report: ImportReport
) -> None:
    records = _records(handle)
    _, header = next(records)
    columns, ignored = map_columns(header, options)
    report.ignored_columns = ignored
    parser = RowParser(columns, len(header), options, today)
    writer = _Writer(connection, options.dry_run)
    first_line: dict[tuple[str, str], int] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        try:
            values = parser.parse(cells)
            identity = (values["state"], values["number_key"])
            if identity in first_line:
                raise RowError(f"same licence as line {first_line[identity]} ({values['license_number']})")
            first_line[identity] = line
        except RowError as error:
            report.rejected.append(Rejection(line, str(error)))
            continue
        outcome = writer.add(values)
        setattr(report, outcome, getattr(report, outcome) + 1)
    writer.flush()


# ---------------------------------------------------------------- demo data
def load_demo_licences(data_dir: Path, engine: Engine) -> str:
    """Loader for `make load-content`: the FICTIONAL demo licences, unless real data is present."""
    create_schema(engine)
    with engine.connect() as connection:
        real = connection.execute(
            select(func.count())
            .select_from(TABLE)
            .where(~TABLE.c.license_number.like(f"{DEMO_NUMBER_PREFIX}%"))
        ).scalar_one()
    if real:
        return f"demo licences skipped ({real} imported licences present)"
    report = import_licences(data_dir / DEMO_FILE, engine, ImportOptions(strict=True))
    return f"{report.rows} FICTIONAL demo licences ({report.summary()})"


def remove_demo_licences(engine: Engine) -> int:
    """Delete the demo rows (numbers starting DEMO-); return how many."""
    create_schema(engine)
    with engine.begin() as connection:
        result = connection.execute(
            delete(TABLE).where(TABLE.c.license_number.like(f"{DEMO_NUMBER_PREFIX}%"))
        )
        return int(result.rowcount or 0)


# ---------------------------------------------------------------- command line
def _date_option(text: str) -> date:
    try:
        value = parse_date(text)
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)")
    return value


def _state_option(text: str) -> str:
    code = state_code(text)
    if code is None:
        raise argparse.ArgumentTypeError(f"not a US state: {text!r}")
    return code


def _print_report(report: ImportReport, out: Callable[[str], None]) -> None:
    out(f"inserted:  {report.inserted}")
    out(f"updated:   {report.updated}")
    out(f"unchanged: {report.unchanged}")
    out(f"rejected:  {len(report.rejected)}")
    for rejection in report.rejected:
        out(f"  {rejection}")
    if report.ignored_columns:
        out(f"ignored columns: {', '.join(report.ignored_columns)}")
    suffix = " (dry run: nothing written)" if report.dry_run else ""
    out(f"{report.rows} rows read in {report.seconds:.2f} s{suffix}")


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Import one file; print the counts and every rejected row; exit 1 if the file is refused."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.store.licence_import", description=__doc__.splitlines()[0]
    )
    parser.add_argument("csv", nargs="?", type=Path, help="the board export (CSV)")
    parser.add_argument(
        "--source", help="data source for rows without one, e.g. 'Texas Medical Board export'"
    )
    parser.add_argument("--retrieved-on", type=_date_option, help="retrieval date for rows without one")
    parser.add_argument("--state", type=_state_option, help="state for rows without one (USPS code or name)")
    parser.add_argument("--license-type", help="licence type for rows without one")
    parser.add_argument("--encoding", default="utf-8-sig", help="text encoding (default utf-8, BOM allowed)")
    parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
    parser.add_argument("--remove-demo", action="store_true", help="delete the fictional DEMO- licences")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the project's SQLite file")
    args = parser.parse_args(argv)
    if args.csv is None and not args.remove_demo:
        parser.error("give a CSV file (or --remove-demo)")

    from actions.settings import get_settings
    from actions.store.database import get_engine

    url = args.database_url or get_settings().database_url
    engine = get_engine(url)
    try:
        if args.remove_demo:
            out(f"removed {remove_demo_licences(engine)} demo licences from {display_url(url)}")
            if args.csv is None:
                return 0
        out(f"importing {args.csv} into {display_url(url)}")
        options = ImportOptions(
            source=args.source,
            retrieved_on=args.retrieved_on,
            state=args.state,
            license_type=args.license_type,
            encoding=args.encoding,
            dry_run=args.dry_run,
            strict=args.strict,
        )
        report = import_licences(args.csv, engine, options)
    except MalformedFile as error:
        sys.stderr.write(f"refused, nothing imported: {error}\n")
        return 1
    except LookupError as error:  # unknown --encoding
        sys.stderr.write(f"refused, nothing imported: {error}\n")
        return 1
    except SQLAlchemyError as error:
        sys.stderr.write(f"database error, nothing imported: {type(error).__name__}: {error}\n")
        return 1
    _print_report(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
