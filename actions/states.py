"""The shared ``us_state`` slot: one way to read a state from a message, one attempts policy,
one pair of responses, for every form that asks for a state (``state_form``,
``licence_check_form``, ``practitioner_search_form``).

A state is read, in order, from:

1. the ``us_state`` entities of the spaCy entity ruler ("Calif.", "in OR", "washington state"),
   leaving out those inside a span the caller ignores (a licence number: "MD-12345") and those
   that begin a city name ("Kansas City") and those said not to be meant ("washington, not
   dc"); the last one named counts ("a Texas-trained PT in Oklahoma" is about Oklahoma);
2. "in/from/for/about/of/at <words>" in the text, which catches what the ruler misses ("in ny");
3. when the message answers "which state?", the whole reply, with typos and filler words
   ("im from calfornia", "ny please").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from lexicon import load_practitioners, load_treatments, normalize_state, normalize_term

STATE_SLOT = "us_state"
# After this many replies in a row that name no state, the form stops asking.
MAX_STATE_ATTEMPTS = 3
NOT_RECOGNISED_RESPONSE = "utter_state_not_recognised"
GIVE_UP_RESPONSE = "utter_state_give_up"

_PREPOSITION = re.compile(r"\b(?:in|from|for|about|of|at)\s+", re.IGNORECASE)
_WORDS = re.compile(r"(?:[A-Za-z][A-Za-z.']*\s*){1,3}")
_CITY_AFTER = re.compile(r"\s+city\b", re.IGNORECASE)
# "washington (the state, not dc)", "anywhere but texas": a state named only to rule it out.
_RULED_OUT_BEFORE = re.compile(r"\b(?:not|but|except|isn'?t)\s+(?:in\s+|the\s+)?$", re.IGNORECASE)

Span = tuple[int, int]


@dataclass(frozen=True)
class StateMention:
    """A US state named in a message: its USPS code and where it is (-1, -1 if unknown)."""

    code: str
    start: int
    end: int


def _overlaps(start: int, end: int, spans: Sequence[Span]) -> bool:
    return any(start < span_end and end > span_start for span_start, span_end in spans)


def entity_mentions(message: dict[str, Any], ignore: Sequence[Span] = ()) -> list[StateMention]:
    """The ruler's state entities in the message, in order, minus those inside ``ignore`` spans
    or at the start of a city name ("Kansas City")."""
    text = str(message.get("text") or "")
    mentions: list[StateMention] = []
    for entity in message.get("entities") or []:
        if entity.get("entity") != STATE_SLOT:
            continue
        code = normalize_state(str(entity.get("value") or ""))
        if code is None:
            continue
        start, end = int(entity.get("start", -1)), int(entity.get("end", -1))
        if start >= 0 and _overlaps(start, end, ignore):
            continue
        if end >= 0 and _CITY_AFTER.match(text[end:]):
            continue
        if start >= 0 and _RULED_OUT_BEFORE.search(text[:start]):
            continue
        mentions.append(StateMention(code, start, end))
    return mentions


def _after_preposition(text: str, ignore: Sequence[Span]) -> StateMention | None:
    """A state in "in/from/about <words>" ("in ny"); professions and treatments are not states."""
    for preposition in _PREPOSITION.finditer(text):
        following = _WORDS.match(text, preposition.end())
        if following is None:
            continue
        words = list(re.finditer(r"\S+", following.group(0)))
        start = following.start()
        for size in range(len(words), 0, -1):
            phrase = " ".join(word.group() for word in words[:size])
            end = start + words[size - 1].end()
            if _overlaps(start, end, ignore) or _CITY_AFTER.match(text[end:]):
                continue
            # "legal for an MD", "in DN": professions and treatments are not states.
            if normalize_term(phrase, load_practitioners()) or normalize_term(phrase, load_treatments()):
                continue
            code = normalize_state(phrase)
            if code:
                return StateMention(code, start, end)
    return None


def state_mentions(message: dict[str, Any], ignore: Sequence[Span] = ()) -> list[StateMention]:
    """The states named in a message (steps 1 and 2 above), in order."""
    mentions = entity_mentions(message, ignore)
    if mentions:
        return mentions
    found = _after_preposition(str(message.get("text") or ""), ignore)
    return [found] if found else []


def state_in_message(message: dict[str, Any], ignore: Sequence[Span] = ()) -> str | None:
    """The USPS code of the state a message names (the last one), or None."""
    mentions = state_mentions(message, ignore)
    return mentions[-1].code if mentions else None


def state_in_reply(message: dict[str, Any], ignore: Sequence[Span] = ()) -> str | None:
    """The state in a reply to "which state?": named in it, else the whole reply read as one."""
    return state_in_message(message, ignore) or normalize_state(str(message.get("text") or ""))


def failed_attempts(previous: Any) -> tuple[int, bool]:
    """The count after one more unusable reply, and whether the form should stop asking."""
    attempts = int(previous or 0) + 1
    return attempts, attempts >= MAX_STATE_ATTEMPTS


def say_state_not_recognised(dispatcher: CollectingDispatcher, giving_up: bool) -> None:
    """The one message for a reply that names no state: try again, or (at the limit) we stop."""
    dispatcher.utter_message(response=GIVE_UP_RESPONSE if giving_up else NOT_RECOGNISED_RESPONSE)
