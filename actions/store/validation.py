"""One way to validate the content files under data/ (FAQ answers, evidence, legality).

A loader collects every problem, each located by file (and line where known), item and
field, then raises one error listing them all, so staff fix everything in one go and
nothing is loaded while any problem remains. ``Checker`` reads and checks the fields of
one YAML mapping; ``parse_sources`` reads every family's list of cited sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

# Line numbers of one list item: {"": <item line>, "<field>": <line>, "<field>#<n>": <n-th entry>}.
Lines = dict[str, int]


class ValidationError(ValueError):
    """Content files are invalid; the message lists every problem found."""

    heading = "invalid content"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{self.heading}:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def read_yaml(path: Path, problems: list[str], *, pure: bool = True) -> tuple[Any, str] | None:
    """The parsed file and its text; None, with the problem noted, when it is not valid YAML.

    ``pure=False`` uses the C parser: faster, but it keeps no positions (see ``item_lines``).
    """
    text = path.read_text(encoding="utf-8")
    try:
        return YAML(typ="safe", pure=pure).load(text), text
    except YAMLError as error:
        problems.append(f"{path.name}: not valid YAML: {error}")
        return None


def item_lines(text: str, list_key: str) -> list[Lines]:
    """Line numbers (1-based) of each item of the top-level list ``list_key`` and of its fields.

    Read from the text, so the fast C parser can be used: it keeps no positions.
    """
    items: list[Lines] = []
    inside = False
    indent: str | None = None
    field = ""
    entries = 0
    for number, line in enumerate(text.splitlines(), start=1):
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
        if re.match(rf"^{indent}  \s*- ", line) and field:
            entries += 1
            items[-1][f"{field}#{entries}"] = number
    return items


def lines_at(lines: list[Lines], index: int) -> Lines:
    """The line numbers of item ``index`` (none when the text could not be matched)."""
    return lines[index] if index < len(lines) else {}


def is_sentence(text: str) -> bool:
    """Capital letter (or digit) first, full stop last."""
    return (text[0].isupper() or text[0].isdigit()) and text[-1] == "."


class Checker:
    """Notes problems about one YAML mapping (``item``) and reads its typed fields.

    Each problem is ``"<where>: <message>"``; with a ``filename`` the place starts with
    ``"<file>:<line>: "``, the line of the field concerned when ``lines`` knows it.
    """

    def __init__(
        self,
        problems: list[str],
        item: Any,
        where: str,
        *,
        filename: str = "",
        lines: Lines | None = None,
        today: date | None = None,
    ) -> None:
        self.problems = problems
        self.item = item
        self.where = where
        self.filename = filename
        self.lines = lines or {}
        self.today = today or date.today()

    def child(self, item: Any, where: str, lines: Lines | None = None) -> Checker:
        """A checker for a mapping inside this one, placed after this one's ``where``."""
        return Checker(
            self.problems,
            item,
            f"{self.where} {where}",
            filename=self.filename,
            lines=self.lines if lines is None else lines,
            today=self.today,
        )

    def named(self, name: str) -> None:
        """Once the item's key is known, every later problem names it too."""
        self.where = f"{self.where} ({name})"

    def line(self, field: str | None = None) -> int:
        if field is not None and field in self.lines:
            return self.lines[field]
        return self.lines.get("", 0)

    def problem(self, message: str, field: str | None = None) -> None:
        place = f"{self.filename}:{self.line(field)}: {self.where}" if self.filename else self.where
        self.problems.append(f"{place}: {message}")

    def is_mapping(self) -> bool:
        if not isinstance(self.item, dict):
            self.problem("must be a mapping")
            return False
        return True

    def unknown(self, allowed: Iterable[str]) -> None:
        """Note fields the format does not have (a typo loses what it names)."""
        unknown = sorted(map(str, set(self.item) - set(allowed)))
        if unknown:
            self.problem(f"unknown field(s) {', '.join(unknown)}", unknown[0])

    def missing(self, required: Iterable[str], *, may_be_empty: Iterable[str] = ()) -> bool:
        """Note required fields that are absent or empty (``may_be_empty``: only if absent)."""
        may_be_empty = set(may_be_empty)
        missing = [
            name
            for name in required
            if name not in self.item or (name not in may_be_empty and not self.item[name])
        ]
        if missing:
            self.problem(f"missing {', '.join(missing)}")
        return not missing

    def fields(self, allowed: Iterable[str], required: Iterable[str]) -> bool:
        """A mapping with no unknown field and every required one present (it may be null)."""
        if not self.is_mapping():
            return False
        self.unknown(allowed)
        return self.missing(required, may_be_empty=required)

    def text(self, field: str, *, optional: bool = False, sentence: bool = False) -> str | None:
        value = self.item.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{field} must be non-empty text", field)
            return None
        value = " ".join(value.split())
        if sentence and not is_sentence(value):
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
            if sentence and not is_sentence(entry):
                self.problem(f"{field} entry {index + 1} must be a sentence", field)
            result.append(entry)
        return tuple(result)

    def url(self, field: str, *, optional: bool = True) -> str | None:
        value = self.item.get(field)
        if value is None and optional:
            return None
        value = value.strip() if isinstance(value, str) else value
        if not isinstance(value, str) or not value.startswith(("https://", "http://")) or " " in value:
            rule = "be null or an address starting with" if optional else "start with"
            self.problem(f"{field} must {rule} http(s)://", field)
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

    def date_value(self, field: str, *, optional: bool = False, label: str = "") -> date | None:
        """A date YYYY-MM-DD, not in the future; ``label`` names it in that problem."""
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
            self.problem(f"{label or field} {value.isoformat()} is in the future", field)
        return value


@dataclass(frozen=True)
class SourceFields:
    """One validated source: its key (its position where sources have none), title, address, date."""

    key: str
    title: str
    url: str | None
    dated: str


@dataclass(frozen=True)
class SourceFormat:
    """How one family of content files writes a source."""

    # The field that names a source so rows can cite it ("id", "key"), lower_snake_case of
    # ``key_lengths`` characters; None: sources are cited in place.
    key: str | None = None
    key_lengths: tuple[int, int] = (2, 80)
    # The field that dates a source ("published", "dated") and what a valid date is.
    dated: str | None = None
    date_problem: Callable[[str], str | None] | None = None
    # True: ``url: null`` where no complete address is known (the field must still be there).
    url_optional: bool = False

    def fields(self) -> tuple[str, ...]:
        return tuple(name for name in (self.key, "title", "url", self.dated) if name)

    def key_problem(self, key: str) -> str | None:
        shortest, longest = self.key_lengths
        if re.match(rf"^[a-z][a-z0-9_]{{{shortest - 1},{longest - 1}}}$", key):
            return None
        return f"{self.key} must be lower_snake_case, {shortest}-{longest} characters"


def parse_sources(
    items: list[Any], form: SourceFormat, checker: Callable[[int, Any], Checker]
) -> dict[str, SourceFields]:
    """Every valid source by key; ``checker(index, item)`` places the problems of item ``index``."""
    sources: dict[str, SourceFields] = {}
    names = form.fields()
    for index, item in enumerate(items):
        check = checker(index, item)
        if not check.is_mapping():
            continue
        key = str(item[form.key]) if form.key and item.get(form.key) else str(index + 1)
        if form.key and item.get(form.key):
            check.named(key)
        valid = check.missing(names, may_be_empty=("url",) if form.url_optional else ())
        check.unknown(names)
        key_problem = form.key_problem(key) if form.key and item.get(form.key) else None
        if key_problem:
            check.problem(key_problem, form.key)
            valid = False
        if key in sources:
            check.problem(f"duplicate {form.key}", form.key)
            valid = False
        url = check.url("url", optional=form.url_optional) if item.get("url") or form.url_optional else None
        dated = " ".join(str(item[form.dated]).split()) if form.dated and item.get(form.dated) else ""
        problem = form.date_problem(dated) if form.date_problem and dated else None
        if problem:
            check.problem(problem, form.dated)
        if valid:
            title = " ".join(str(item["title"]).split())
            sources[key] = SourceFields(key=key, title=title, url=url, dated=dated)
    return sources
