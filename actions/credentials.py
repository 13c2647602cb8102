"""Licence checks and practitioner searches: what our licence data says, plus the board's live lookup.

Two forms collect what is missing:

- ``licence_check_form``: the state (shared slot ``us_state``) and a licence number
  (``licence_number``) or a name (``practitioner_name``), read from the text in any
  usual format ("AC 12345", "AC-12345", "ac12345" -> "AC12345"; "Is Jane Doe a licensed
  acupuncturist in Texas?"). ``action_check_licence`` answers.
- ``practitioner_search_form``: the state and a city (``search_city``);
  ``action_find_practitioners`` lists at most 5 active licences there.

Answers say what the data shows (name, licence type, status, expiry, the data's source
and retrieval date), say expired/suspended/revoked plainly, and always point to the
board's own lookup for the live record: the bot never claims to have verified anyone.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, apologise_for_outage, latest_intent, run_blocking
from actions.rendering import format_date
from actions.safety import SafetySettings, privacy_notice_events
from actions.store.licence_models import (
    ACTIVE,
    ACUPUNCTURE,
    CHIROPRACTIC,
    EXPIRED,
    INACTIVE,
    MEDICINE,
    PHYSICAL_THERAPY,
    PROBATION,
    REVOKED,
    SURRENDERED,
    SUSPENDED,
    licence_number_key,
    name_key,
)
from actions.store.licence_repository import (
    Coverage,
    LicenceRecord,
    LicenceRepository,
    split_name,
    sql_licence_repository,
)
from lexicon import load_practitioners, normalize_state, normalize_term, state_name

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], AbstractContextManager[LicenceRepository]]

US_STATE_SLOT = "us_state"
NUMBER_SLOT = "licence_number"
NAME_SLOT = "practitioner_name"
CITY_SLOT = "search_city"
PROFESSION_SLOT = "credential_profession"
ATTEMPTS_SLOT = "credential_attempts"

MAX_ATTEMPTS = 3
MAX_LISTED = 5

# Intents whose message is read as an answer to the form's question even when nothing
# in it can be used (the user then hears what was wrong). Any other intent is read
# only if its short message clearly holds a value; otherwise the form steps aside so
# the rule for that intent (an FAQ, a red-flag warning, the other form, ...) can answer.
_ANSWERS = frozenset({"inform_name", "inform_state", "nlu_fallback", "out_of_scope"})
LICENCE_ANSWER_INTENTS = _ANSWERS | {"check_licence", "inform_licence_number"}
SEARCH_ANSWER_INTENTS = _ANSWERS | {"find_practitioner"}

NCCAOM_DIRECTORY_HELP = "https://help.nccaom.org/hc/en-us/articles/360009708013"
# No acupuncture licence or registration exists in these states (CCAHM; Jin et al. 2022).
NO_ACUPUNCTURE_LICENCE = frozenset({"AL", "OK", "SD"})

_STOP = re.compile(
    r"^\s*(?:stop|cancel|quit|exit|never\s*mind|nevermind|forget\s+it|no\s+thanks|abort|"
    r"stop\s+(?:the\s+)?(?:licen[cs]e\s+)?(?:check|search)|i\s+don'?t\s+know|not\s+sure)\s*[.!]*\s*$",
    re.IGNORECASE,
)


# ================================================================= reading the text
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


@dataclass(frozen=True)
class StateMention:
    """A US state the entity ruler found, with its USPS code and position."""

    code: str
    start: int
    end: int


def state_mentions(tracker: Tracker) -> list[StateMention]:
    """States named in the latest message, ignoring those inside a licence number or a city
    name ("Kansas City"), in order."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    number = find_licence_number(text)
    mentions: list[StateMention] = []
    for entity in message.get("entities") or []:
        if entity.get("entity") != US_STATE_SLOT:
            continue
        code = normalize_state(str(entity.get("value") or ""))
        if code is None:
            continue
        start = int(entity.get("start", -1))
        end = int(entity.get("end", -1))
        if number is not None and start < number.end and end > number.start:
            continue
        if end >= 0 and re.match(r"\s+city\b", text[end:], re.IGNORECASE):
            continue
        mentions.append(StateMention(code, start, end))
    return mentions


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


# ================================================================= board directory
@dataclass(frozen=True)
class BoardInfo:
    """The board that keeps a state's acupuncture licences, and its online lookup (if known)."""

    board_name: str
    lookup_url: str | None


class BoardDirectory(Protocol):
    """Where the live, official acupuncture licence record can be checked, per state."""

    def lookup(self, state_code: str) -> BoardInfo | None:
        """The board for ``state_code`` (USPS code), or None if unknown."""


class StaticBoardDirectory:
    """A fixed mapping (tests, or running without the legal data)."""

    def __init__(self, boards: dict[str, BoardInfo] | None = None) -> None:
        self._boards = dict(boards or {})

    def lookup(self, state_code: str) -> BoardInfo | None:
        return self._boards.get(state_code)


class LegalBoardDirectory:
    """Adapter to the per-state licensure data (``actions.store.legal_repository``), if installed.

    The legal repository provides ``acupuncture_board(state_code)`` returning a record with
    ``board_name`` and ``lookup_url``. It is imported here, at call time, so this module works
    (naming the board generically) before that feature exists or while its data is missing.
    """

    def lookup(self, state_code: str) -> BoardInfo | None:
        try:
            from actions.store import legal_repository  # type: ignore[attr-defined,unused-ignore]
        except ImportError:
            return None
        try:
            with self._repository(legal_repository) as repository:
                record = repository.acupuncture_board(state_code) if repository is not None else None
        except Exception as error:  # the board hint must never break the licence answer
            logger.warning("board lookup unavailable: %s", type(error).__name__)
            return None
        board_name = getattr(record, "board_name", None) if record is not None else None
        if not board_name or str(board_name).lower().startswith("none"):
            return None
        url = getattr(record, "lookup_url", None)
        return BoardInfo(board_name=str(board_name), lookup_url=str(url) if url else None)

    @staticmethod
    @contextmanager
    def _repository(module: Any) -> Iterator[Any]:
        factory = getattr(module, "sql_legal_repository", None)
        if factory is not None:
            with factory() as repository:
                yield repository
            return
        sql_class = getattr(module, "SqlLegalRepository", None)
        if sql_class is None:
            yield None
            return
        from actions.store.database import session_scope

        with session_scope() as session:
            yield sql_class(session)


# ================================================================= wording
_STATUS_WORDING = {
    INACTIVE: "INACTIVE. An inactive licence does not normally allow someone to treat patients; ask them, "
    "and check the board's live record.",
    SUSPENDED: "SUSPENDED. A suspended licence does not allow them to practise while the suspension lasts.",
    REVOKED: "REVOKED. The board has cancelled this licence; it does not allow them to practise.",
    SURRENDERED: "SURRENDERED. The holder has given this licence up; it does not allow them to practise.",
}
_PROFESSION_LABELS = {
    ACUPUNCTURE: "acupuncture",
    PHYSICAL_THERAPY: "physical therapy",
    MEDICINE: "medical",
    CHIROPRACTIC: "chiropractic",
}
_BOARD_KIND = {
    PHYSICAL_THERAPY: "physical therapy board",
    MEDICINE: "medical board",
    CHIROPRACTIC: "chiropractic board",
}


def status_sentence(record: LicenceRecord, today: date) -> str:
    """'Status: active, expires 31 January 2027.' or a plain warning for any other status."""
    expiry = record.expiration_date
    state = state_name(record.state)
    if record.status == ACTIVE:
        if expiry is None:
            return "Status: active."
        if expiry < today:
            return (
                f"Status: listed as active, but the expiry date shown ({format_date(expiry)}) has passed; "
                "it may have lapsed or been renewed since, so check the live record."
            )
        return f"Status: active, expires {format_date(expiry)}."
    if record.status == PROBATION:
        until = f" Expires {format_date(expiry)}." if expiry else ""
        return (
            "Status: ON PROBATION. The licence is in force, but the board has set conditions on their "
            f"practice; the board's record explains why.{until}"
        )
    if record.status == EXPIRED:
        when = f" on {format_date(expiry)}" if expiry else ""
        return (
            f"Status: EXPIRED{when}. An expired licence does not allow them to practise in {state}; "
            "it may have been renewed since our data was retrieved, so check the live record."
        )
    return "Status: " + _STATUS_WORDING.get(record.status, f"{record.status.upper()}.")


def short_status(record: LicenceRecord, today: date) -> str:
    """'active', 'EXPIRED', 'ON PROBATION': for lists."""
    if record.status == ACTIVE:
        if record.expiration_date is not None and record.expiration_date < today:
            return "listed active, expiry date passed"
        return "active"
    if record.status == PROBATION:
        return "ON PROBATION"
    return record.status.upper()


def describe_record(record: LicenceRecord, today: date) -> str:
    """The lines about one licence: who, what, where, status, credentials."""
    place = ", ".join(part for part in (record.city, state_name(record.state)) if part)
    lines = [
        f"{record.full_name}: {record.license_type}, licence {record.license_number}, {place}.",
        status_sentence(record, today),
    ]
    if record.credentials:
        lines.append(f"Credentials listed: {record.credentials.rstrip('.')}.")
    if record.national_certification:
        lines.append(f"National certification number listed: {record.national_certification.rstrip('.')}.")
    return "\n".join(lines)


def data_sentence(records: Sequence[LicenceRecord] = (), coverage: Coverage | None = None) -> str:
    """'Data: <source>, retrieved <date>.' from the records shown, else from the state's coverage."""
    pairs = sorted({(r.source, r.retrieved_on) for r in records}, key=lambda pair: (pair[1], pair[0]))
    if pairs:
        parts = [f"{source}, retrieved {format_date(retrieved)}" for source, retrieved in pairs[:3]]
        return "Data: " + "; ".join(parts) + "."
    if coverage is not None:
        sources = "; ".join(coverage.sources)
        if coverage.oldest_retrieved_on == coverage.newest_retrieved_on:
            when = f"retrieved {format_date(coverage.newest_retrieved_on)}"
        else:
            when = (
                f"retrieved between {format_date(coverage.oldest_retrieved_on)} and "
                f"{format_date(coverage.newest_retrieved_on)}"
            )
        return f"Our {state_name(coverage.state)} data: {sources}, {when}."
    return ""


def board_sentence(
    state: str, profession: str | None, board: BoardInfo | None, search: str = "search the name on"
) -> str:
    """Where to check the live, official record (the board's lookup address when known)."""
    name = state_name(state)
    kind = _BOARD_KIND.get(profession or ACUPUNCTURE)
    if kind is not None:
        return f"For the live, official record, {search} the online licence lookup of the {name} {kind}."
    if state in NO_ACUPUNCTURE_LICENCE:
        return (
            f"{name} does not license acupuncturists, so there is no state acupuncture licence "
            "to check there; "
            "look for national certification in NCCAOM's Find a Practitioner directory "
            f"(how to use it: {NCCAOM_DIRECTORY_HELP})."
        )
    if board is not None and board.lookup_url:
        return (
            f"For the live, official record, use the licence lookup of the {board.board_name}: "
            f"{board.lookup_url}"
        )
    if board is not None:
        return f"For the live, official record, {search} the online licence lookup of the {board.board_name}."
    return (
        f"For the live, official record, {search} the online licence lookup of the {name} acupuncture board."
    )


NOT_LIVE = (
    "This is what our licence data shows. It is not a live check, and I can't confirm "
    "that this is the person treating you."
)


# ================================================================= forms
def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _reading(tracker: Tracker, answer_intents: frozenset[str]) -> str:
    """How to read the latest message: 'open' (as an answer), 'strict' (only a clear value) or 'none'."""
    if tracker.get_slot(REQUESTED_SLOT) is None or latest_intent(tracker) in answer_intents:
        return "open"
    text = _text(tracker).strip()
    if len(text.split()) <= 5 and not text.endswith("?"):
        return "strict"
    return "none"


class _CredentialFormValidation(FormValidationAction, ABC):
    """Shared by both forms: state extraction, retries with a clear message, a way out.

    Abstract (no ``name``), so the action server does not try to register it.
    """

    form_label = "check"
    restart_hint = '"Check licence AC-12345 in Texas" or "Is Jane Example licensed in Texas?"'
    # What this form looks for; left over from an earlier, unfinished form, they are cleared
    # when the form starts unless the starting message gives them again.
    subject_slots: tuple[str, ...] = ()
    # Intents read as an answer even when nothing usable is in the message (see _reading).
    answer_intents: frozenset[str] = frozenset()

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # As FormValidationAction.run, plus: slot events the SDK would drop because the slot
        # is not a required slot right now (the attempt count, a cleared value), a fresh
        # start when the form is activated, and a way to end the form early.
        extraction = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction)
        validation = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validation)
        validated = {event["name"] for event in validation}
        events = list(validation)
        events += [
            e
            for e in extraction
            if e["name"] not in validated and (e["name"] == ATTEMPTS_SLOT or e["value"] is None)
        ]
        if tracker.get_slot(REQUESTED_SLOT) is None:  # the form is starting
            given = {e["name"] for e in extraction}
            stale = [
                SlotSet(slot, None)
                for slot in (*self.subject_slots, PROFESSION_SLOT)
                if slot not in given and tracker.get_slot(slot) is not None
            ]
            tracker.add_slots(stale)
            events += stale
            profession = profession_mentioned(tracker)
            if profession:
                tracker.add_slots([SlotSet(PROFESSION_SLOT, profession)])
                events.append(SlotSet(PROFESSION_SLOT, profession))
        if (tracker.get_slot(ATTEMPTS_SLOT) or 0) >= MAX_ATTEMPTS:
            return [*events, SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    def _problem(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, message: str
    ) -> dict[str, Any]:
        """The answer could not be used: say why, count the attempt, give up after MAX_ATTEMPTS."""
        if is_stop_request(_text(tracker)):
            dispatcher.utter_message(text=f"OK, I've stopped the {self.form_label}. Ask me anything else.")
            return {slot: None, ATTEMPTS_SLOT: MAX_ATTEMPTS}
        attempts = int(tracker.get_slot(ATTEMPTS_SLOT) or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            dispatcher.utter_message(
                text=(
                    f"{message}\nLet's leave the {self.form_label} there for now. "
                    "You can start again any time, "
                    f"for example: {self.restart_hint}"
                )
            )
        else:
            dispatcher.utter_message(text=message)
        return {slot: None, ATTEMPTS_SLOT: attempts}

    @staticmethod
    def _succeeded(tracker: Tracker, values: dict[str, Any]) -> dict[str, Any]:
        if tracker.get_slot(ATTEMPTS_SLOT):
            return {**values, ATTEMPTS_SLOT: None}
        return values

    async def extract_us_state(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        mode = _reading(tracker, self.answer_intents)
        asked = tracker.get_slot(REQUESTED_SLOT) == US_STATE_SLOT
        if asked and is_stop_request(_text(tracker)):
            return self._problem(dispatcher, tracker, US_STATE_SLOT, "")
        if mode == "none":
            return {}
        mentions = state_mentions(tracker)
        if mentions:
            return self._succeeded(tracker, {US_STATE_SLOT: mentions[-1].code})
        if not asked:
            return {}
        text = _text(tracker)
        code = normalize_state(text) if len(text.split()) <= 6 else None
        if code:
            return self._succeeded(tracker, {US_STATE_SLOT: code})
        if mode == "strict":
            return {}
        return self._problem(
            dispatcher,
            tracker,
            US_STATE_SLOT,
            "Sorry, I couldn't match that to a US state. "
            "Please give the state's name or its two-letter code, "
            'for example "Texas" or "TX".',
        )

    def validate_us_state(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normalize_state(str(value)) if value else None
        return {US_STATE_SLOT: code}


class ValidateLicenceCheckForm(_CredentialFormValidation):
    """Collects the state and a licence number or a name."""

    form_label = "licence check"
    subject_slots = (NUMBER_SLOT, NAME_SLOT)
    answer_intents = LICENCE_ANSWER_INTENTS

    def name(self) -> str:
        return "validate_licence_check_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The domain asks for us_state and licence_number; a name does instead of a number.
        if tracker.get_slot(NAME_SLOT) and not tracker.get_slot(NUMBER_SLOT):
            return [US_STATE_SLOT, NAME_SLOT]
        return [US_STATE_SLOT, NUMBER_SLOT]

    async def extract_licence_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot(REQUESTED_SLOT) == NUMBER_SLOT
        text = _text(tracker)
        if asked and is_stop_request(text):
            return self._problem(dispatcher, tracker, NUMBER_SLOT, "")
        mode = _reading(tracker, self.answer_intents)
        if mode == "none":
            return {}
        number = find_licence_number(text, prompted=asked)
        # A number replaces a name given earlier, and the other way round.
        if number is not None:
            return self._succeeded(tracker, {NUMBER_SLOT: number.key, **_cleared(tracker, NAME_SLOT)})
        name = find_person_name(
            _without_states(tracker),
            answer=asked or latest_intent(tracker) == "inform_name",
            strict=mode == "strict",
        )
        if name:
            return self._succeeded(tracker, {NAME_SLOT: name, **_cleared(tracker, NUMBER_SLOT)})
        if not asked or mode == "strict":
            return {}
        return self._problem(
            dispatcher,
            tracker,
            NUMBER_SLOT,
            "Sorry, I couldn't find a licence number or a name in that. Please give the licence number "
            "(for example AC-12345) or the practitioner's first and last name.",
        )

    def validate_licence_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        key = licence_number_key(str(value)) if value else ""
        return {NUMBER_SLOT: key or None}

    def validate_practitioner_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        _, last = split_name(str(value)) if value else (None, None)
        return {NAME_SLOT: str(value).strip() if last else None}


def _cleared(tracker: Tracker, slot: str) -> dict[str, Any]:
    """{slot: None} if the slot holds a value, else nothing."""
    return {slot: None} if tracker.get_slot(slot) is not None else {}


def _without_states(tracker: Tracker) -> str:
    """The latest text with the state mentions cut out ("Jane Example in Texas" -> "Jane Example")."""
    text = _text(tracker)
    for mention in sorted(state_mentions(tracker), key=lambda m: m.start, reverse=True):
        if mention.start >= 0:
            before = re.sub(r"\b(?:in|from|of)\s*$", "", text[: mention.start], flags=re.IGNORECASE)
            text = before + text[mention.end :]
    return text


class ValidatePractitionerSearchForm(_CredentialFormValidation):
    """Collects the state and the city to search."""

    form_label = "search"
    subject_slots = (CITY_SLOT,)
    answer_intents = SEARCH_ANSWER_INTENTS
    restart_hint = '"Find a licensed acupuncturist near Austin, TX"'

    def name(self) -> str:
        return "validate_practitioner_search_form"

    async def extract_search_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot(REQUESTED_SLOT) == CITY_SLOT
        text = _text(tracker)
        if asked and is_stop_request(text):
            return self._problem(dispatcher, tracker, CITY_SLOT, "")
        mode = _reading(tracker, self.answer_intents)
        if mode == "none":
            return {}
        spans = [(m.start, m.end) for m in state_mentions(tracker) if m.start >= 0]
        city = find_city(text, spans, answer=asked, strict=mode == "strict")
        if city:
            return self._succeeded(tracker, {CITY_SLOT: city})
        if not asked or mode == "strict":
            return {}
        return self._problem(
            dispatcher,
            tracker,
            CITY_SLOT,
            'Sorry, I need the name of a city or town to search, for example "Austin".',
        )

    def validate_search_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {CITY_SLOT: str(value).strip() if value else None}


# ================================================================= answers
@dataclass
class LicenceLookup:
    """Everything one licence-check answer needs (read in one worker-thread call)."""

    records: list[LicenceRecord] = field(default_factory=list)
    coverage: Coverage | None = None
    board: BoardInfo | None = None


class _CredentialAction(Action, ABC):
    """Repository, board directory and clock come in through the constructor (tests pass fakes).

    Abstract (no ``name``), so the action server does not try to register it.
    """

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def __init__(
        self,
        repository_factory: RepositoryFactory | None = None,
        board_directory: BoardDirectory | None = None,
        today: Callable[[], date] | None = None,
        safety_settings: SafetySettings | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_licence_repository
        self._board_directory = board_directory or LegalBoardDirectory()
        self._today = today or date.today
        self._safety_settings = safety_settings

    def _board(self, state: str) -> BoardInfo | None:
        try:
            return self._board_directory.lookup(state)
        except Exception as error:  # a missing board name must not cost the user the answer
            logger.warning("board directory failed: %s", type(error).__name__)
            return None


CHECK_RESET = [
    SlotSet(NUMBER_SLOT, None),
    SlotSet(NAME_SLOT, None),
    SlotSet(PROFESSION_SLOT, None),
    SlotSet(ATTEMPTS_SLOT, None),
]


class ActionCheckLicence(_CredentialAction):
    """Look a licence up by number or by name in one state and say what the data shows."""

    def name(self) -> str:
        return "action_check_licence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        state = tracker.get_slot(US_STATE_SLOT)
        number = tracker.get_slot(NUMBER_SLOT)
        name = tracker.get_slot(NAME_SLOT)
        if not state or not (number or name):
            return list(CHECK_RESET)  # the form was stopped; it has already said so
        try:
            lookup = await run_blocking(self._lookup, state, number, name)
        except DataUnavailable:
            apologise_for_outage(dispatcher)
            return list(CHECK_RESET)
        profession = tracker.get_slot(PROFESSION_SLOT)
        text, buttons = self.compose(state, number, name, profession, lookup, self._today())
        dispatcher.utter_message(text=text, buttons=buttons)
        if buttons:
            return list(CHECK_RESET)  # the reply ends with a question: nothing may follow it
        # The user may have typed a name: say what is kept and how to delete it.
        return list(CHECK_RESET) + privacy_notice_events(dispatcher, tracker, self._safety_settings)

    def _lookup(self, state: str, number: str | None, name: str | None) -> LicenceLookup:
        with self._repository_factory() as repository:
            if number:
                records = repository.find_by_number(state, number)
            else:
                first, last = split_name(name or "")
                records = repository.find_by_name(state, first, last or "")
            coverage = None if records else repository.coverage(state)
        return LicenceLookup(records=records, coverage=coverage, board=self._board(state))

    @staticmethod
    def compose(
        state: str,
        number: str | None,
        name: str | None,
        profession: str | None,
        lookup: LicenceLookup,
        today: date,
    ) -> tuple[str, list[dict[str, str]]]:
        """The reply text and buttons (pure: unit-tested directly)."""
        records = lookup.records
        where = state_name(state)
        asked = f"licence {number}" if number else str(name)
        if records:
            profession = records[0].profession
        board = board_sentence(state, profession, lookup.board)
        if not records:
            if lookup.coverage is None:
                data = f"I don't hold any licence data for {where} yet."
            else:
                data = "Our data may be incomplete or out of date. " + data_sentence(coverage=lookup.coverage)
            return (
                f"I could not find {asked} in {where} in our data; that does not prove they are unlicensed.\n"
                f"{data}\n{board}",
                [],
            )
        exact = _exact_match(records, number, name)
        if len(records) == 1:
            intro = (
                NOT_LIVE
                if exact
                else (
                    f"I could not find {asked} exactly in {where} in our data. The closest match is below; "
                    "please make sure it is the right one. " + NOT_LIVE
                )
            )
            return f"{intro}\n\n{describe_record(records[0], today)}\n\n{data_sentence(records)}\n{board}", []
        heading = (
            f"Our licence data has {len(records)} licences in {where} matching {asked}:"
            if exact
            else f"I could not find {asked} exactly in {where}; our licence data has these close matches:"
        )
        lines = [heading]
        shown = records[:MAX_LISTED]
        for index, record in enumerate(shown, start=1):
            place = f", {record.city}" if record.city else ""
            lines.append(
                f"{index}. {record.full_name}, {record.license_type}{place}: licence {record.license_number} "
                f"({short_status(record, today)})"
            )
        if len(records) > MAX_LISTED:
            lines.append(
                f"... and {len(records) - MAX_LISTED} more. Adding the licence number narrows it down."
            )
        lines.append("Which one do you mean? Tell me the licence number, or tap it below.")
        lines.append("")
        lines.append(data_sentence(shown))
        lines.append(board)
        buttons = [
            {"title": f"{r.license_number} ({r.city or where})", "payload": r.license_number} for r in shown
        ]
        return "\n".join(lines), buttons


def _exact_match(records: Sequence[LicenceRecord], number: str | None, name: str | None) -> bool:
    if number:
        key = licence_number_key(number)
        return any(licence_number_key(r.license_number) == key for r in records)
    _, last = split_name(name or "")

    def same_last_name(record: LicenceRecord) -> bool:
        stored = name_key(record.last_name)
        return last == stored or stored.startswith(f"{last} ") or stored.endswith(f" {last}")

    return any(same_last_name(r) for r in records)


SEARCH_RESET = [
    SlotSet(CITY_SLOT, None),
    SlotSet(PROFESSION_SLOT, None),
    SlotSet(ATTEMPTS_SLOT, None),
]


class ActionFindPractitioners(_CredentialAction):
    """List at most 5 active licences in a city, with the same caveats as a licence check."""

    def name(self) -> str:
        return "action_find_practitioners"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        state = tracker.get_slot(US_STATE_SLOT)
        city = tracker.get_slot(CITY_SLOT)
        if not state or not city:
            return list(SEARCH_RESET)
        profession = tracker.get_slot(PROFESSION_SLOT) or ACUPUNCTURE
        if profession not in (ACUPUNCTURE, PHYSICAL_THERAPY):
            profession = ACUPUNCTURE
        try:
            records, coverage, board = await run_blocking(self._search, city, state, profession)
        except DataUnavailable:
            apologise_for_outage(dispatcher)
            return list(SEARCH_RESET)
        dispatcher.utter_message(
            text=self.compose(city, state, profession, records, coverage, board, self._today())
        )
        return list(SEARCH_RESET) + privacy_notice_events(dispatcher, tracker, self._safety_settings)

    def _search(
        self, city: str, state: str, profession: str
    ) -> tuple[list[LicenceRecord], Coverage | None, BoardInfo | None]:
        with self._repository_factory() as repository:
            records = repository.find_active_near(city, state, limit=MAX_LISTED + 1, profession=profession)
            coverage = None if records else repository.coverage(state)
        return records, coverage, self._board(state)

    @staticmethod
    def compose(
        city: str,
        state: str,
        profession: str,
        records: Sequence[LicenceRecord],
        coverage: Coverage | None,
        board: BoardInfo | None,
        today: date,
    ) -> str:
        """The reply text (pure: unit-tested directly)."""
        where = f"{city}, {state_name(state)}"
        label = _PROFESSION_LABELS.get(profession, "acupuncture")
        live = board_sentence(state, profession, board, search="check each name on")
        if not records:
            data = (
                f"I don't hold any licence data for {state_name(state)} yet."
                if coverage is None
                else (
                    "That does not mean there are none: our data may be incomplete. "
                    + data_sentence(coverage=coverage)
                )
            )
            extra = (
                "\nNCCAOM's Find a Practitioner directory also lists nationally certified acupuncturists "
                f"(how to use it: {NCCAOM_DIRECTORY_HELP})."
                if profession == ACUPUNCTURE
                else ""
            )
            return f"I found no active {label} licences for {where} in our data.\n{data}\n{live}{extra}"
        shown = list(records[:MAX_LISTED])
        lines = [f"Active {label} licences in our data for {where}:"]
        for index, record in enumerate(shown, start=1):
            expiry = f", expires {format_date(record.expiration_date)}" if record.expiration_date else ""
            credentials = f" ({record.credentials})" if record.credentials else ""
            lines.append(
                f"{index}. {record.full_name}{credentials}: {record.license_type}, "
                f"licence {record.license_number}{expiry}"
            )
        if len(records) > MAX_LISTED:
            lines.append(f"There are more in our data; I list at most {MAX_LISTED}.")
        lines.append("")
        lines.append(
            "This is not a recommendation and not a live check: it is what our licence data shows. "
            + data_sentence(shown)
        )
        lines.append(live)
        return "\n".join(lines)
