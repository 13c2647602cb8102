"""Versioned answer content (data/content/faq/*.yml): parse, validate, load into SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from actions.store.database import create_schema, get_engine, session_scope
from actions.store.faq_repository import SqlFaqRepository
from actions.store.models import FaqTopicRow
from actions.store.records import FaqAnswer, Source
from actions.store.validation import Checker, SourceFormat, ValidationError, parse_sources, read_yaml

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,79}$")
TREATMENTS = frozenset(
    {"acupuncture", "electroacupuncture", "dry_needling", "tui_na", "cupping", "moxibustion", "general"}
)
REQUIRED_FIELDS = ("key", "title", "treatment", "aspect", "short", "answer", "sources", "reviewed")
# The short answer is what a phone shows first (issue 20): one or two sentences.
SHORT_MAX_WORDS = 40
# A topic lists its sources in place: a title and an address each.
SOURCE_FORMAT = SourceFormat()


class ContentError(ValidationError):
    """The content files are invalid; the message lists every problem found."""

    heading = "invalid FAQ content"


@dataclass(frozen=True)
class FaqContent:
    """Every answer from the content files, plus the content version."""

    version: str
    answers: tuple[FaqAnswer, ...]

    def keys(self) -> set[str]:
        """All topic keys."""
        return {answer.key for answer in self.answers}


def _parse_topic(check: Checker) -> FaqAnswer | None:
    if not check.is_mapping() or not check.missing(REQUIRED_FIELDS):
        return None
    item = check.item
    key = str(item["key"])
    check.named(key)
    if not KEY_PATTERN.match(key):
        check.problem("key must be lower_snake_case, 3-80 characters", "key")
    short = " ".join(str(item["short"]).split())
    if len(short.split()) > SHORT_MAX_WORDS:
        check.problem(
            f"short has {len(short.split())} words; at most {SHORT_MAX_WORDS} "
            "(one or two sentences that answer the question; the detail goes in answer)",
            "short",
        )
    if short.lstrip().startswith("- "):
        check.problem("short must be a sentence, not a list item", "short")
    if item["treatment"] not in TREATMENTS:
        check.problem(f"unknown treatment {item['treatment']!r}", "treatment")
    reviewed = check.date_value("reviewed", label="reviewed date")
    if reviewed is None:
        return None
    items = item["sources"] if isinstance(item["sources"], list) else []
    if not items:
        check.problem("sources must be a list", "sources")
    sources = parse_sources(
        items, SOURCE_FORMAT, lambda index, source: check.child(source, f"source {index + 1}")
    )
    return FaqAnswer(
        key=key,
        title=str(item["title"]).strip(),
        treatment=str(item["treatment"]),
        aspect=str(item["aspect"]),
        text=str(item["answer"]).strip(),
        sources=tuple(Source(title=s.title, url=s.url or "") for s in sources.values()),
        reviewed_on=reviewed,
        short=short,
    )


def read_faq_content(directory: Path) -> FaqContent:
    """Parse and validate every ``*.yml`` under ``directory/faq``.

    Raises ContentError listing every problem (file, position and key), so a
    member of staff can fix them all in one go; nothing is loaded on error.
    """
    problems: list[str] = []
    answers: list[FaqAnswer] = []
    versions: list[str] = []
    files = sorted((directory / "faq").glob("*.yml"))
    if not files:
        raise ContentError([f"no content files found in {directory / 'faq'}"])
    for path in files:
        parsed = read_yaml(path, problems)
        if parsed is None:
            continue
        data = parsed[0]
        if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
            problems.append(f"{path.name}: expected a mapping with a 'topics' list")
            continue
        versions.append(str(data.get("version", "")))
        for index, item in enumerate(data["topics"]):
            answer = _parse_topic(Checker(problems, item, f"{path.name} topic {index + 1}"))
            if answer is not None:
                answers.append(answer)
    seen: dict[str, int] = {}
    for answer in answers:
        seen[answer.key] = seen.get(answer.key, 0) + 1
    problems.extend(f"duplicate key {key!r}" for key, count in sorted(seen.items()) if count > 1)
    pairs: dict[tuple[str, str], str] = {}
    for answer in answers:
        pair = (answer.treatment, answer.aspect)
        if pair in pairs:
            problems.append(
                f"{answer.key}: treatment/aspect {pair} already used by {pairs[pair]} "
                "(follow-up questions could not tell them apart)"
            )
        pairs[pair] = answer.key
    if problems:
        raise ContentError(problems)
    return FaqContent(version=max(versions), answers=tuple(answers))


def add_short_column(engine: Engine | None = None) -> None:
    """Give a ``faq_topics`` table made before short answers existed its ``short`` column.

    ``create_schema`` only creates missing tables; the load that follows fills the column
    for every row (it replaces them all), so no other migration is needed.
    """
    engine = engine or get_engine()
    if "short" in {column["name"] for column in inspect(engine).get_columns(FaqTopicRow.__tablename__)}:
        return
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {FaqTopicRow.__tablename__} ADD COLUMN short TEXT"))


def load_faq_content(directory: Path, engine: Engine | None = None) -> FaqContent:
    """Validate the content files, then replace the FAQ tables in one transaction."""
    content = read_faq_content(directory)
    create_schema(engine)
    add_short_column(engine)
    with session_scope(engine) as session, session.begin():
        SqlFaqRepository(session).replace_all(content.answers, content.version)
    return content
