"""Plain records returned by repositories (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Source:
    """A cited source: a human-readable title and its address."""

    title: str
    url: str


@dataclass(frozen=True)
class FaqAnswer:
    """One FAQ answer with its citation and review date."""

    key: str
    title: str
    treatment: str
    aspect: str
    text: str
    sources: tuple[Source, ...]
    reviewed_on: date
    # The one or two sentences that answer the question (shown first); ``text`` is the detail.
    short: str = ""
