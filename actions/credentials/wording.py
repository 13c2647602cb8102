"""Every sentence the licence check and the practitioner search say, in one place.

Staff who want to change the wording edit this module only: the fixed sentences are the
constants below, and the functions only fill in names, dates and places. (The wording stays in
Python, not in the domain's responses, because changing those means retraining the model; nor in
a content file, which would need a new loader and validator for a dozen sentences.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from actions.credentials.boards import BoardInfo
from actions.rendering import format_date
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
)
from actions.store.licence_repository import Coverage, LicenceRecord
from lexicon import state_name

MAX_LISTED = 5
NCCAOM_DIRECTORY_HELP = "https://help.nccaom.org/hc/en-us/articles/360009708013"
# No acupuncture licence or registration exists in these states (CCAHM; Jin et al. 2022).
NO_ACUPUNCTURE_LICENCE = frozenset({"AL", "OK", "SD"})

# ---------------------------------------------------------------- the forms
STOPPED = "OK, I've stopped the {label}. Ask me anything else."
GIVE_UP = "Let's leave the {label} there for now. You can start again any time, for example: {hint}"
LICENCE_CHECK_LABEL = "licence check"
LICENCE_CHECK_HINT = '"Check licence AC-12345 in Texas" or "Is Jane Example licensed in Texas?"'
SEARCH_LABEL = "search"
SEARCH_HINT = '"Find a licensed acupuncturist near Austin, TX"'
NO_NUMBER_OR_NAME = (
    "Sorry, I couldn't find a licence number or a name in that. Please give the licence number "
    "(for example AC-12345) or the practitioner's first and last name."
)
NO_CITY = 'Sorry, I need the name of a city or town to search, for example "Austin".'

# ---------------------------------------------------------------- the answers
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


def licence_reply(
    state: str,
    asked: str,
    profession: str | None,
    records: Sequence[LicenceRecord],
    coverage: Coverage | None,
    board: BoardInfo | None,
    exact: bool,
    today: date,
) -> tuple[str, list[dict[str, str]]]:
    """The licence-check reply and its buttons; ``asked`` is 'licence AC123' or the name asked about."""
    where = state_name(state)
    if records:
        profession = records[0].profession
    live = board_sentence(state, profession, board)
    if not records:
        if coverage is None:
            data = f"I don't hold any licence data for {where} yet."
        else:
            data = "Our data may be incomplete or out of date. " + data_sentence(coverage=coverage)
        return (
            f"I could not find {asked} in {where} in our data; that does not prove they are unlicensed.\n"
            f"{data}\n{live}",
            [],
        )
    if len(records) == 1:
        intro = (
            NOT_LIVE
            if exact
            else (
                f"I could not find {asked} exactly in {where} in our data. The closest match is below; "
                "please make sure it is the right one. " + NOT_LIVE
            )
        )
        return f"{intro}\n\n{describe_record(records[0], today)}\n\n{data_sentence(records)}\n{live}", []
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
        lines.append(f"... and {len(records) - MAX_LISTED} more. Adding the licence number narrows it down.")
    lines.append("Which one do you mean? Tell me the licence number, or tap it below.")
    lines.append("")
    lines.append(data_sentence(shown))
    lines.append(live)
    buttons = [
        {"title": f"{r.license_number} ({r.city or where})", "payload": r.license_number} for r in shown
    ]
    return "\n".join(lines), buttons


def search_reply(
    city: str,
    state: str,
    profession: str,
    records: Sequence[LicenceRecord],
    coverage: Coverage | None,
    board: BoardInfo | None,
    today: date,
) -> str:
    """The practitioner-search reply: at most MAX_LISTED active licences, or why there are none."""
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
