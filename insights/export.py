"""A draft of NLU examples from the unanswered questions, for staff to correct (issue 21).

The draft is Rasa NLU YAML grouped as in the report, each group filed under the intent the
nearest training example suggests (a guess). It is written outside ``data/`` on purpose:
staff check each wording (personal data was replaced by placeholders: drop those lines),
correct the intent, delete what the bot should not learn, and only then move the blocks into
``data/nlu/`` (``faq/<key>`` intents go in ``data/nlu/faq/``) and run ``make train``.
Non-English messages are left out: the language detector handles them, not the classifier.
"""

from __future__ import annotations

import re
from pathlib import Path

from insights.analysis import NON_ENGLISH
from insights.grouping import QuestionGroup
from insights.store import Window

_PLACEHOLDER = re.compile(r"\[(?:name|phone|email|number|licence|date|link)\]")


def _example(text: str) -> str:
    # One line in a YAML literal block: no line breaks or control characters.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


def draft_yaml(groups: list[QuestionGroup], window: Window) -> str:
    """The draft file's text."""
    lines = [
        f"# DRAFT: unanswered questions from {window.first_day} to {window.last_day}"
        " (make export-unanswered).",
        "# Not training data yet. For each group: check the wording, correct the suggested intent",
        "# (faq/<topic key>, or another intent of data/nlu), delete what should not be learnt, drop",
        "# lines with a [placeholder] (personal data was removed there), then move the block into",
        "# data/nlu/ (faq/<key> intents in data/nlu/faq/) and run `make train` and `make check-answers`.",
        'version: "3.1"',
        "nlu:",
    ]
    written = 0
    for number, group in enumerate(groups, start=1):
        if group.suggestion is None or set(group.categories) == {NON_ENGLISH}:
            continue
        wordings = [_example(text) for text, _ in group.wordings]
        wordings = [text for text in wordings if text]
        if not wordings:
            continue
        suggestion = group.suggestion
        categories = ", ".join(f"{c} {n}" for c, n in group.categories.most_common())
        lines.append(
            f"# group {number}: {group.messages} messages ({categories}); suggested question type: "
            f"{suggestion.topic.question_type}, treatment: {suggestion.topic.treatment} "
            f"(closest training example {suggestion.similarity:.2f})"
        )
        placeholders = sum(bool(_PLACEHOLDER.search(text)) for text in wordings)
        if placeholders:
            lines.append(f"# {placeholders} of these hold a [placeholder]: drop or rewrite them")
        lines.append(f"- intent: {suggestion.intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in wordings)
        written += 1
    if written == 0:
        lines[-1] = "nlu: []"
        lines.append("# No unanswered questions in this period.")
    return "\n".join(lines) + "\n"


def write_draft(groups: list[QuestionGroup], window: Window, path: Path) -> Path:
    """Write the draft to ``path`` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(draft_yaml(groups, window), encoding="utf-8")
    return path
