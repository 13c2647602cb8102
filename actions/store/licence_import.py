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
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from actions.store.database import create_schema, display_url
from actions.store.licence_csv import (
    ImportOptions,
    ImportReport,
    MalformedFile,
    Rejection,
    RowError,
    RowParser,
    map_columns,
    parse_date,
    read_records,
    state_code,
)
from actions.store.licence_models import VALUE_COLUMNS, LicenceRow

DEMO_FILE = Path("licences") / "demo_licences.csv"
DEMO_NUMBER_PREFIX = "DEMO-"
BATCH_SIZE = 5000

TABLE = LicenceRow.__table__


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
    records = read_records(handle)
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
