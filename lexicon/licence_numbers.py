"""Licence numbers in visitors' messages ("AC 12345", "AC-12345", "ac12345", "licence # 44810").

Shared by the Rasa server (``nlp_pipeline.routing``: a message with a licence number is a
licence check) and the action server (``actions.credentials``: which number to look up).
Pure functions over strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lexicon import fold


def licence_number_key(number: str) -> str:
    """'AC-12345', 'ac 12345', 'AC12345' -> 'AC12345' (letters and digits only, upper case)."""
    return fold(number).replace(" ", "").upper()


@dataclass(frozen=True)
class LicenceNumber:
    """A licence number found in a message: its folded key and where it was."""

    key: str
    start: int
    end: int


_PREFIX_STOPWORDS = frozenset(
    "in is no nr num number lic licence license licenses licences my the a an of for and or to it its s "
    "id at on with his her their check verify look up lookup search find please number's was be from "
    "near call me us our your this that ok".split()
)
# Lower-case letters typed before the digits with a space ("ac 12345") count only if
# they are a known licence prefix; capitals ("AC 12345") and joined forms always count.
_LOWER_PREFIXES = frozenset("ac lac pt dpt pta om dom ap demo eamp aemp ch abt".split())
_NUMBER_KEYWORD = re.compile(r"(?:licen[cs]e|lic|number|no|nr|num|#|id)(?:\s+is)?[\s#.:]*$", re.IGNORECASE)
_PREFIX_SEGMENT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,6})([\s#.:-]{0,2})$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def find_licence_number(text: str, prompted: bool = False) -> LicenceNumber | None:
    """The first licence number in ``text``: 'AC 12345', 'AC-12345', 'ac12345' -> key 'AC12345'.

    Bare digits count only after a word like "licence"/"number"/"#", or when the bot
    has just asked for a number (``prompted``).
    """
    for match in re.finditer(r"(?<![0-9])\d{3,12}(?![0-9])", text):
        digits = match.group()
        segments: list[str] = []
        position = match.start()
        while len(segments) < 3:
            segment = _PREFIX_SEGMENT.search(text[:position])
            if segment is None:
                break
            letters, separator = segment.group(1), segment.group(2)
            if letters.lower() in _PREFIX_STOPWORDS:
                break
            joined = not any(ch.isspace() for ch in separator)
            if not (joined or letters.isupper() or letters.lower() in _LOWER_PREFIXES):
                break
            segments.insert(0, letters)
            position = segment.start(1)
        if not segments:
            rest = re.sub(r"[\s.!]+$", "", text[match.end() :])
            alone = not re.sub(r"[\s#:.,!-]", "", text[: match.start()]) and not rest
            keyword = bool(_NUMBER_KEYWORD.search(text[: match.start()]))
            if not (keyword or prompted or alone):
                continue
            if _YEAR.match(digits) and not keyword:
                continue
        key = licence_number_key("".join(segments) + digits)
        return LicenceNumber(key=key, start=position, end=match.end())
    return None
