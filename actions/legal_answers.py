"""The wording of state-legality answers: one state's dry needling or acupuncture-licensing
answer, the list answers, and the dates and sources every answer carries."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from actions.rendering import CitedSource, ShortFirstAnswer, format_date
from actions.store.legal_data import is_stale
from actions.store.legal_repository import (
    ALLOWED,
    NOT_ADDRESSED,
    PROHIBITED,
    UNCLEAR,
    AcupunctureLicensure,
    DryNeedlingRule,
    LegalSource,
)

PRACTITIONER_NAMES = {
    "physical_therapist": "physical therapists",
    "chiropractor": "chiropractors",
    "acupuncturist": "acupuncturists",
    "physician": "physicians",
    "athletic_trainer": "athletic trainers",
    "occupational_therapist": "occupational therapists",
    "physical_therapist_assistant": "PT assistants",
    "massage_therapist": "massage therapists",
    "nurse": "nurses",
    "naturopath": "naturopaths",
    "dentist": "dentists",
}
STATUS_WORDS = {
    ALLOWED: "allowed",
    PROHIBITED: "prohibited",
    NOT_ADDRESSED: "not addressed by law",
    UNCLEAR: "unclear",
}
MORE_SOURCES_SHOWN = 2


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
    return _state_answer("dry_needling", rule, short, lines, dates, today, months)


def _state_answer(
    kind: str,
    record: DryNeedlingRule | AcupunctureLicensure,
    short: str,
    lines: list[str],
    dates: str,
    today: date,
    months: int,
) -> ShortFirstAnswer:
    """What both state tables' answers end with: the staleness line, the cited sources with
    their dates, and the dates as the answer's note."""
    citation = (record.sources, record.source_date, record.source_date_precision)
    return ShortFirstAnswer(
        key=f"legal_{kind}_{record.state_code.lower()}",
        short=short,
        detail="\n".join([*lines, *_stale_line(record.verified_on, today, months)]),
        sources=cited_sources(*citation),
        sources_text=render_sources(*citation),
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
    return _state_answer("acupuncture", row, short, lines, dates, today, months)


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


def list_kind(text: str) -> str:
    """Which dry needling list a question asks for: not_addressed, prohibited, allowed or overview."""
    if _NOT_ADDRESSED_WORDS.search(text):
        return NOT_ADDRESSED
    if _PROHIBITED_WORDS.search(text):
        return PROHIBITED
    if _ALLOWED_WORDS.search(text):
        return ALLOWED
    return "overview"


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
