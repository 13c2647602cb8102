"""Reading the text of a licence question: licence numbers, practitioners' names, cities,
"stop", and the profession named. Pure functions over strings (and the parse data), no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_sdk import Tracker

from actions.store.licence_models import ACUPUNCTURE, CHIROPRACTIC, MEDICINE, PHYSICAL_THERAPY
from lexicon import load_practitioners, normalize_term

_STOP = re.compile(
    r"^\s*(?:stop|cancel|quit|exit|never\s*mind|nevermind|forget\s+it|no\s+thanks|abort|"
    r"stop\s+(?:the\s+)?(?:licen[cs]e\s+)?(?:check|search)|i\s+don'?t\s+know|not\s+sure)\s*[.!]*\s*$",
    re.IGNORECASE,
)


_NOT_NAME_WORDS = frozenset(
    """my the this that her his their our your he she they it him them someone somebody person
    acupuncturist acupuncturists therapist therapists physio physiotherapist pt pts doctor doc dr
    chiropractor chiro practitioner provider clinic physician nurse specialist is are was were be
    and or but a an of in at on for to from with licensed licenced licence license certified
    registered legit real still really actually properly check verify look up lookup search find
    can could would should will please me i you we us does do did has have had not active dry
    needling acupuncture what who which where when how why if whether thanks thank hi hello yes no
    near around about don't dont know sure idea remember forgot okay ok sorry nothing none anyone
    nobody stop cancel never mind forget dunno idk unsure maybe whatever
    headache headaches migraine migraines pain painful worst head hurts hurt numb numbness weak weakness
    fever dizzy vomiting faint fainted help emergency sick ill stiff neck vision blind confused""".split()
)
_TITLE = r"(?:(?:dr|doctor|mr|mrs|ms|miss|prof)\.?\s+)"
_WORD = r"[A-Za-z][A-Za-z'’\-]*\.?"
_CAP_WORD = r"(?:[A-Z][a-z'’\-]+[A-Za-z'’\-]*|[A-Z]\.?|(?:Mc|Mac|O'|D')[A-Z][a-z]+)"
_CAP_NAME = rf"{_CAP_WORD}(?:\s+{_CAP_WORD}){{1,3}}"
_POST_NOMINALS = re.compile(
    r",?\s*\b(?:L\.?\s?Ac\.?|Lic\.?\s?Ac\.?|LAc|C\.?Ac\.?|DOM|D\.O\.M\.|DAOM|DACM|DPT|MD|M\.D\.|D\.O\.|DC|"
    r"Dipl\.?\s?(?:O\.?M\.?|Ac\.?|C\.?H\.?|ABT)(?:\s*\(NCCAOM\))?)(?=[\s,.?!]|$)"
)
_NAME_PATTERNS = (
    # "is Jane Doe a licensed acupuncturist", "is Dr. Sam Smith licensed"
    re.compile(
        rf"\bis\s+{_TITLE}?(?P<name>{_WORD}(?:\s+{_WORD}){{1,3}})\s+(?:(?:an?|really|still|actually|properly|"
        r"currently|the)\s+)*(?:licen[cs]ed|registered|certified|legit|legitimate|board|allowed|active|real)\b",
        re.IGNORECASE,
    ),
    # "John Brown is licensed", "Tom Baker's licence"
    re.compile(
        rf"(?P<name>{_CAP_NAME})\s+(?:is|was)\s+(?:(?:an?|still|really|currently|actually|active|properly)\s+)*"
        r"(?:licen[cs]ed|registered|certified|legit)"
    ),
    re.compile(rf"(?P<name>{_CAP_NAME})['’]s\s+(?:\w+\s+){{0,2}}licen[cs]e"),
    # "check Paula Green", "verify the licence of Lee Wong", "run a licence check on Paula Green"
    re.compile(
        rf"(?i:\b(?:check|verify|look\s*up|lookup|search(?:\s+for)?|find|licen[cs]e\s+check\s+on|"
        rf"licen[cs]e\s+(?:of|for)|check\s+on|about|for))\s+(?i:(?:the\s+)?licen[cs]e\s+(?:of|for)\s+)?"
        rf"(?i:my\s+[a-z]+\s+)?{_TITLE}?(?P<name>{_CAP_NAME})"
    ),
    # "does Yuki Sato have a valid license", "my acupuncturist Ana Souza holds a licence"
    re.compile(
        rf"(?P<name>{_CAP_NAME})\s+(?:have|has|hold|holds)\s+(?:(?:an?|the|any|valid|active|current|real)\s+)*"
        r"licen[cs]e"
    ),
    # "her name is Amy Chen", "named Sam Rivera"
    re.compile(
        rf"\b(?:name\s+is|named|called|name:)\s+{_TITLE}?(?P<name>{_WORD}(?:\s+{_WORD}){{0,3}})",
        re.IGNORECASE,
    ),
)
_ANSWER_FILLER = re.compile(
    r"^(?:(?:(?:her|his|their|the|my\s+\w+['’]?s?|the\s+\w+['’]?s?)\s+)?(?:full\s+)?name\s+is\s+|name:\s*|"
    r"it['’]?s\s+|it\s+is\s+|(?:she|he|they)\s+(?:is|are|['’]s|['’]re)\s+(?:called\s+)?|"
    r"(?:the\s+\w+\s+is\s+)?called\s+|(?:they|she|he)\s+(?:go|goes)\s+by\s+|i\s+think\s+(?:it['’]?s\s+)?)",
    re.IGNORECASE,
)


_TITLE_WORD = re.compile(r"(?:dr|doctor|mr|mrs|ms|miss|prof)\.?", re.IGNORECASE)


def _tidy_name(candidate: str, strict: bool) -> str | None:
    """Titles dropped, cut at the first word that is not part of a name; None if it does not
    start with a name ("i don't know", "what is dry needling")."""
    candidate = _POST_NOMINALS.sub("", candidate)
    words: list[str] = []
    for word in re.split(r"\s+", candidate.strip(" ,.!?;:")):
        bare = word.strip(".,!?;:")
        if not bare or (not words and _TITLE_WORD.fullmatch(bare)):
            continue
        if (
            bare.lower() in _NOT_NAME_WORDS
            or re.search(r"\d", bare)
            or not re.match(r"^[A-Za-z'’.\-]+$", bare)
        ):
            if words:
                break
            return None
        words.append(bare)
    if not words or len(words) > 4:
        return None
    if strict and (len(words) < 2 or not all(w[0].isupper() for w in words)):
        return None
    if all(w.islower() for w in words):
        words = [w[:1].upper() + w[1:] for w in words]
    return " ".join(words)


def find_person_name(text: str, answer: bool = False, strict: bool = False) -> str | None:
    """A practitioner's name in ``text``, or None.

    ``answer``: the message answers "what is their name?", so the whole message may be
    the name ("jane example", "her name is Amy Chen"). ``strict``: accept only two to four
    capitalised words (used for messages the NLU classified as something else).
    """
    cleaned = _POST_NOMINALS.sub("", text)
    for pattern in _NAME_PATTERNS:
        match = pattern.search(cleaned)
        if match:
            name = _tidy_name(match.group("name"), strict=False)
            if name:
                return name
    if not answer:
        return None
    body = _ANSWER_FILLER.sub("", cleaned.strip()).strip()
    if len(body.split()) > 5 or "?" in body:
        return None
    return _tidy_name(body, strict=strict)


_NOT_CITY = frozenset(
    """me my the a an our your this that here there area town place us usa state home work
    licensed licenced acupuncturist acupuncturists practitioner practitioners pt pts physical therapist
    therapists who that which with for please today now and or is are someone somebody one good best
    active near around in at by close to nearby""".split()
)
_CITY_CUE = re.compile(
    r"\b(?:near|in|around|close\s+to|nearby|by|at|outside(?:\s+of)?|within|based\s+in|located\s+in)\s+"
    r"(?P<city>[A-Za-z][A-Za-z.'’\-]*(?:\s+[A-Za-z][A-Za-z.'’\-]*){0,3})",
    re.IGNORECASE,
)
_CITY_FILLER = re.compile(
    r"^(?:i\s+(?:live|am|work|'m)\s+(?:in|near|around)\s+|i['’]?m\s+(?:in|near|around)\s+|we\s+are\s+in\s+|"
    r"(?:somewhere\s+)?(?:near|in|around|close\s+to|by|at)\s+|(?:the\s+)?city\s+of\s+|it['’]?s\s+|"
    r"in\s+the\s+city\s+of\s+)+",
    re.IGNORECASE,
)


def _tidy_city(candidate: str, strict: bool) -> str | None:
    words: list[str] = []
    for word in candidate.split():
        bare = word.strip(".,!?;:'’")
        if not bare:
            continue
        if bare.lower() in _NOT_CITY or not re.match(r"^[A-Za-z.'’\-]+$", bare):
            break
        words.append(bare)
    if not words or len(words) > 4:
        return None
    if strict and not all(w[0].isupper() for w in words):
        return None
    return " ".join(w if not w.islower() else w[:1].upper() + w[1:] for w in words)


def find_city(
    text: str, state_spans: Sequence[tuple[int, int]] = (), answer: bool = False, strict: bool = False
) -> str | None:
    """The city in 'find an acupuncturist near Austin, TX' (state mentions are ignored).

    ``answer``: the message answers "which city?", so it may be just the name.
    """
    masked = list(text)
    for start, end in state_spans:
        masked[start:end] = "|" * (end - start)
    cleaned = "".join(masked).replace("|", " | ")
    if re.search(r"\bnew\s+york\s+city\b|\bnyc\b", text, re.IGNORECASE):
        return "New York"
    found = None
    for match in _CITY_CUE.finditer(cleaned):
        city = _tidy_city(match.group("city").split("|")[0], strict)
        if city:
            found = city
    if found or not answer:
        return found
    body = _CITY_FILLER.sub("", cleaned.strip()).split("|")[0].strip(" ,.!")
    if not body or "?" in body or len(body.split()) > 4:
        return None
    return _tidy_city(body, strict)


def is_stop_request(text: str) -> bool:
    """'stop', 'cancel', 'never mind', ...: the user wants out of the form."""
    return bool(_STOP.match(text or ""))


def profession_mentioned(tracker: Tracker) -> str | None:
    """The profession named in the latest message ('my PT' -> physical_therapy), if any."""
    professions = {
        "physical_therapist": PHYSICAL_THERAPY,
        "chiropractor": CHIROPRACTIC,
        "physician": MEDICINE,
        "acupuncturist": ACUPUNCTURE,
    }
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "practitioner":
            key = normalize_term(str(entity.get("value") or ""), load_practitioners())
            if key in professions:
                return professions[key]
        if entity.get("entity") == "credential":
            return ACUPUNCTURE
    return None
