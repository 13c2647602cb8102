"""CSV cells that a spreadsheet shows as text, never runs (every CSV written for staff:
check-answers, check-independent, the report)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula (tab and
# carriage return too, in some programs). Questions and replies are visitor-style
# text, so every CSV for staff goes through spreadsheet_cell().
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` as a CSV cell that a spreadsheet shows as text: a string starting
    like a formula gets a leading single quote; anything else is left as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    """A CSV row of :func:`spreadsheet_cell` cells."""
    return [spreadsheet_cell(value) for value in values]
