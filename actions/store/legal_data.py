"""Versioned state legality data (data/legal/*.yml): parse, validate, load into SQL.

Every problem is reported with its file and line, and nothing is loaded unless all
three files are valid. Loading replaces the legality tables in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
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
SOURCE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,79}$")

_SOURCE_FIELDS = ("key", "title", "url", "dated")
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


class LegalDataError(ValueError):
    """The legality files are invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid legal data:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class StaleRow:
    """A row whose verification date is older than the allowed age."""

    table: str
    state_code: str
    state_name: str
    verified_on: date


def _is_sentence(text: str) -> bool:
    return (text[0].isupper() or text[0].isdigit()) and text[-1] == "."


Lines = dict[str, int]


def _item_lines(text: str, list_key: str) -> list[Lines]:
    """Line numbers (1-based) of each item of the top-level list ``list_key`` and of its fields.

    The C YAML parser is fast but keeps no positions, so they are read from the text:
    ``{"": <item line>, "<field>": <line>, "<field>#<n>": <line of its n-th entry>}``.
    """
    items: list[Lines] = []
    lines = text.splitlines()
    inside = False
    indent: str | None = None
    field = ""
    entries = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            inside = line.startswith(f"{list_key}:")
            continue
        if not inside:
            continue
        match = re.match(r"^(\s*)- ([A-Za-z_]\w*):", line)
        if match and (indent is None or match.group(1) == indent):
            indent = match.group(1)
            items.append({"": number, match.group(2): number})
            field, entries = match.group(2), 0
            continue
        if not items or indent is None:
            continue
        match = re.match(rf"^{indent}  ([A-Za-z_]\w*):", line)
        if match:
            field, entries = match.group(1), 0
            items[-1][field] = number
            continue
        match = re.match(rf"^{indent}  \s*- ", line)
        if match and field:
            entries += 1
            items[-1][f"{field}#{entries}"] = number
    return items


class _Checker:
    """Collects problems with file and line; reads typed fields from one YAML mapping."""

    def __init__(
        self, problems: list[str], filename: str, item: Any, label: str, today: date, lines: Lines
    ) -> None:
        self.problems = problems
        self.filename = filename
        self.item = item
        self.label = label
        self.today = today
        self.lines = lines

    def line(self, field: str | None = None) -> int:
        if field is not None and field in self.lines:
            return self.lines[field]
        return self.lines.get("", 0)

    def problem(self, message: str, field: str | None = None) -> None:
        self.problems.append(f"{self.filename}:{self.line(field)}: {self.label}: {message}")

    def fields(self, allowed: tuple[str, ...], required: tuple[str, ...]) -> bool:
        if not isinstance(self.item, dict):
            self.problem("must be a mapping")
            return False
        unknown = sorted(set(self.item) - set(allowed))
        if unknown:
            self.problem(f"unknown field(s) {', '.join(map(str, unknown))}", unknown[0])
        missing = [name for name in required if name not in self.item]
        if missing:
            self.problem(f"missing field(s) {', '.join(missing)}")
        return not missing

    def text(self, field: str, *, optional: bool = False, sentence: bool = False) -> str | None:
        value = self.item.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{field} must be non-empty text", field)
            return None
        value = " ".join(value.split())
        if sentence and not _is_sentence(value):
            self.problem(f"{field} must be a sentence (capital letter first, full stop last)", field)
        return value

    def texts(self, field: str, *, sentence: bool = False) -> tuple[str, ...]:
        value = self.item.get(field)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(f"{field} must be a list", field)
            return ()
        result = []
        for index, entry in enumerate(value):
            if not isinstance(entry, str) or not entry.strip():
                self.problem(f"{field} entry {index + 1} must be non-empty text", field)
                continue
            entry = " ".join(entry.split())
            if sentence and not _is_sentence(entry):
                self.problem(f"{field} entry {index + 1} must be a sentence", field)
            result.append(entry)
        return tuple(result)

    def url(self, field: str) -> str | None:
        value = self.item.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith(("https://", "http://")) or " " in value:
            self.problem(f"{field} must be null or an address starting with http(s)://", field)
            return None
        return value

    def choice(self, field: str, choices: tuple[str, ...]) -> str | None:
        value = self.item.get(field)
        if value not in choices:
            self.problem(f"{field} must be one of {', '.join(choices)}, got {value!r}", field)
            return None
        return str(value)

    def flag(self, field: str) -> bool | None:
        value = self.item.get(field)
        if not isinstance(value, bool):
            self.problem(f"{field} must be true or false", field)
            return None
        return value

    def date_value(self, field: str, *, optional: bool = False) -> date | None:
        value = self.item.get(field)
        if value is None and optional:
            return None
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date):
            self.problem(f"{field} must be a date YYYY-MM-DD, got {value!r}", field)
            return None
        if value > self.today:
            self.problem(f"{field} {value.isoformat()} is in the future", field)
        return value


def _read_yaml(path: Path, list_key: str, problems: list[str]) -> tuple[Any, list[Lines]]:
    """The parsed file and the line numbers of its list items."""
    if not path.exists():
        problems.append(f"{path.name}: file missing from {path.parent}")
        return None, []
    text = path.read_text(encoding="utf-8")
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as error:
        problems.append(f"{path.name}: not valid YAML: {error}")
        return None, []
    return data, _item_lines(text, list_key)


def _lines_at(lines: list[Lines], index: int) -> Lines:
    return lines[index] if index < len(lines) else {}


def _top_level(data: Any, filename: str, list_key: str, problems: list[str]) -> tuple[str, list[Any]]:
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        problems.append(f"{filename}:1: expected a mapping with a version and a '{list_key}' list")
        return "", []
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(f'{filename}:1: version must be text, e.g. "2026-11-21"')
        version = ""
    return str(version), list(data[list_key])


def _parse_sources(
    items: list[Any], lines: list[Lines], problems: list[str], today: date
) -> dict[str, LegalSource]:
    sources: dict[str, LegalSource] = {}
    for index, item in enumerate(items):
        key = item.get("key") if isinstance(item, dict) else None
        check = _Checker(
            problems, SOURCES_FILE, item, f"source {key or index + 1}", today, _lines_at(lines, index)
        )
        if not check.fields(_SOURCE_FIELDS, ("key", "title", "url", "dated")):
            continue
        if not isinstance(key, str) or not SOURCE_KEY.match(key):
            check.problem("key must be lower_snake_case", "key")
            continue
        if key in sources:
            check.problem("duplicate key", "key")
            continue
        title, dated = check.text("title"), check.text("dated")
        if title and dated:
            sources[key] = LegalSource(key=key, title=title, url=check.url("url"), dated=dated)
    return sources


@dataclass(frozen=True)
class _Common:
    """Fields both tables share."""

    state_code: str
    state_name: str
    sources: tuple[LegalSource, ...]
    source_date: date | None
    source_date_precision: str
    verified_on: date


def _row_common(check: _Checker, sources: dict[str, LegalSource], states: dict[str, str]) -> _Common | None:
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


def _parse_others(check: _Checker, today: date) -> tuple[OtherPractitioner, ...]:
    value = check.item.get("others")
    if value is None:
        return ()
    if not isinstance(value, list):
        check.problem("others must be a list", "others")
        return ()
    others: list[OtherPractitioner] = []
    for index, entry in enumerate(value):
        start = check.lines.get(f"others#{index + 1}", check.line("others"))
        sub = _Checker(
            check.problems, check.filename, entry, f"{check.label} others {index + 1}", today, {"": start}
        )
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


def _parse_dry_needling(
    item: Any,
    index: int,
    sources: dict[str, LegalSource],
    states: dict[str, str],
    problems: list[str],
    today: date,
    lines: Lines,
) -> DryNeedlingRule | None:
    label = str(item.get("state")) if isinstance(item, dict) and item.get("state") else f"row {index + 1}"
    check = _Checker(problems, DRY_NEEDLING_FILE, item, label, today, lines)
    if not check.fields(_DRY_NEEDLING_FIELDS + _DRY_NEEDLING_OPTIONAL, _DRY_NEEDLING_FIELDS):
        return None
    common = _row_common(check, sources, states)
    status = check.choice("status", DRY_NEEDLING_STATUSES)
    summary = check.text("summary", sentence=True)
    conflict = check.text("conflict", optional=True, sentence=True)
    check_first = check.text("check_first", optional=True, sentence=True)
    caveats = check.texts("caveats", sentence=True)
    if status == UNCLEAR and not (conflict or caveats):
        check.problem("an unclear status needs a conflict or caveats explaining why", "status")
    conditions = check.texts("conditions")
    others = _parse_others(check, today)
    pending = check.texts("pending")
    board = check.text("board", optional=True)
    board_url = check.url("board_url")
    if common is None or status is None or summary is None:
        return None
    return DryNeedlingRule(
        state_code=common.state_code,
        state_name=common.state_name,
        status=status,
        summary=summary,
        conditions=conditions,
        others=others,
        pending=pending,
        caveats=caveats,
        conflict=conflict,
        board=board,
        board_url=board_url,
        sources=common.sources,
        source_date=common.source_date,
        source_date_precision=common.source_date_precision,
        verified_on=common.verified_on,
        check_first=check_first,
    )


def _parse_acupuncture(
    item: Any,
    index: int,
    sources: dict[str, LegalSource],
    states: dict[str, str],
    problems: list[str],
    today: date,
    lines: Lines,
) -> AcupunctureLicensure | None:
    label = str(item.get("state")) if isinstance(item, dict) and item.get("state") else f"row {index + 1}"
    check = _Checker(problems, ACUPUNCTURE_FILE, item, label, today, lines)
    if not check.fields(_ACUPUNCTURE_FIELDS, _ACUPUNCTURE_FIELDS):
        return None
    common = _row_common(check, sources, states)
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
    if common is None or licensed is None or lookup_hint is None or exam is None or notes is None:
        return None
    return AcupunctureLicensure(
        state_code=common.state_code,
        state_name=common.state_name,
        licensed=licensed,
        licensed_title=title,
        board_name=board,
        lookup_url=lookup_url,
        lookup_hint=lookup_hint,
        exam=exam,
        notes=notes,
        caveats=caveats,
        sources=common.sources,
        source_date=common.source_date,
        source_date_precision=common.source_date_precision,
        verified_on=common.verified_on,
    )


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
    sources = _parse_sources(source_items, source_lines, problems, today)
    dn_version, dn_items = _top_level(raw_dry_needling, DRY_NEEDLING_FILE, "states", problems)
    acu_version, acu_items = _top_level(raw_acupuncture, ACUPUNCTURE_FILE, "states", problems)

    dry_needling = [
        rule
        for index, item in enumerate(dn_items)
        if (
            rule := _parse_dry_needling(
                item, index, sources, states, problems, today, _lines_at(dn_lines, index)
            )
        )
        is not None
    ]
    acupuncture = [
        row
        for index, item in enumerate(acu_items)
        if (
            row := _parse_acupuncture(
                item, index, sources, states, problems, today, _lines_at(acu_lines, index)
            )
        )
        is not None
    ]
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
