"""The versioned evidence table (data/evidence/expectations.yml): parse, validate, load into SQL.

Validation reports every problem at once (with the row and part it is in) and nothing is
loaded while any remain. Besides the shape of the file it checks what keeps answers honest:

* every treatment x condition pair has exactly one row;
* every text that contains a number names at least one source, and every source exists;
* every figure used by the personal estimate is sourced and appears, as written, in the
  row's "results" text, so the wording and the arithmetic cannot drift apart;
* no text promises a cure or a guarantee ("not a cure" and "no cure" are fine);
* a personal estimate is only allowed on a row with direct evidence.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from actions.store import evidence_models  # noqa: F401  (registers the tables with Base)
from actions.store.database import create_schema, session_scope
from actions.store.evidence_repository import (
    COMMON_PARTS,
    CONDITION_LABELS,
    ESTIMATE_FIGURES,
    EVIDENCE_KINDS,
    GRADES,
    ROW_PARTS,
    SHORT_MAX_WORDS,
    TREATMENT_LABELS,
    EvidenceFigure,
    EvidencePart,
    EvidenceRow,
    EvidenceSource,
    EvidenceTable,
    SqlEvidenceRepository,
)
from actions.store.validation import Checker, SourceFormat, ValidationError, parse_sources, read_yaml

EVIDENCE_DIR = "evidence"
EVIDENCE_FILE = "expectations.yml"
PUBLISHED = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
ROW_FIELDS = {"treatment", "condition", "evidence", "grade", "reviewed", "estimate", *ROW_PARTS}
REQUIRED_ROW_FIELDS = ("treatment", "condition", "evidence", "grade", "reviewed", *ROW_PARTS)
TOP_FIELDS = {"version", "sources", "common", "rows"}
_CURE = re.compile(r"\bcur(?:e|es|ed|ing)\b", re.IGNORECASE)
_GUARANTEE = re.compile(r"\bguarantee", re.IGNORECASE)


class EvidenceError(ValidationError):
    """The evidence file is invalid; the message lists every problem found."""

    heading = "invalid evidence table"


def format_figure(value: float) -> str:
    """How a figure is written in text: 6 -> "6", 3.5 -> "3.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def mentions_number(text: str, value: float) -> bool:
    """Whether ``text`` contains the figure as a whole number ("5" not inside "15" or "3.5")."""
    written = re.escape(format_figure(value))
    return re.search(rf"(?<![\d.,]){written}(?!\d|[.,]\d)", text) is not None


def wording_problems(text: str) -> list[str]:
    """Promises the bot must never make (see the project's safety rules)."""
    problems = []
    for match in _CURE.finditer(text):
        before = text[max(0, match.start() - 8) : match.start()].lower()
        if not before.endswith(("not a ", "no ")):
            problems.append(f"promises a cure ({text[max(0, match.start() - 20) : match.end()]!r})")
    if _GUARANTEE.search(text):
        problems.append("uses 'guarantee'")
    return problems


def _published_problem(value: str) -> str | None:
    match = PUBLISHED.match(value)
    if match is None:
        return "published must be YYYY, YYYY-MM or YYYY-MM-DD"
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        published = date(year, month, day)
    except ValueError:
        return f"published {value!r} is not a real date"
    if published > date.today():
        return f"published {value!r} is in the future"
    return None


# Sources are listed once at the top and cited by id; published is as precise as the source.
SOURCE_FORMAT = SourceFormat(
    key="id", key_lengths=(3, 60), dated="published", date_problem=_published_problem
)


def _parse_part(name: str, check: Checker, sources: dict[str, EvidenceSource]) -> EvidencePart | None:
    item = check.item
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        check.problem("expected a mapping with a non-empty 'text' and a 'sources' list")
        return None
    check.unknown(("text", "sources"))
    text = " ".join(item["text"].split())
    ids = item.get("sources")
    if ids is None or not isinstance(ids, list):
        check.problem("'sources' must be a list (empty if the text cites nothing)", "sources")
        ids = []
    ids = [str(source_id) for source_id in ids]
    for source_id in ids:
        if source_id not in sources:
            check.problem(f"unknown source {source_id!r}", "sources")
    if len(set(ids)) != len(ids):
        check.problem("a source is listed twice", "sources")
    if re.search(r"\d", text) and not ids:
        check.problem("the text contains a number but names no source for it", "text")
    for problem in wording_problems(text):
        check.problem(problem, "text")
    return EvidencePart(
        name=name,
        text=text,
        sources=tuple(dict.fromkeys(sources[source_id] for source_id in ids if source_id in sources)),
    )


def _parse_estimate(
    check: Checker, results: EvidencePart | None, sources: dict[str, EvidenceSource]
) -> tuple[str | None, tuple[EvidenceFigure, ...]]:
    item = check.item
    if not isinstance(item, dict) or not item.get("comparison") or not isinstance(item.get("figures"), dict):
        check.problem("expected 'comparison' and a 'figures' mapping")
        return None, ()
    figures: dict[str, EvidenceFigure] = {}
    given = item["figures"]
    missing = [name for name in ESTIMATE_FIGURES if name not in given]
    unknown = sorted(set(given) - set(ESTIMATE_FIGURES))
    if missing:
        check.problem(f"missing figure(s) {', '.join(missing)}", "figures")
    if unknown:
        check.problem(f"unknown figure(s) {', '.join(unknown)}", "figures")
    for name in ESTIMATE_FIGURES:
        figure = check.child(given.get(name), name)
        if figure.item is None:
            continue
        value = figure.item.get("value") if isinstance(figure.item, dict) else None
        source_id = str(figure.item.get("source")) if isinstance(figure.item, dict) else ""
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            figure.problem("value must be a positive number")
            continue
        if source_id not in sources:
            figure.problem(f"unknown source {source_id!r}")
            continue
        if results is not None and not mentions_number(results.text, value):
            figure.problem(
                f"{format_figure(value)} does not appear in the results text, "
                "so the answer would not show where it comes from"
            )
        figures[name] = EvidenceFigure(name=name, value=float(value), source=sources[source_id])
    if len(figures) == len(ESTIMATE_FIGURES):
        baseline, treated, comparison, responders, max_baseline = (
            figures[name].value for name in ESTIMATE_FIGURES
        )
        if not treated < comparison <= baseline:
            check.problem("expected treated_days < comparison_days <= baseline_days")
        if responders > 100:
            check.problem("responder_percent must be at most 100")
        if max_baseline < baseline:
            check.problem("max_baseline_days must be at least baseline_days")
    # Sorted by name, as the database returns them.
    return str(item["comparison"]).strip(), tuple(figures[name] for name in sorted(figures))


def _parse_row(
    check: Checker, sources: dict[str, EvidenceSource], common: tuple[EvidencePart, ...]
) -> EvidenceRow | None:
    if not check.is_mapping() or not check.missing(REQUIRED_ROW_FIELDS):
        return None
    item = check.item
    treatment, condition = str(item["treatment"]), str(item["condition"])
    check.named(f"{treatment} x {condition}")
    check.unknown(ROW_FIELDS)
    if treatment not in TREATMENT_LABELS:
        check.problem(f"unknown treatment {treatment!r}", "treatment")
    if condition not in CONDITION_LABELS:
        check.problem(f"unknown condition {condition!r}", "condition")
    evidence, grade = str(item["evidence"]), str(item["grade"])
    if evidence not in EVIDENCE_KINDS:
        check.problem(f"evidence must be one of {', '.join(EVIDENCE_KINDS)}", "evidence")
    if grade not in GRADES:
        check.problem(f"grade must be one of {', '.join(GRADES)}", "grade")
    if evidence == "none" and grade != "no_direct_evidence":
        check.problem("a row without evidence must have grade no_direct_evidence", "grade")
    reviewed = check.date_value("reviewed", label="reviewed date")
    if reviewed is None:
        return None
    parts = [_parse_part(name, check.child(item[name], name), sources) for name in ROW_PARTS]
    comparison: str | None = None
    figures: tuple[EvidenceFigure, ...] = ()
    if item.get("estimate") is not None:
        if evidence != "direct":
            check.problem("a personal estimate needs direct evidence for this pair", "estimate")
        comparison, figures = _parse_estimate(
            check.child(item["estimate"], "estimate"), parts[ROW_PARTS.index("results")], sources
        )
    if any(part is None for part in parts):
        return None
    short = parts[ROW_PARTS.index("short")]
    if short is not None and len(short.text.split()) > SHORT_MAX_WORDS:
        check.child(item["short"], "short").problem(
            f"{len(short.text.split())} words; at most {SHORT_MAX_WORDS}"
        )
    row = EvidenceRow(
        treatment=treatment,
        condition=condition,
        evidence=evidence,
        grade=grade,
        parts=tuple(part for part in parts if part is not None) + common,
        figures=figures,
        estimate_comparison=comparison,
        reviewed_on=reviewed,
    )
    if not any(part.sources for part in row.parts[: len(ROW_PARTS)]):
        check.problem("the row cites no source at all")
    return row


def _read_sources(items: Any, problems: list[str]) -> dict[str, EvidenceSource]:
    if not isinstance(items, list) or not items:
        problems.append("sources: expected a non-empty list")
        return {}
    sources = parse_sources(
        items, SOURCE_FORMAT, lambda index, item: Checker(problems, item, f"source {index + 1}")
    )
    return {
        key: EvidenceSource(id=key, title=source.title, url=source.url or "", published=source.dated)
        for key, source in sources.items()
    }


def read_evidence_table(directory: Path) -> EvidenceTable:
    """Parse and validate ``directory/expectations.yml``; raise EvidenceError listing every problem."""
    path = directory / EVIDENCE_FILE
    if not path.is_file():
        raise EvidenceError([f"evidence file not found: {path}"])
    problems: list[str] = []
    parsed = read_yaml(path, problems)
    if parsed is None:
        raise EvidenceError(problems)
    data = parsed[0]
    if not isinstance(data, dict):
        raise EvidenceError([f"{path.name}: expected a mapping with version, sources, common and rows"])
    Checker(problems, data, path.name).unknown(TOP_FIELDS)
    version = str(data.get("version") or "")
    if not version:
        problems.append(f"{path.name}: missing version")
    sources = _read_sources(data.get("sources"), problems)
    common_data: dict[str, Any] = data["common"] if isinstance(data.get("common"), dict) else {}
    if set(common_data) != set(COMMON_PARTS):
        problems.append(f"common: expected exactly the part(s) {', '.join(COMMON_PARTS)}")
    common_check = Checker(problems, common_data, "common")
    common = tuple(
        part
        for part in (
            _parse_part(name, common_check.child(common_data.get(name), name), sources)
            for name in COMMON_PARTS
        )
        if part is not None
    )
    rows: list[EvidenceRow] = []
    if not isinstance(data.get("rows"), list):
        problems.append(f"{path.name}: expected a 'rows' list")
    for index, item in enumerate(data.get("rows") or []):
        row = _parse_row(Checker(problems, item, f"row {index + 1}"), sources, common)
        if row is not None:
            rows.append(row)
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        seen[(row.treatment, row.condition)] = seen.get((row.treatment, row.condition), 0) + 1
    problems.extend(f"duplicate row for {t} x {c}" for (t, c), count in sorted(seen.items()) if count > 1)
    problems.extend(
        f"missing row for {treatment} x {condition}"
        for treatment in TREATMENT_LABELS
        for condition in CONDITION_LABELS
        if (treatment, condition) not in seen
    )
    if problems:
        raise EvidenceError(problems)
    return EvidenceTable(version=version, sources=tuple(sources.values()), rows=tuple(rows))


def load_evidence_data(data_dir: Path, engine: Engine | None = None) -> str:
    """Validate data/evidence, then replace the evidence tables in one transaction.

    ``data_dir`` is the project's data folder (the loaders in actions/store/loaders.py
    all take it). Returns a one-line summary for `make load-content`.
    """
    table = read_evidence_table(data_dir / EVIDENCE_DIR)
    create_schema(engine)
    with session_scope(engine) as session, session.begin():
        SqlEvidenceRepository(session).replace_all(table)
    return (
        f"{len(table.rows)} treatment x condition rows, {len(table.sources)} sources "
        f"(version {table.version})"
    )
