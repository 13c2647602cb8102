"""State legality: is dry needling legal in a state, how a state licenses acupuncturists.

The question type (dry needling or acupuncture) and the profession asked about are
remembered in slots, and the state in the shared ``us_state`` slot, so that "can a PT
do it here?" reuses the state and "what about Texas?" re-asks the same question for
Texas. ``state_form`` makes sure a state is known before the answer:

- ``validate_state_form`` fills ``us_state`` from the ``us_state`` entity (the spaCy
  entity ruler), else from "in <state>" in the text, else (when the bot asked) from
  the whole reply; it records the question type when a question activates the form;
- ``action_answer_legal`` answers from the database: "Last checked <date>; source dated
  <date>." first (the date this project checked the row, then the date of the source it
  rests on, so nobody reads an old source as current), then the direct answer, conditions,
  pending changes, caveats and the source; a row with a ``check_first`` reason (Illinois)
  says "Please check with <board> before relying on this" and why before the status;
- ``action_list_legal_states`` answers list questions ("which states ban it?").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import (
    DataUnavailable,
    apologise_for_outage,
    latest_entity_values,
    latest_intent,
    run_blocking,
)
from actions.lexicon import load_practitioners, load_states, load_treatments, normalize_state, normalize_term
from actions.rendering import CitedSource, ShortFirstAnswer, format_date
from actions.safety import SafetySettings, first_answer_notes
from actions.store.legal_data import is_stale, max_age_months
from actions.store.legal_repository import (
    ALLOWED,
    NOT_ADDRESSED,
    PROHIBITED,
    UNCLEAR,
    AcupunctureLicensure,
    DryNeedlingRule,
    LegalRepository,
    LegalSource,
    sql_legal_repository,
)

logger = logging.getLogger(__name__)

LegalRepositoryFactory = Callable[[], AbstractContextManager[LegalRepository]]

FORM_NAME = "state_form"
STATE_SLOT = "us_state"
QUESTION_SLOT = "legal_question"
PRACTITIONER_SLOT = "legal_practitioner"
ATTEMPTS_SLOT = "legal_state_attempts"
NOTE_SLOT = "legal_note_shown"

DRY_NEEDLING = "dry_needling"
ACUPUNCTURE = "acupuncture"
DRY_NEEDLING_INTENT = "ask_dry_needling_legality"
ACUPUNCTURE_INTENT = "ask_acupuncture_licensure"
LIST_INTENT = "ask_legal_state_list"
INFORM_STATE_INTENT = "inform_state"
QUESTION_INTENTS = {DRY_NEEDLING_INTENT: DRY_NEEDLING, ACUPUNCTURE_INTENT: ACUPUNCTURE}
INFORM_TREATMENT_INTENT = "inform_treatment"
# While the bot waits for a state, these replies count as a (failed) attempt at one...
ANSWER_INTENTS = frozenset({INFORM_STATE_INTENT, "nlu_fallback", "out_of_scope", "nonsense"})
# ... and these mean "never mind" (goodbye has its own rule).
CANCEL_INTENTS = frozenset({"something_else", "thanks"})
MAX_STATE_ATTEMPTS = 3

# Treatments whose state rules the data covers; other treatments are named in the reply.
TOPIC_OF_TREATMENT = {
    "dry_needling": DRY_NEEDLING,
    "acupuncture": ACUPUNCTURE,
    "electroacupuncture": ACUPUNCTURE,
}
TREATMENT_NAMES = {
    "tui_na": "Tui Na",
    "cupping": "cupping",
    "moxibustion": "moxibustion",
}
PRACTITIONER_NAMES = {
    "physical_therapist": "physical therapists",
    "chiropractor": "chiropractors",
    "acupuncturist": "acupuncturists",
    "physician": "physicians",
    "athletic_trainer": "athletic trainers",
    "occupational_therapist": "occupational therapists",
    "physical_therapist_assistant": "PT assistants",
}
STATUS_WORDS = {
    ALLOWED: "allowed",
    PROHIBITED: "prohibited",
    NOT_ADDRESSED: "not addressed by law",
    UNCLEAR: "unclear",
}
LEGAL_NOTE = (
    "This is general information about state rules, not legal advice: the state board has "
    "the final word, and rules change."
)
MORE_SOURCES_SHOWN = 2

_PREPOSITION = re.compile(r"\b(?:in|from|for|about|of|at)\s+", re.IGNORECASE)
_WORDS = re.compile(r"(?:[A-Za-z][A-Za-z.']*\s*){1,3}")


# ---------------------------------------------------------------- reading the user's message


def state_in_message(message: dict[str, Any]) -> str | None:
    """The USPS code of a state named in a message, or None.

    First the ``us_state`` entities of the entity ruler ("Calif.", "in OR"), then
    "in/from/about <words>" in the text, which catches lower-case codes ("in ny").
    """
    for entity in message.get("entities") or []:
        if entity.get("entity") == "us_state":
            code = normalize_state(str(entity.get("value") or ""))
            if code:
                return code
    text = str(message.get("text") or "")
    for preposition in _PREPOSITION.finditer(text):
        following = _WORDS.match(text, preposition.end())
        words = following.group(0).split() if following else []
        for size in range(len(words), 0, -1):
            phrase = " ".join(words[:size])
            # "legal for an MD", "in DN": professions and treatments are not states.
            if normalize_term(phrase, load_practitioners()) or normalize_term(phrase, load_treatments()):
                continue
            code = normalize_state(phrase)
            if code:
                return code
    return None


def _asking_for_state(tracker: Tracker) -> bool:
    return tracker.active_loop_name == FORM_NAME and tracker.get_slot(REQUESTED_SLOT) == STATE_SLOT


def read_state_reply(tracker: Tracker) -> tuple[str | None, str]:
    """What the latest message says about the state: (code, outcome).

    outcome is "found", "failed" (a reply that should have named a state), "question"
    (a new question without a state while the bot waits for one), "cancel" or "none".
    """
    intent = latest_intent(tracker)
    message = tracker.latest_message
    asking = _asking_for_state(tracker)
    code = state_in_message(message)
    if code is None and (asking or intent == INFORM_STATE_INTENT):
        code = normalize_state(str(message.get("text") or ""))
    if code:
        return code, "found"
    if asking and intent in CANCEL_INTENTS:
        return None, "cancel"
    if asking and intent in QUESTION_INTENTS:
        return None, "question"
    if intent == INFORM_STATE_INTENT or (asking and intent in ANSWER_INTENTS):
        return None, "failed"
    return None, "none"


def question_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Remember the question type and profession when the message is a legality question."""
    intent = latest_intent(tracker)
    treatments = {
        key
        for key in (normalize_term(v, load_treatments()) for v in latest_entity_values(tracker, "treatment"))
        if key
    }
    if intent in QUESTION_INTENTS:
        topic = QUESTION_INTENTS[intent]
    elif (
        intent == INFORM_TREATMENT_INTENT and len(treatments) == 1 and treatments <= TOPIC_OF_TREATMENT.keys()
    ):
        # "dry needling too?" right after a legal answer (data/rules/legal.yml): the same
        # state, asked about the treatment just named.
        topic = TOPIC_OF_TREATMENT[next(iter(treatments))]
    else:
        return []
    if len(treatments) == 1:
        treatment = next(iter(treatments))
        topic = TOPIC_OF_TREATMENT.get(treatment, treatment)
    practitioner = next(
        (
            key
            for key in (
                normalize_term(v, load_practitioners()) for v in latest_entity_values(tracker, "practitioner")
            )
            if key
        ),
        None,
    )
    if topic != DRY_NEEDLING:
        practitioner = None  # "does Ohio license acupuncturists?" is not about a profession dry needling
    return [SlotSet(QUESTION_SLOT, topic), SlotSet(PRACTITIONER_SLOT, practitioner)]


# Answers about acupuncturists' titles and licences: a state named next is about licensing.
ACUPUNCTURE_CREDENTIAL_TOPICS = frozenset(
    {
        "lac_vs_nccaom",
        "nccaom_what_is",
        "acahm_accreditation",
        "cac_and_other_titles",
        "how_to_check_a_licence",
        "acupuncturist_training",
        "physician_acupuncturists",
        "credential_red_flags",
    }
)


def _topic_of_faq(key: str) -> str | None:
    for treatment, topic in TOPIC_OF_TREATMENT.items():
        if key.startswith(treatment):
            return topic
    if key in ACUPUNCTURE_CREDENTIAL_TOPICS:
        return ACUPUNCTURE
    return None


def resolve_question(tracker: Tracker) -> tuple[str | None, bool]:
    """The question type the next state answer is about, and whether the user asked it.

    The more recent of: the last legality question (asked: True), and a general "who
    may practise" FAQ answer, which invites the user to name their state. Failing both,
    the treatment the conversation is about.
    """
    for event in reversed(tracker.events or []):
        if event.get("event") != "slot" or not event.get("value"):
            continue
        if event.get("name") == QUESTION_SLOT:
            return str(event["value"]), True
        if event.get("name") == "last_topic" and str(event["value"]).endswith("_who_may_practise"):
            topic = _topic_of_faq(str(event["value"]))
            if topic:
                return topic, False
    topic = tracker.get_slot(QUESTION_SLOT)
    if topic:
        return str(topic), True
    context = tracker.get_slot("treatment_context")
    if context in TOPIC_OF_TREATMENT:
        return TOPIC_OF_TREATMENT[str(context)], False
    return _topic_of_faq(str(tracker.get_slot("last_topic") or "")), False


def resolve_topic(tracker: Tracker) -> str | None:
    """The question type only (see :func:`resolve_question`)."""
    return resolve_question(tracker)[0]


# ---------------------------------------------------------------- rendering


def place(code: str, name: str) -> str:
    """How a jurisdiction reads inside a sentence ("in Ohio", "in the District of Columbia")."""
    return "the District of Columbia" if code == "DC" else name


def _date_words(value: date, precision: str) -> str:
    """A source date as precise as it is known: '13 June 2017', 'January 2026', '2025', 'about 2023'."""
    if precision == "approx":
        return f"about {value.year}"
    if precision == "year":
        return str(value.year)
    if precision == "month":
        return value.strftime("%B %Y")
    return format_date(value)


def source_date_phrase(value: date | None, precision: str) -> str:
    """'source dated January 2026', 'source undated, about 2023' or 'source undated'."""
    if value is None or precision == "undated":
        return "source undated"
    if precision == "approx":
        return f"source undated, {_date_words(value, precision)}"
    return f"source dated {_date_words(value, precision)}"


def dates_phrase(verified_on: date, source_date: date | None, precision: str) -> str:
    """'last checked 21 November 2026; source dated June 2023': a reader sees at once that a
    recent check can rest on an old source."""
    return f"last checked {format_date(verified_on)}; {source_date_phrase(source_date, precision)}"


def dates_lead(verified_on: date, source_date: date | None, precision: str) -> str:
    """The dates as a sentence: 'Last checked 21 November 2026; source dated June 2023.'"""
    return _sentence_case(dates_phrase(verified_on, source_date, precision)) + "."


# The one-word answer a state answer's short answer starts with, by status.
ANSWER_WORDS = {ALLOWED: "Yes", PROHIBITED: "No", NOT_ADDRESSED: "Not addressed", UNCLEAR: "Unclear"}


def status_short(answer_word: str, clause: str, status_word: str, dates: str) -> str:
    """'Yes — physical therapists in Texas may dry needle (allowed; last checked ...; source dated ...).'"""
    return f"{answer_word} — {clause} ({status_word}; {dates})."


def sources_dates_lead(rows: Sequence[DryNeedlingRule | AcupunctureLicensure]) -> str:
    """The dates of a list answer: the oldest check, then the range of the rows' source dates.

    'last checked 21 November 2026; sources dated 13 June 2017 to January 2026'
    """
    checked = format_date(min(row.verified_on for row in rows))
    dated = sorted(
        ((row.source_date, row.source_date_precision) for row in rows if row.source_date is not None),
        key=lambda pair: pair[0],
    )
    undated = len(rows) - len(dated)
    if not dated:
        return f"last checked {checked}; sources undated"
    oldest, newest = _date_words(*dated[0]), _date_words(*dated[-1])
    span = oldest if oldest == newest else f"{oldest} to {newest}"
    note = f", {undated} undated" if undated else ""
    return f"last checked {checked}; sources dated {span}{note}"


def _source_line(source: LegalSource) -> str:
    return f"{source.title} ({source.dated})" + (f": {source.url}" if source.url else "")


def cited_sources(
    sources: Sequence[LegalSource], source_date: date | None, precision: str
) -> tuple[CitedSource, ...]:
    """The sources :func:`render_sources` shows, for the channels' source links."""
    main = CitedSource(sources[0].title, sources[0].url, source_date_phrase(source_date, precision))
    more = sources[1 : 1 + MORE_SOURCES_SHOWN]
    return (main, *(CitedSource(source.title, source.url, source.dated) for source in more))


def render_sources(sources: Sequence[LegalSource], source_date: date | None, precision: str) -> str:
    """The main source with the row's source date, then up to two more it was checked against."""
    main = sources[0]
    lines = [
        f"Source: {main.title}"
        + (f" - {main.url}" if main.url else "")
        + f" ({source_date_phrase(source_date, precision)})"
    ]
    more = sources[1 : 1 + MORE_SOURCES_SHOWN]
    if more:
        lines.append("Also consulted:")
        lines += [f"- {_source_line(source)}" for source in more]
    return "\n".join(lines)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _count_phrase(codes: Sequence[str]) -> str:
    states = len([code for code in codes if code != "DC"])
    noun = "state" if states == 1 else "states"
    return f"{states} {noun} and DC" if "DC" in codes else f"{states} {noun}"


def _stale_line(verified_on: date, today: date, months: int) -> list[str]:
    if not is_stale(verified_on, today, months):
        return []
    return [
        f"This was last checked on {format_date(verified_on)}, more than {months} months ago, "
        "so it may be out of date."
    ]


def pt_clause(rule: DryNeedlingRule) -> str:
    """The direct answer for physical therapists, with the status word in brackets."""
    where = place(rule.state_code, rule.state_name)
    word = STATUS_WORDS[rule.status]
    if rule.status == ALLOWED:
        return f"physical therapists in {where} may dry needle ({word})."
    if rule.status == PROHIBITED:
        return f"physical therapists in {where} may not dry needle ({word})."
    if rule.status == NOT_ADDRESSED:
        return f"the law in {where} does not address dry needling by physical therapists ({word})."
    return f"it is unclear whether physical therapists in {where} may dry needle ({word})."


def pt_board(rule: DryNeedlingRule) -> str:
    """Who to check with: the named board, or a description of the state's PT board."""
    board = f"the {rule.board}" if rule.board else f"the {rule.state_name} physical therapy licensing board"
    return f"{board} ({rule.board_url})" if rule.board_url else board


def _other_clause(rule: DryNeedlingRule, practitioner: str, dates: str) -> tuple[str, list[str]]:
    """The short answer for another profession (from the row's 'others' if known), and what follows."""
    who = PRACTITIONER_NAMES.get(practitioner, practitioner.replace("_", " "))
    where = place(rule.state_code, rule.state_name)
    other = rule.other(practitioner)
    if other is None:
        return (
            f"Not confirmed — I have no confirmed information on whether {who} in {where} may dry needle "
            f"({dates}).",
            [f"Please check with the {rule.state_name} board that licenses {who}."],
        )
    word = STATUS_WORDS[other.status]
    if other.status == ALLOWED:
        clause = f"{who} in {where} may dry needle"
    elif other.status == PROHIBITED:
        clause = f"{who} in {where} may not dry needle"
    else:
        clause = f"it is unclear whether {who} in {where} may dry needle"
    lines = [] if other.verified else ["This comes from a less reliable source and is not confirmed."]
    lines.append(other.note)
    return status_short(ANSWER_WORDS.get(other.status, "Unclear"), clause, word, dates), lines


def _pt_short(rule: DryNeedlingRule, dates: str) -> str:
    """'Yes — physical therapists in Texas may dry needle (allowed; last checked ...).'"""
    clause = pt_clause(rule).rsplit(" (", 1)[0]
    return status_short(ANSWER_WORDS[rule.status], clause, STATUS_WORDS[rule.status], dates)


def dry_needling_answer(
    rule: DryNeedlingRule, practitioner: str | None, today: date, months: int
) -> ShortFirstAnswer:
    """One state's answer: the status and dates in one sentence, then terms, others, caveats, sources.

    A row with a ``check_first`` reason leads with "Please check with the board before relying
    on this", the status as what the sources say, and the reason right after.
    """
    dates = dates_phrase(rule.verified_on, rule.source_date, rule.source_date_precision)
    lines: list[str] = []
    asked_other = practitioner not in (None, "physical_therapist")
    if asked_other:
        assert practitioner is not None
        short, rest = _other_clause(rule, practitioner, dates)
        lines += rest
        lines.append(f"For physical therapists: {pt_clause(rule)}")
    elif rule.conflict:
        clause = pt_clause(rule).rsplit(" (", 1)[0]
        short = (
            f"Sources disagree — the main source says {clause} ({STATUS_WORDS[rule.status]}; {dates}); "
            "please check with the board."
        )
    else:
        short = _pt_short(rule, dates)
    if rule.check_first:
        if not asked_other:
            clause = pt_clause(rule).rsplit(" (", 1)[0]
            short = (
                f"Please check with the board before relying on this: the sources say {clause} "
                f"({STATUS_WORDS[rule.status]}; {dates}), but they may be out of date."
            )
        lines.insert(0, f"Please check with {pt_board(rule)} before relying on this. {rule.check_first}")
    lines.append(rule.summary)
    if rule.conditions and not asked_other:
        lines.append("What physical therapists need:")
        lines += [f"- {_sentence_case(condition)}" for condition in rule.conditions]
    others = [o for o in rule.others if o.practitioner != practitioner]
    if others:
        lines.append("Others:")
        for other in others:
            label = _sentence_case(PRACTITIONER_NAMES.get(other.practitioner, other.practitioner))
            word = STATUS_WORDS[other.status] + ("" if other.verified else ", not confirmed")
            lines.append(f"- {label} ({word}): {other.note}")
    if rule.pending:
        lines.append("Pending changes:")
        lines += [f"- {_sentence_case(change)}" for change in rule.pending]
    if rule.conflict:
        lines.append(f"Sources disagree: {rule.conflict}")
    if rule.caveats:
        lines.append("Please note: " + " ".join(rule.caveats))
    if (rule.conflict or rule.caveats) and not rule.check_first:
        lines.append(f"Please check with {pt_board(rule)} before relying on this.")
    lines += _stale_line(rule.verified_on, today, months)
    return ShortFirstAnswer(
        key=f"legal_dry_needling_{rule.state_code.lower()}",
        short=short,
        detail="\n".join(lines),
        sources=cited_sources(rule.sources, rule.source_date, rule.source_date_precision),
        sources_text=render_sources(rule.sources, rule.source_date, rule.source_date_precision),
        note=_sentence_case(dates) + ".",
    )


def acupuncture_answer(row: AcupunctureLicensure, today: date, months: int) -> ShortFirstAnswer:
    """How a state licenses acupuncturists: the answer and dates, then title, board, exam, lookup."""
    where = _sentence_case(place(row.state_code, row.state_name))
    dates = dates_phrase(row.verified_on, row.source_date, row.source_date_precision)
    if row.licensed:
        short = status_short("Yes", f"{where} licenses acupuncturists", "licensed", dates)
        lines = [row.notes]
        lines.append(f"Title: {row.licensed_title}")
        lines.append(f"Regulator: the {row.board_name}")
        lines.append(f"Exam: {_sentence_case(row.exam)}")
        lines.append(
            f"To check a licence: {row.lookup_hint}" + (f", {row.lookup_url}" if row.lookup_url else "")
        )
    else:
        short = status_short("No", f"{where} does not license acupuncturists", "no state licence", dates)
        lines = [row.notes, f"To check a practitioner: {row.lookup_hint}"]
    if row.caveats:
        lines.append("Please note: " + " ".join(row.caveats))
        who = f"the {row.board_name}" if row.board_name else "the state's health department"
        lines.append(f"Please confirm with {who} before relying on this.")
    lines += _stale_line(row.verified_on, today, months)
    return ShortFirstAnswer(
        key=f"legal_acupuncture_{row.state_code.lower()}",
        short=short,
        detail="\n".join(lines),
        sources=cited_sources(row.sources, row.source_date, row.source_date_precision),
        sources_text=render_sources(row.sources, row.source_date, row.source_date_precision),
        note=_sentence_case(dates) + ".",
    )


# ---------------------------------------------------------------- list questions

_NOT_ADDRESSED_WORDS = re.compile(
    r"not regulated|unregulated|not addressed|no (?:[a-z]+ ){0,2}(?:laws?|rules?|regulations?)\b|"
    r"silent|gr[ae]y area|"
    r"do(?:es)?n'?t address|no position|not covered|unclear|not clear",
    re.IGNORECASE,
)
_PROHIBITED_WORDS = re.compile(
    r"\bban(?:s|ned)?\b|prohibit|illegal|not (?:allowed|legal|permitted)|forbid|outlaw|"
    r"(?:do(?:es)?|is|are)(?: no|n'?)t (?:allow|permit|legal)|can'?t|cannot|against the law",
    re.IGNORECASE,
)
_ALLOWED_WORDS = re.compile(r"\b(?:allow|allows|allowed|legal|permit|permits|permitted|can)\b", re.IGNORECASE)
_ACUPUNCTURE_WORDS = re.compile(r"acupunct|licen[cs]e acupuncturists", re.IGNORECASE)


def list_kind(text: str) -> str:
    """Which dry needling list a question asks for: not_addressed, prohibited, allowed or overview."""
    if _NOT_ADDRESSED_WORDS.search(text):
        return NOT_ADDRESSED
    if _PROHIBITED_WORDS.search(text):
        return PROHIBITED
    if _ALLOWED_WORDS.search(text):
        return ALLOWED
    return "overview"


def list_topic(tracker: Tracker) -> str:
    """dry_needling or acupuncture: what the list question is about (named, else in context)."""
    treatments = {normalize_term(v, load_treatments()) for v in latest_entity_values(tracker, "treatment")}
    topics = {TOPIC_OF_TREATMENT[t] for t in treatments if t in TOPIC_OF_TREATMENT}
    if len(topics) == 1:
        return next(iter(topics))
    if _ACUPUNCTURE_WORDS.search(str(tracker.latest_message.get("text") or "")):
        return ACUPUNCTURE
    context = resolve_topic(tracker)
    return context if context in (DRY_NEEDLING, ACUPUNCTURE) else DRY_NEEDLING


def _top_sources(rows: Iterable[DryNeedlingRule | AcupunctureLicensure], count: int = 2) -> list[LegalSource]:
    counter: Counter[LegalSource] = Counter(source for row in rows for source in row.sources)
    return [source for source, _ in counter.most_common(count)]


def _sources_block(sources: Sequence[LegalSource]) -> str:
    return "\n".join(["Sources:"] + [f"- {_source_line(source)}" for source in sources])


_GROUP_LINES = {
    PROHIBITED: "Not allowed (prohibited): {names}.",
    NOT_ADDRESSED: "Not addressed by law (no statute or board position): {names}.",
    UNCLEAR: "Unclear (sources disagree): {names}.",
}


def _list_answer(key: str, short: str, lines: list[str], sources: Sequence[LegalSource]) -> ShortFirstAnswer:
    return ShortFirstAnswer(
        key=key,
        short=short,
        detail="\n".join(lines),
        sources=tuple(CitedSource(source.title, source.url, source.dated) for source in sources),
        sources_text=_sources_block(sources),
    )


def dry_needling_list_answer(kind: str, rules: Sequence[DryNeedlingRule]) -> ShortFirstAnswer:
    """Where physical therapists may, may not, or may or may not dry needle."""
    groups: dict[str, list[DryNeedlingRule]] = {status: [] for status in STATUS_WORDS}
    for rule in rules:
        groups[rule.status].append(rule)

    def names(status: str) -> str:
        return _join_names([rule.state_name for rule in groups[status]])

    def count(status: str) -> str:
        return _count_phrase([rule.state_code for rule in groups[status]])

    dates = sources_dates_lead(rules)
    lines: list[str] = []
    if kind == PROHIBITED:
        short = (
            f"Physical therapists may not dry needle in {count(PROHIBITED)}: {names(PROHIBITED)} ({dates})."
        )
    elif kind == NOT_ADDRESSED:
        short = (
            f"The law does not address dry needling by physical therapists in {count(NOT_ADDRESSED)} "
            f"(no statute or board position; {dates})."
        )
        lines.append(f"Not addressed by law: {names(NOT_ADDRESSED)}.")
    elif kind == ALLOWED:
        short = (
            f"Physical therapists may dry needle in {count(ALLOWED)}, usually after set training ({dates})."
        )
        lines.append(f"Allowed: {names(ALLOWED)}.")
    else:
        short = (
            f"Physical therapists may dry needle in {count(ALLOWED)}, usually after set training; "
            f"the other states are listed below ({dates})."
        )
    for status in (PROHIBITED, NOT_ADDRESSED, UNCLEAR):
        if status != kind and groups[status]:
            lines.append(_GROUP_LINES[status].format(names=names(status)))
    if kind not in (ALLOWED, "overview"):
        lines.append(f"Allowed: the other {count(ALLOWED)}, usually after set training.")
    asked = groups.get(kind) or list(rules)
    pending = [rule.state_name for rule in asked if rule.pending]
    if pending:
        lines.append(f"Changes are pending in {_join_names(pending)}.")
    check_first = [rule.state_name for rule in rules if rule.check_first]
    if check_first:
        lines.append(
            f"Please check with the board before relying on this for {_join_names(check_first)}; "
            f"ask me about {'it' if len(check_first) == 1 else 'each'} for the reason."
        )
    lines.append("Ask me about a state for its details and sources.")
    return _list_answer(f"legal_dry_needling_list_{kind}", short, lines, _top_sources(asked))


def acupuncture_list_answer(rows: Sequence[AcupunctureLicensure]) -> ShortFirstAnswer:
    """Which jurisdictions do and do not license acupuncturists."""
    unlicensed = [row for row in rows if not row.licensed]
    licensed = [row for row in rows if row.licensed]
    names = _join_names([row.state_name for row in unlicensed])
    others = _count_phrase([row.state_code for row in licensed])
    short = (
        f"{names} do not license acupuncturists (no state licence); the other {others} do "
        f"({sources_dates_lead(rows)})."
    )
    lines = [
        "Where there is no licence, you can check national certification in the NCCAOM Find a "
        "Practitioner directory. Ask me about a state for its title, board and exam."
    ]
    return _list_answer("legal_acupuncture_list", short, lines, _top_sources(unlicensed))


# ---------------------------------------------------------------- actions


class ValidateStateForm(FormValidationAction):
    """Fill ``us_state`` for ``state_form`` and remember what the question was."""

    def name(self) -> str:
        return "validate_state_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _, outcome = read_state_reply(tracker)
        events = await super().run(dispatcher, tracker, domain)
        events += question_events(tracker)
        if outcome == "found":
            events.append(SlotSet(ATTEMPTS_SLOT, None))
        elif outcome == "failed":
            attempts = int(tracker.get_slot(ATTEMPTS_SLOT) or 0) + 1
            if attempts >= MAX_STATE_ATTEMPTS:
                # Stop asking: the form ends and action_answer_legal explains what to do.
                events += [SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
            else:
                events.append(SlotSet(ATTEMPTS_SLOT, float(attempts)))
        elif outcome == "cancel":
            events += [SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
        return events

    async def extract_us_state(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code, outcome = read_state_reply(tracker)
        if outcome == "found":
            logger.debug("state recognised: %s", code)
            return {STATE_SLOT: code}
        if outcome == "failed":
            attempts = int(tracker.get_slot(ATTEMPTS_SLOT) or 0) + 1
            giving_up = attempts >= MAX_STATE_ATTEMPTS
            dispatcher.utter_message(
                response="utter_state_give_up" if giving_up else "utter_state_not_recognised"
            )
            return {STATE_SLOT: None}
        if outcome in ("question", "cancel"):
            # Setting the slot (to nothing) keeps the form from being rejected.
            return {STATE_SLOT: None}
        return {}

    def validate_us_state(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        known = {state.code for state in load_states()}
        return {STATE_SLOT: value if value in known else None}


class ActionAnswerLegal(Action):
    """Answer the remembered legality question for the state in ``us_state``."""

    def __init__(
        self,
        repository_factory: LegalRepositoryFactory | None = None,
        today: Callable[[], date] | None = None,
        max_age: int | None = None,
        safety_settings: SafetySettings | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_legal_repository
        self._today = today or date.today
        self._max_age = max_age
        self._safety_settings = safety_settings

    def name(self) -> str:
        return "action_answer_legal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        code = tracker.get_slot(STATE_SLOT)
        states = {state.code: state.name for state in load_states()}
        if code not in states:
            dispatcher.utter_message(response="utter_legal_no_state")
            return [SlotSet(ATTEMPTS_SLOT, None)]
        topic, asked = resolve_question(tracker)
        # The profession belongs to the user's own question, not to a topic taken from context.
        practitioner = tracker.get_slot(PRACTITIONER_SLOT) if asked else None
        if topic is None:
            dispatcher.utter_message(
                text=f"What would you like to know about {place(code, states[code])}?",
                buttons=[
                    {"title": "Dry needling rules", "payload": f"/{DRY_NEEDLING_INTENT}"},
                    {"title": "Acupuncture licensing", "payload": f"/{ACUPUNCTURE_INTENT}"},
                ],
            )
            return []
        if topic not in (DRY_NEEDLING, ACUPUNCTURE):
            name = TREATMENT_NAMES.get(topic, topic.replace("_", " "))
            dispatcher.utter_message(
                text=(
                    f"I only have state-by-state information on dry needling and on acupuncture licensing, "
                    f"not on {name}. For {name} in {place(code, states[code])}, please ask the state's "
                    "health or licensing department."
                ),
                buttons=[
                    {"title": "Dry needling rules", "payload": f"/{DRY_NEEDLING_INTENT}"},
                    {"title": "Acupuncture licensing", "payload": f"/{ACUPUNCTURE_INTENT}"},
                ],
            )
            return [SlotSet(QUESTION_SLOT, None)]
        try:
            answer = await run_blocking(self._answer, topic, code, practitioner)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)
        if answer is None:
            dispatcher.utter_message(
                text=f"Sorry, I have no information for {place(code, states[code])} yet."
            )
            return []
        answer.send(dispatcher)
        events: list[dict[str, Any]] = [
            SlotSet(QUESTION_SLOT, topic),
            SlotSet("treatment_context", topic),
            SlotSet(ATTEMPTS_SLOT, None),
        ]
        if not tracker.get_slot(NOTE_SLOT):
            dispatcher.utter_message(text=LEGAL_NOTE)
            events.append(SlotSet(NOTE_SLOT, True))
        events += first_answer_notes(dispatcher, tracker, self._safety_settings, disclaimer=False)
        return events

    def _answer(self, topic: str, code: str, practitioner: str | None) -> ShortFirstAnswer | None:
        """Read the row and render it (runs in a worker thread)."""
        months = self._max_age or max_age_months()
        with self._repository_factory() as repository:
            if topic == ACUPUNCTURE:
                row = repository.acupuncture_board(code)
                return acupuncture_answer(row, self._today(), months) if row else None
            rule = repository.dry_needling(code)
            return dry_needling_answer(rule, practitioner, self._today(), months) if rule else None


class ActionListLegalStates(Action):
    """Answer list questions: which states ban dry needling, where it is not regulated, ..."""

    def __init__(self, repository_factory: LegalRepositoryFactory | None = None) -> None:
        self._repository_factory = repository_factory or sql_legal_repository

    def name(self) -> str:
        return "action_list_legal_states"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        topic = list_topic(tracker)
        kind = list_kind(str(tracker.latest_message.get("text") or ""))
        try:
            answer = await run_blocking(self._answer, topic, kind)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)
        if answer is None:
            dispatcher.utter_message(response="utter_service_problem")
            return []
        answer.send(dispatcher)
        return [SlotSet(QUESTION_SLOT, topic), SlotSet("treatment_context", topic)]

    def _answer(self, topic: str, kind: str) -> ShortFirstAnswer | None:
        with self._repository_factory() as repository:
            if topic == ACUPUNCTURE:
                rows = repository.acupuncture_all()
                return acupuncture_list_answer(rows) if rows else None
            rules = repository.dry_needling_all()
            return dry_needling_list_answer(kind, rules) if rules else None
