"""Personal data out of visitor text before anything is written (issue 21).

Only the text of unanswered turns is ever quoted, and only after :func:`redact`:
email addresses, URLs, phone numbers, long digit runs, dates, licence numbers and person names
become placeholders. Names are found three ways: after a cue ("my name is", "I'm",
"Dr.", "call me"), with the credentials feature's own practitioner-name reader, and as
capitalised words that are neither common English nor the bot's own vocabulary
(treatments, conditions, US states). It errs on the side of removing too much: staff
lose a word, a visitor never loses their privacy.
"""

from __future__ import annotations

import re
from functools import lru_cache

from actions.credentials import find_licence_number, find_person_name
from lexicon import LEXICON_DIR, load_conditions, load_credentials, load_states, load_treatments

EMAIL = "[email]"
URL = "[link]"
PHONE = "[phone]"
NUMBER = "[number]"
LICENCE = "[licence]"
NAME = "[name]"
DATE = "[date]"

_EMAIL = re.compile(r"[\w.+'-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)+", re.I)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
# +1 (555) 010-0199, 555.010.0199, 07700 900123, +44 20 7946 0958: 7+ digits with separators.
_PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{5,}\d(?![\w])")
_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")
# Any remaining run of 5 or more digits (record numbers, ZIP+4, card or insurance ids).
_DIGITS = re.compile(r"\d[\d\s-]{3,}\d|\d{5,}")
_NAME_CUE = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|name\s*:|i\s*am|i'm|im|this\s+is|call\s+me|it's|signed|regards,?|"
    r"thanks,?|dr\.?|doctor|mr\.?|mrs\.?|ms\.?|miss|prof\.?|nurse|my\s+(?:wife|husband|son|daughter|"
    r"mother|mom|mum|father|dad|friend|partner|sister|brother|acupuncturist|therapist|physio|doctor)"
    r"(?:'s\s+name\s+is)?)\s+(?P<name>[A-Za-z][A-Za-z'’-]*(?:\s+[A-Z][A-Za-z'’-]*){0,2})",
    re.I,
)
# Upper and lower case letters of Latin alphabets, accents included ("Lucía Fernández").
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_CAPITALISED = re.compile(rf"\b[{_UPPER}][{_LOWER}'’-]+(?:\s+[{_UPPER}][{_LOWER}'’-]+)*\b")


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Lower-case words that are not names: common English and the bot's vocabulary."""
    words = {
        line.strip()
        for line in (LEXICON_DIR / "common_english.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for terms in (load_treatments(), load_conditions(), load_credentials()):
        for term in terms:
            for phrase in term.phrases:
                words.update(phrase.lower().split())
    for state in load_states():
        words.update(state.name.lower().split())
    return frozenset(words)


# Common English words that are also common first names or surnames: never "known"
# when they follow a name cue or stand next to another capitalised word.
_NAME_LIKE = frozenset(
    "mark rose grace john james will bill joy hope faith may june april dawn rich brown green white "
    "black young king wood hill baker smith lee long park".split()
)
# After a cue, words that are not a name ("I'm worried", "this is Tuesday").
_NOT_A_NAME_AFTER_CUE = frozenset(
    "a an the not so very really just still also in on at of from to with worried scared pregnant "
    "sure afraid allergic asking wondering looking trying going having getting feeling here there "
    "new curious interested over under about your my his her their our it this that".split()
)


def _is_name_word(word: str) -> bool:
    folded = word.lower().strip("'’-")
    return bool(folded) and (folded in _NAME_LIKE or folded not in _known_words())


def _redact_names(text: str) -> str:
    practitioner = find_person_name(text)
    if practitioner and any(_is_name_word(word) for word in practitioner.split()):
        text = re.sub(r"\s+".join(re.escape(part) for part in practitioner.split()), NAME, text, flags=re.I)

    def after_cue(match: re.Match[str]) -> str:
        words = match.group("name").split()
        kept: list[str] = []
        for index, word in enumerate(words):
            bare = word.strip("'’-").lower()
            if bare in _NOT_A_NAME_AFTER_CUE or (index > 0 and not word[0].isupper()):
                break
            if index == 0 and not word[0].isupper() and not _is_name_word(word):
                break
            kept.append(word)
        if not kept:
            return match.group(0)
        name = " ".join(kept)
        start = match.group(0).rfind(match.group("name"))
        return match.group(0)[:start] + NAME + match.group(0)[start + len(name) :]

    text = _NAME_CUE.sub(after_cue, text)

    def capitalised(match: re.Match[str]) -> str:
        words = match.group(0).split()
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?"
        # "Can Jennifer Lopez": the leading word of a sentence is capitalised anyway.
        lead = ""
        if sentence_start and len(words) > 1 and not _is_name_word(words[0]):
            lead, words = words[0] + " ", words[1:]
            sentence_start = False
        if len(words) >= 2 and any(_is_name_word(w) for w in words):
            # "Jane Example", "Mark Smith": capitalised words, one of them a name or not common English.
            return lead + NAME
        if len(words) == 1 and not sentence_start and words[0].lower() not in _known_words():
            return lead + NAME
        return match.group(0)

    return _CAPITALISED.sub(capitalised, text)


@lru_cache(maxsize=65_536)
def redact(text: str) -> str:
    """``text`` with personal data replaced by placeholders such as ``[phone]`` and ``[name]``
    (cached: visitors ask the same things in the same words)."""
    text = _EMAIL.sub(EMAIL, text)
    text = _URL.sub(URL, text)
    licence = find_licence_number(text)
    while licence is not None:
        text = text[: licence.start] + LICENCE + text[licence.end :]
        licence = find_licence_number(text)
    text = _DATE.sub(DATE, text)
    text = _PHONE.sub(lambda m: PHONE if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
    text = _DIGITS.sub(lambda m: NUMBER if sum(c.isdigit() for c in m.group()) >= 5 else m.group(), text)
    return _redact_names(text)
