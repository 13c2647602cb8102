"""The project's own vocabulary (data/lexicon): states, treatments, credentials.

Shared by the Rasa server's NLU (nlp_pipeline: entity-ruler patterns, routing,
red-flag typos) and by the action server (normalising what the user typed to a
canonical key such as a USPS code). It lives outside both so that neither
imports the other: nothing here needs more than the standard library and
ruamel.yaml, so the action server never loads spaCy or Rasa, and the NLU
components never load the actions' settings or database layer.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

# The repository (data/, build/ and var/ live here), for both servers and the tools.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LEXICON_DIR = PROJECT_ROOT / "data" / "lexicon"


@dataclass(frozen=True)
class State:
    """A US state or DC."""

    code: str
    name: str
    abbreviations: tuple[str, ...]
    ambiguous_code: bool
    # Nicknames ("the Buckeye State") and large cities ("Honolulu"): they name the state too;
    # a practitioner search still reads a city as the city.
    nicknames: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    @property
    def other_names(self) -> tuple[str, ...]:
        return (*self.nicknames, *self.cities)


@dataclass(frozen=True)
class Term:
    """A canonical key with the phrases people use for it."""

    key: str
    phrases: tuple[str, ...]


def _read_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_states(directory: Path = LEXICON_DIR) -> tuple[State, ...]:
    """All 51 jurisdictions from ``us_states.yml``."""
    data = _read_yaml(directory / "us_states.yml")
    return tuple(
        State(
            code=str(item["code"]),
            name=str(item["name"]),
            abbreviations=tuple(str(a) for a in item.get("abbreviations") or ()),
            ambiguous_code=bool(item.get("ambiguous_code", False)),
            nicknames=tuple(str(n) for n in item.get("nicknames") or ()),
            cities=tuple(str(n) for n in item.get("cities") or ()),
        )
        for item in data["states"]
    )


def _load_terms(filename: str, section: str, directory: Path) -> tuple[Term, ...]:
    data = _read_yaml(directory / filename)
    return tuple(
        Term(key=str(item["key"]), phrases=tuple(str(p) for p in item["phrases"])) for item in data[section]
    )


@lru_cache(maxsize=1)
def load_treatments(directory: Path = LEXICON_DIR) -> tuple[Term, ...]:
    """Treatment keys and the phrases people use for them."""
    return _load_terms("treatments.yml", "treatments", directory)


@lru_cache(maxsize=1)
def load_credentials(directory: Path = LEXICON_DIR) -> tuple[Term, ...]:
    """Credential keys (L.Ac., Dipl. Ac., ...) and their spellings."""
    return _load_terms("credentials.yml", "credentials", directory)


@lru_cache(maxsize=1)
def load_conditions(directory: Path = LEXICON_DIR) -> tuple[Term, ...]:
    """Headache conditions (episodic migraine, tension-type headache, ...)."""
    if not (directory / "conditions.yml").exists():
        return ()
    return _load_terms("conditions.yml", "conditions", directory)


@lru_cache(maxsize=1)
def load_practitioners(directory: Path = LEXICON_DIR) -> tuple[Term, ...]:
    """Practitioner types (PT, chiropractor, ...) and their spellings."""
    return _load_terms("credentials.yml", "practitioners", directory)


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned into single spaces
    (what names, places, phrases and licence numbers are compared on)."""
    if not text.isascii():  # the accent folding is the slow part: only when needed
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub(" ", text.lower()).strip()


_LEADING_FILLER = re.compile(
    r"^(?:i (?:live|am|m|reside|work) (?:in|from)|i m (?:in|from)|im (?:in|from)|"
    r"we (?:are|re) (?:in|from)|in|from|of|for|about|the state of|state of|what about|how about)\s+"
)
_TRAILING_FILLER = re.compile(r"\s+(?:state|please|thanks|thank you)$")


@lru_cache(maxsize=1)
def _state_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for state in load_states():
        index[fold(state.name)] = state.code
        for abbreviation in (*state.abbreviations, *state.other_names):
            index[fold(abbreviation)] = state.code
    # "washington" alone means the state; "washington dc" is already DC.
    index["washington state"] = "WA"
    return index


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit_variants(text: str, alphabet: str = LETTERS, keep_spaces: bool = False) -> set[str]:
    """Every string one deletion, adjacent transposition, substitution or insertion (of a
    character of ``alphabet``) away from ``text``, ``text`` itself excepted. With
    ``keep_spaces`` the spaces between words are never deleted, replaced or swapped, and
    nothing is inserted between two spaces."""
    variants: set[str] = set()
    for i in range(len(text) + 1):
        head, tail = text[:i], text[i:]
        if tail and not (keep_spaces and tail[0] == " "):
            variants.add(head + tail[1:])
            variants |= {head + c + tail[1:] for c in alphabet}
        if len(tail) > 1 and not (keep_spaces and " " in tail[:2]):
            variants.add(head + tail[1] + tail[0] + tail[2:])
        if not keep_spaces or (head and head[-1] != " ") or (tail and tail[0] != " "):
            variants |= {head + c + tail for c in alphabet}
    variants.discard(text)
    return variants


def normalize_state(text: str | None) -> str | None:
    """Map what a user or the entity ruler produced to a USPS code, or None.

    Accepts names, USPS codes, abbreviations, a leading "in"/"from", light typos.
    """
    if not text:
        return None
    raw = text.strip()
    states = {state.code: state for state in load_states()}
    # Codes are trusted in capitals ("in OR", "TX"); a bare lower-case code only
    # when it is not also a common word ("tx" yes, "ok"/"or"/"me" no).
    bare = re.sub(r"^(?:in|from|of|for|about)\s+", "", raw, flags=re.IGNORECASE).strip(" .,!?")
    state = states.get(bare.upper())
    if state is not None and (bare.isupper() or (bare.isalpha() and not state.ambiguous_code)):
        return state.code
    index = _state_index()
    folded = fold(raw)
    for _ in range(4):
        if folded in index:
            return index[folded]
        stripped = _TRAILING_FILLER.sub("", _LEADING_FILLER.sub("", folded))
        if stripped == folded:
            break
        folded = stripped
    state = states.get(folded.upper())
    if state is not None and not state.ambiguous_code:
        return state.code
    # One edit from a name of 6 letters or more, as the entity ruler's typo patterns
    # allow ("oregan", "hawii"); then anything close.
    near = [key for key in one_edit_variants(folded, LETTERS + " ") if len(key) >= 6 and key in index]
    if len(near) == 1:
        return index[near[0]]
    if len(folded) >= 4:
        close = difflib.get_close_matches(folded, list(index), n=1, cutoff=0.84)
        if close:
            return index[close[0]]
    return None


@lru_cache(maxsize=1)
def _city_names() -> frozenset[str]:
    return frozenset(fold(city) for state in load_states() for city in state.cities)


def is_city_name(text: str) -> bool:
    """Whether ``text`` is one of the cities that name their state ("Austin", "st louis")."""
    return fold(text) in _city_names()


def state_name(code: str) -> str:
    """The full name for a USPS code (KeyError if unknown)."""
    for state in load_states():
        if state.code == code:
            return state.name
    raise KeyError(code)


def normalize_term(text: str | None, terms: tuple[Term, ...]) -> str | None:
    """Map a phrase to its canonical key (case-insensitive, accents folded)."""
    if not text:
        return None
    folded = fold(text)
    for term in terms:
        if any(fold(phrase) == folded for phrase in term.phrases):
            return term.key
    return None


# "can an MD do acupuncture", "my MD said": an article or a possessive right before it.
_TITLE_BEFORE = re.compile(r"\b(?:a|an|my|your|his|her|their|our|the|this|that)\s+$", re.IGNORECASE)


# State codes that are also a credential's letters: "a CA" is a certified acupuncturist.
CREDENTIAL_STATE_CODES = frozenset({"CA"})


def state_code_title(text: str, start: int, end: int) -> str | None:
    """What the state found at ``text[start:end]`` is instead, when it is a title here: the same
    letters name a practitioner ("MD": Maryland or a medical doctor) or a credential ("CA":
    California or a certified acupuncturist) and an article or a possessive comes right before
    them ("an MD", "a CA"; "in MD" stays Maryland). "practitioner", "credential" or None."""
    if not 0 <= start < end <= len(text) or not _TITLE_BEFORE.search(text[:start]):
        return None
    letters = text[start:end]
    if normalize_term(letters, load_practitioners()) is not None:
        return "practitioner"
    if letters.upper() in CREDENTIAL_STATE_CODES:
        return "credential"
    return None


# "is dry needling legal in md", "acupuncture license in de?": a two-letter code right after
# "in", closing the question (or before "for ..."), in any case, even one that is a word or a
# title elsewhere ("md", "ok", "hi"). "needles in me" is not Maine.
_TRAILING_CODE = re.compile(
    r"\bin\s+([a-z]{2})\s*[?!.,;:]*\s*(?:$|(?=(?:for|by|too|now|then|yet|anymore|please|thanks)\b))",
    re.IGNORECASE,
)
_NOT_A_PLACE = re.compile(
    r"\b(?:needles?|put|puts|stick|sticks|poke|pokes|inserted)\b.*\bin\s+me\b", re.IGNORECASE
)


def trailing_state_code(text: str) -> tuple[str, int, int] | None:
    """The USPS code closing ``text`` after "in" (see above), with its start and end, or None."""
    match = _TRAILING_CODE.search(text)
    if match is None or _NOT_A_PLACE.search(text):
        return None
    code = match.group(1).upper()
    if code not in {state.code for state in load_states()}:
        return None
    return code, match.start(1), match.end(1)


# "can a PT do it there", "who licenses them there anyway", "same state?": the state already
# named in the conversation. "there" at the end, or closing a clause ("acupuncture there, who").
_STATE_REFERENCE = re.compile(
    r"\b(?:there|that state|same state|this state)(?:\s+(?:anyway|too|as well|then))?\s*(?:[?.!]*\s*$|[,;])"
)


def refers_to_a_named_state(text: str) -> bool:
    """Whether ``text`` refers to a state named earlier instead of naming one (see above)."""
    return bool(_STATE_REFERENCE.search(text.lower()))
