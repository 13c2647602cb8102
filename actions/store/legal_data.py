"""Versioned state legality data (data/legal/*.yml): parse, validate, load into SQL.

Every problem is reported with its file and line, and nothing is loaded unless all
three files are valid. Loading replaces the legality tables in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine

from actions.settings import legal_max_age_months
from actions.store.database import create_schema, session_scope
from actions.store.legal_repository import (
    DATE_PRECISIONS,
    DRY_NEEDLING_STATUSES,
    PRACTITIONER_STATUSES,
    UNCLEAR,
    AcupunctureLicensure,
    DryNeedlingRule,
    LegalDataset,
    LegalSource,
    OtherPractitioner,
    SqlLegalRepository,
)
from actions.store.validation import (
    Checker,
    Lines,
    SourceFormat,
    ValidationError,
    item_lines,
    lines_at,
    parse_sources,
    read_yaml,
)
from lexicon import LEXICON_DIR, load_states

SOURCES_FILE = "sources.yml"
DRY_NEEDLING_FILE = "dry_needling.yml"
ACUPUNCTURE_FILE = "acupuncture_licensure.yml"

OTHER_PRACTITIONERS = (
    "chiropractor",
    "acupuncturist",
    "physician",
    "athletic_trainer",
    "occupational_therapist",
    "physical_therapist_assistant",
)
# Sources are listed in sources.yml and cited by key; url is null where no complete address is known.
SOURCE_FORMAT = SourceFormat(key="key", key_lengths=(2, 80), dated="dated", url_optional=True)
Record = TypeVar("Record", DryNeedlingRule, AcupunctureLicensure)

_DRY_NEEDLING_FIELDS = (
    "state",
    "name",
    "status",
    "summary",
    "conditions",
    "others",
    "pending",
    "caveats",
    "conflict",
    "board",
    "board_url",
    "sources",
    "source_date",
    "source_date_precision",
    "verified_on",
)
# Optional in dry_needling.yml: most rows need no "check with the board first" reason.
_DRY_NEEDLING_OPTIONAL = ("check_first",)
_OTHER_FIELDS = ("who", "status", "verified", "note")
_ACUPUNCTURE_FIELDS = (
    "state",
    "name",
    "licensed",
    "title",
    "board",
    "lookup_url",
    "lookup_hint",
    "exam",
    "summary",
    "caveats",
    "sources",
    "source_date",
    "source_date_precision",
    "verified_on",
)


class LegalDataError(ValidationError):
    """The legality files are invalid; the message lists every problem found."""

    heading = "invalid legal data"


@dataclass(frozen=True)
class StaleRow:
    """A row whose verification date is older than the allowed age."""

    table: str
    state_code: str
    state_name: str
    verified_on: date


def _read_yaml(path: Path, list_key: str, problems: list[str]) -> tuple[Any, list[Lines]]:
    """The parsed file and the line numbers of its list items."""
    if not path.exists():
        problems.append(f"{path.name}: file missing from {path.parent}")
        return None, []
    parsed = read_yaml(path, problems, pure=False)
    if parsed is None:
        return None, []
    data, text = parsed
    return data, item_lines(text, list_key)


def _top_level(data: Any, filename: str, list_key: str, problems: list[str]) -> tuple[str, list[Any]]:
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        problems.append(f"{filename}:1: expected a mapping with a version and a '{list_key}' list")
        return "", []
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(f'{filename}:1: version must be text, e.g. "2026-11-21"')
        version = ""
    return str(version), list(data[list_key])


def _read_sources(
    items: list[Any], lines: list[Lines], problems: list[str], today: date
) -> dict[str, LegalSource]:
    def checker(index: int, item: Any) -> Checker:
        return Checker(
            problems,
            item,
            f"source {index + 1}",
            filename=SOURCES_FILE,
            lines=lines_at(lines, index),
            today=today,
        )

    return {
        key: LegalSource(key=key, title=source.title, url=source.url, dated=source.dated)
        for key, source in parse_sources(items, SOURCE_FORMAT, checker).items()
    }


@dataclass(frozen=True)
class _Common:
    """Fields both tables share."""

    state_code: str
    state_name: str
    sources: tuple[LegalSource, ...]
    source_date: date | None
    source_date_precision: str
    verified_on: date

    def record_fields(self) -> dict[str, Any]:
        """Keyword arguments for either table's record."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _row_check(
    filename: str, item: Any, index: int, problems: list[str], today: date, lines: Lines
) -> Checker:
    """A checker for one jurisdiction row, named by its state (its position until it has one)."""
    label = str(item.get("state")) if isinstance(item, dict) and item.get("state") else f"row {index + 1}"
    return Checker(problems, item, label, filename=filename, lines=lines, today=today)


def _row_common(check: Checker, sources: dict[str, LegalSource], states: dict[str, str]) -> _Common | None:
    """Fields both tables share: state, name, sources and the two dates."""
    code, name = check.item.get("state"), check.item.get("name")
    ok = True
    if code not in states:
        check.problem(f"state must be a USPS code of the 50 states or DC, got {code!r}", "state")
        ok = False
    elif name != states[code]:
        check.problem(f"name must be {states[code]!r} for {code}, got {name!r}", "name")
    keys = check.item.get("sources")
    cited: list[LegalSource] = []
    if not isinstance(keys, list) or not keys:
        check.problem("sources must list at least one source key", "sources")
        ok = False
    else:
        for key in keys:
            if key not in sources:
                check.problem(f"unknown source key {key!r} (not in {SOURCES_FILE})", "sources")
                ok = False
            elif sources[key] in cited:
                check.problem(f"source {key!r} cited twice", "sources")
            else:
                cited.append(sources[key])
    precision = check.choice("source_date_precision", DATE_PRECISIONS)
    source_date = check.date_value("source_date", optional=True)
    verified_on = check.date_value("verified_on")
    if precision == "undated" and source_date is not None:
        check.problem("source_date must be null when source_date_precision is undated", "source_date")
    if precision not in (None, "undated") and source_date is None:
        check.problem(f"source_date is required when source_date_precision is {precision}", "source_date")
    if source_date and precision == "month" and source_date.day != 1:
        check.problem("a month-precision source_date must be the first day of the month", "source_date")
    if source_date and precision in ("year", "approx") and (source_date.month, source_date.day) != (1, 1):
        check.problem(f"a {precision}-precision source_date must be 1 January", "source_date")
    if source_date and verified_on and source_date > verified_on:
        check.problem("source_date is after verified_on", "source_date")
    if not ok or precision is None or verified_on is None:
        return None
    return _Common(
        state_code=str(code),
        state_name=states[str(code)],
        sources=tuple(cited),
        source_date=source_date,
        source_date_precision=precision,
        verified_on=verified_on,
    )


def _parse_others(check: Checker) -> tuple[OtherPractitioner, ...]:
    value = check.item.get("others")
    if value is None:
        return ()
    if not isinstance(value, list):
        check.problem("others must be a list", "others")
        return ()
    others: list[OtherPractitioner] = []
    for index, entry in enumerate(value):
        start = check.lines.get(f"others#{index + 1}", check.line("others"))
        sub = check.child(entry, f"others {index + 1}", lines={"": start})
        if not sub.fields(_OTHER_FIELDS, _OTHER_FIELDS):
            continue
        who = sub.choice("who", OTHER_PRACTITIONERS)
        status = sub.choice("status", PRACTITIONER_STATUSES)
        verified = sub.flag("verified")
        note = sub.text("note", sentence=True)
        if who and status and verified is not None and note:
            if any(o.practitioner == who for o in others):
                sub.problem(f"{who} listed twice", "who")
            others.append(OtherPractitioner(practitioner=who, status=status, verified=verified, note=note))
    return tuple(others)


def _dry_needling_fields(check: Checker) -> dict[str, Any] | None:
    """What only a dry needling row has (None when a required part is invalid)."""
    status = check.choice("status", DRY_NEEDLING_STATUSES)
    summary = check.text("summary", sentence=True)
    conflict = check.text("conflict", optional=True, sentence=True)
    check_first = check.text("check_first", optional=True, sentence=True)
    caveats = check.texts("caveats", sentence=True)
    if status == UNCLEAR and not (conflict or caveats):
        check.problem("an unclear status needs a conflict or caveats explaining why", "status")
    conditions = check.texts("conditions")
    others = _parse_others(check)
    pending = check.texts("pending")
    board = check.text("board", optional=True)
    board_url = check.url("board_url")
    if status is None or summary is None:
        return None
    return {
        "status": status,
        "summary": summary,
        "conditions": conditions,
        "others": others,
        "pending": pending,
        "caveats": caveats,
        "conflict": conflict,
        "board": board,
        "board_url": board_url,
        "check_first": check_first,
    }


def _acupuncture_fields(check: Checker) -> dict[str, Any] | None:
    """What only an acupuncture licensure row has (None when a required part is invalid)."""
    licensed = check.flag("licensed")
    title = check.text("title", optional=True)
    board = check.text("board", optional=True)
    if licensed and not (title and board):
        check.problem("a licensing state needs a title and a board", "licensed")
    if licensed is False and (title or board):
        check.problem("a state without a licence has no title or board (use null)", "licensed")
    lookup_url = check.url("lookup_url")
    lookup_hint = check.text("lookup_hint")
    exam = check.text("exam")
    notes = check.text("summary", sentence=True)
    caveats = check.texts("caveats", sentence=True)
    if licensed is None or lookup_hint is None or exam is None or notes is None:
        return None
    return {
        "licensed": licensed,
        "licensed_title": title,
        "board_name": board,
        "lookup_url": lookup_url,
        "lookup_hint": lookup_hint,
        "exam": exam,
        "notes": notes,
        "caveats": caveats,
    }


@dataclass(frozen=True)
class _Table(Generic[Record]):
    """One legality file: its fields, what only its rows have, and its record type."""

    filename: str
    allowed: tuple[str, ...]
    required: tuple[str, ...]
    own_fields: Callable[[Checker], dict[str, Any] | None]
    record: Callable[..., Record]


_DRY_NEEDLING = _Table(
    DRY_NEEDLING_FILE,
    _DRY_NEEDLING_FIELDS + _DRY_NEEDLING_OPTIONAL,
    _DRY_NEEDLING_FIELDS,
    _dry_needling_fields,
    DryNeedlingRule,
)
_ACUPUNCTURE = _Table(
    ACUPUNCTURE_FILE, _ACUPUNCTURE_FIELDS, _ACUPUNCTURE_FIELDS, _acupuncture_fields, AcupunctureLicensure
)


def _parse_rows(
    table: _Table[Record],
    items: list[Any],
    lines: list[Lines],
    sources: dict[str, LegalSource],
    states: dict[str, str],
    problems: list[str],
    today: date,
) -> list[Record]:
    """Every valid row of one file: the fields both tables share, then the table's own."""
    records = []
    for index, item in enumerate(items):
        check = _row_check(table.filename, item, index, problems, today, lines_at(lines, index))
        if not check.fields(table.allowed, table.required):
            continue
        common = _row_common(check, sources, states)
        own = table.own_fields(check)
        if common is not None and own is not None:
            records.append(table.record(**common.record_fields(), **own))
    return records


def _check_coverage(filename: str, codes: list[str], states: dict[str, str], problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for code in codes:
        seen[code] = seen.get(code, 0) + 1
    problems.extend(f"{filename}: {code} appears {n} times" for code, n in sorted(seen.items()) if n > 1)
    missing = sorted(set(states) - set(seen))
    if missing:
        problems.append(f"{filename}: no row for {', '.join(missing)}")


def _state_names(data_dir: Path) -> dict[str, str]:
    lexicon = data_dir / "lexicon"
    states = load_states(lexicon if (lexicon / "us_states.yml").exists() else LEXICON_DIR)
    return {state.code: state.name for state in states}


def read_legal_data(data_dir: Path, today: date | None = None) -> LegalDataset:
    """Parse and validate ``data_dir/legal``; raise LegalDataError listing every problem."""
    today = today or date.today()
    directory = data_dir / "legal"
    problems: list[str] = []
    states = _state_names(data_dir)

    raw_sources, source_lines = _read_yaml(directory / SOURCES_FILE, "sources", problems)
    raw_dry_needling, dn_lines = _read_yaml(directory / DRY_NEEDLING_FILE, "states", problems)
    raw_acupuncture, acu_lines = _read_yaml(directory / ACUPUNCTURE_FILE, "states", problems)
    if problems:
        raise LegalDataError(problems)

    _, source_items = _top_level(raw_sources, SOURCES_FILE, "sources", problems)
    sources = _read_sources(source_items, source_lines, problems, today)
    dn_version, dn_items = _top_level(raw_dry_needling, DRY_NEEDLING_FILE, "states", problems)
    acu_version, acu_items = _top_level(raw_acupuncture, ACUPUNCTURE_FILE, "states", problems)

    dry_needling = _parse_rows(_DRY_NEEDLING, dn_items, dn_lines, sources, states, problems, today)
    acupuncture = _parse_rows(_ACUPUNCTURE, acu_items, acu_lines, sources, states, problems, today)
    _check_coverage(
        DRY_NEEDLING_FILE, [str(i.get("state")) for i in dn_items if isinstance(i, dict)], states, problems
    )
    _check_coverage(
        ACUPUNCTURE_FILE, [str(i.get("state")) for i in acu_items if isinstance(i, dict)], states, problems
    )
    cited = {s.key for rule in dry_needling for s in rule.sources}
    cited |= {s.key for row in acupuncture for s in row.sources}
    unused = sorted(set(sources) - cited)
    if unused:
        problems.append(f"{SOURCES_FILE}: source(s) cited by no row: {', '.join(unused)}")
    if problems:
        raise LegalDataError(problems)
    return LegalDataset(
        version=max(dn_version, acu_version),
        sources=tuple(sources.values()),
        dry_needling=tuple(sorted(dry_needling, key=lambda rule: rule.state_name)),
        acupuncture=tuple(sorted(acupuncture, key=lambda row: row.state_name)),
    )


def load_legal_data(data_dir: Path, engine: Engine | None = None) -> str:
    """Validate data/legal, replace the legality tables in one transaction; one-line summary."""
    dataset = read_legal_data(data_dir)
    create_schema(engine)
    with session_scope(engine) as session, session.begin():
        SqlLegalRepository(session).replace_all(dataset)
    oldest_source = dataset.oldest_source_date()
    return (
        f"{len(dataset.dry_needling)} dry needling rows, {len(dataset.acupuncture)} acupuncture licensure "
        f"rows, {len(dataset.sources)} sources (version {dataset.version}; oldest verification "
        f"{dataset.oldest_verified_on().isoformat()}; oldest source "
        f"{oldest_source.isoformat() if oldest_source else 'none'})"
    )


def max_age_months() -> int:
    """How old a row's verification may be before it counts as stale (env LEGAL_MAX_AGE_MONTHS)."""
    return legal_max_age_months()


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_stale(verified_on: date, today: date, months: int) -> bool:
    """True when ``verified_on`` is more than ``months`` months before ``today``."""
    return verified_on < months_before(today, months)


def stale_rows(dataset: LegalDataset, today: date, months: int) -> list[StaleRow]:
    """Every row of either table verified longer ago than ``months`` months."""
    rows: list[StaleRow] = []
    for table, items in (("dry_needling", dataset.dry_needling), ("acupuncture", dataset.acupuncture)):
        rows.extend(
            StaleRow(table, item.state_code, item.state_name, item.verified_on)
            for item in items
            if is_stale(item.verified_on, today, months)
        )
    return rows
