"""Reply wording that staff may edit, read from a content file under data/content/.

A reply file is a YAML mapping with ``version``, ``reviewed`` (a date) and ``replies``: one
template per key, with ``{name}`` places the code fills in (str.format style). The code that
uses a file declares each key it reads and the places it fills, so a file that lacks a key, has
a key the code never reads (a typo loses the edit), or uses a place the code does not fill is
refused when the action server first reads it, with every problem named by file, line and key,
instead of failing in the middle of a conversation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any

from actions.store.validation import Checker, ValidationError, read_yaml

# The places each key may use, as the code declares them: {key: {placeholder, ...}}.
Placeholders = Mapping[str, frozenset[str]]

FILE_FIELDS = ("version", "reviewed", "replies")


class ReplyTemplateError(ValidationError):
    """A reply file is invalid; the message lists every problem found."""

    heading = "invalid reply templates"


@dataclass(frozen=True)
class ReplyTemplates:
    """The validated templates of one reply file."""

    texts: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The reply ``key`` with its places filled (values the template leaves out are ignored)."""
        return self.texts[key].format(**values)


def template_problem(template: str, allowed: frozenset[str]) -> str | None:
    """Why ``template`` cannot be filled from ``allowed`` places, or None if it can."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(template)]
    except ValueError as error:  # an unmatched "{" or "}"
        return f"is not a valid template ({error}); write a place as {{name}} and a brace as {{{{ or }}}}"
    for name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return f"has the place {{{written}}}; write a place as {{name}}, a plain name only"
        if name not in allowed:
            offered = ", ".join(f"{{{n}}}" for n in sorted(allowed)) or "none"
            return f"uses the place {{{name}}}, which the code does not fill (places it fills: {offered})"
    return None


def _key_lines(text: str, keys: list[str]) -> dict[str, int]:
    """The line (1-based) of each key under ``replies:``, read from the text (the parser keeps none)."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line and not line[0].isspace() and not line.lstrip().startswith("#"):
            inside = line.startswith("replies:")
            continue
        match = re.match(r"^\s+([\"']?)([^\"':#\s]+)\1\s*:", line) if inside else None
        if match and match.group(2) in keys:
            lines.setdefault(match.group(2), number)
    return lines


def read_reply_templates(path: Path, placeholders: Placeholders) -> ReplyTemplates:
    """Read and validate ``path`` against the keys and places the code declares.

    Raises ReplyTemplateError listing every problem (file, line, key, place).
    """
    problems: list[str] = []
    parsed = read_yaml(path, problems)
    if parsed is None:
        raise ReplyTemplateError(problems)
    data, text = parsed
    check = Checker(problems, data, path.name)
    if check.fields(FILE_FIELDS, FILE_FIELDS):
        if isinstance(data["version"], bool) or not isinstance(data["version"], int) or data["version"] < 1:
            check.problem("version must be a whole number (1, 2, ...)")
        check.date_value("reviewed", label="reviewed date")
        replies: Any = data["replies"]
        if isinstance(replies, dict):
            _check_replies(path.name, text, replies, placeholders, problems)
        else:
            check.problem("replies must be a mapping of key: template")
    if problems:
        raise ReplyTemplateError(problems)
    return ReplyTemplates(texts={str(key): str(value) for key, value in data["replies"].items()})


def _check_replies(
    filename: str, text: str, replies: dict[Any, Any], placeholders: Placeholders, problems: list[str]
) -> None:
    keys = [str(key) for key in replies]
    lines = _key_lines(text, keys)
    missing = sorted(set(placeholders) - set(keys))
    if missing:
        problems.append(f"{filename}: replies: missing key(s) {', '.join(missing)}")
    for key, template in zip(keys, replies.values(), strict=False):
        place = f"{filename}:{lines.get(key, 0)}: reply {key}"
        if key not in placeholders:
            problems.append(f"{place}: unknown key (the code reads no reply of that name)")
        elif not isinstance(template, str) or not template.strip():
            problems.append(f"{place}: must be non-empty text")
        else:
            problem = template_problem(template, placeholders[key])
            if problem:
                problems.append(f"{place}: {problem}")
