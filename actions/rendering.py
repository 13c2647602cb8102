"""How answers look: the text, then its sources and the date it was reviewed."""

from __future__ import annotations

from datetime import date

from actions.store.records import FaqAnswer, Source

DISCLAIMER = (
    "I give general information from published sources, not medical advice. "
    "For advice about your own health, please talk to your doctor."
)


def format_date(value: date) -> str:
    """'21 November 2026': unambiguous for readers in any country."""
    return f"{value.day} {value.strftime('%B %Y')}"


def format_sources(sources: tuple[Source, ...]) -> str:
    """One line per source: 'Source: <title> - <url>' (links work on every channel)."""
    label = "Source" if len(sources) == 1 else "Sources"
    lines = [f"{label}:"] + [f"- {source.title}: {source.url}" for source in sources]
    return "\n".join(lines)


def render_answer(answer: FaqAnswer) -> str:
    """The full reply for one FAQ answer, with its citation and review date."""
    return (
        f"{answer.text}\n\n{format_sources(answer.sources)}\n"
        f"Last reviewed {format_date(answer.reviewed_on)}."
    )
