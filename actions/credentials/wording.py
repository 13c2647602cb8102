"""The licence check's and the practitioner search's replies, put together from their wording.

The words are in ``data/content/credential_replies.yml``: staff correct them there and restart
the action server (no retraining, no code). This module decides which sentence is said when,
fills in names, dates and places, and builds the numbered lists and the buttons. ``PLACEHOLDERS``
declares every reply it reads and the places it fills, so a file that lacks one, misspells a
key or uses a place the code does not fill is refused when first read (``read_reply_templates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

from actions.credentials.boards import BoardInfo
from actions.rendering import format_date
from actions.reply_templates import Placeholders, ReplyTemplates, read_reply_templates
from actions.settings import PROJECT_ROOT
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

REPLIES_FILE = PROJECT_ROOT / "data" / "content" / "credential_replies.yml"
MAX_LISTED = 5
# No acupuncture licence or registration exists in these states (CCAHM; Jin et al. 2022).
NO_ACUPUNCTURE_LICENCE = frozenset({"AL", "OK", "SD"})


def _places(*names: str) -> frozenset[str]:
    return frozenset(names)


# Every reply this module and the forms read, with the places each may use.
PLACEHOLDERS: Placeholders = {
    "stopped": _places("label"),
    "give_up": _places("label", "hint"),
    "licence_check_label": _places(),
    "licence_check_hint": _places(),
    "search_label": _places(),
    "search_hint": _places(),
    "no_number_or_name": _places(),
    "no_city": _places(),
    "status_active": _places("date"),
    "status_active_no_expiry": _places(),
    "status_active_expiry_passed": _places("date"),
    "status_probation": _places(),
    "status_probation_expires": _places("date"),
    "status_expired_on": _places("date", "state"),
    "status_expired": _places("state"),
    "status_inactive": _places(),
    "status_suspended": _places(),
    "status_revoked": _places(),
    "status_surrendered": _places(),
    "status_other": _places("status"),
    "short_active": _places(),
    "short_active_expiry_passed": _places(),
    "short_probation": _places(),
    "record": _places("name", "licence_type", "number", "place"),
    "record_credentials": _places("credentials"),
    "record_national_certification": _places("number"),
    "data_source": _places("source", "date"),
    "data_sources": _places("sources"),
    "data_coverage_one_date": _places("state", "sources", "date"),
    "data_coverage_dates": _places("state", "sources", "oldest", "newest"),
    "lookup_by_name": _places(),
    "lookup_each_name": _places(),
    "board_lookup": _places("lookup", "board"),
    "board_lookup_address": _places("board", "url"),
    "board_acupuncture": _places("state"),
    "board_physical_therapy": _places("state"),
    "board_medicine": _places("state"),
    "board_chiropractic": _places("state"),
    "no_state_acupuncture_licence": _places("state", "nccaom_help"),
    "nccaom_help": _places(),
    "asked_licence": _places("number"),
    "not_live": _places(),
    "check_not_found": _places("asked", "state"),
    "no_state_data": _places("state"),
    "check_data_incomplete": _places("data"),
    "check_closest_match": _places("asked", "state"),
    "check_matches": _places("count", "state", "asked"),
    "check_close_matches": _places("asked", "state"),
    "check_match": _places("name", "licence_type", "with_city", "number", "status"),
    "check_match_city_part": _places("city"),
    "check_more": _places("count"),
    "check_which_one": _places(),
    "check_button": _places("number", "place"),
    "profession_acupuncture": _places(),
    "profession_physical_therapy": _places(),
    "profession_medicine": _places(),
    "profession_chiropractic": _places(),
    "search_none": _places("profession", "city", "state"),
    "search_data_incomplete": _places("data"),
    "search_nccaom": _places("nccaom_help"),
    "search_heading": _places("profession", "city", "state"),
    "search_result": _places("name", "with_credentials", "licence_type", "number", "with_expiry"),
    "search_result_credentials_part": _places("credentials"),
    "search_result_expiry_part": _places("date"),
    "search_more": _places("max"),
    "search_caveat": _places("data"),
}

_STATUS_REPLIES = {
    INACTIVE: "status_inactive",
    SUSPENDED: "status_suspended",
    REVOKED: "status_revoked",
    SURRENDERED: "status_surrendered",
}
_PROFESSION_REPLIES = {
    ACUPUNCTURE: "profession_acupuncture",
    PHYSICAL_THERAPY: "profession_physical_therapy",
    MEDICINE: "profession_medicine",
    CHIROPRACTIC: "profession_chiropractic",
}
# Boards named by their profession when the board's own name is not known (acupuncture last).
_BOARD_REPLIES = {
    PHYSICAL_THERAPY: "board_physical_therapy",
    MEDICINE: "board_medicine",
    CHIROPRACTIC: "board_chiropractic",
}


@lru_cache(maxsize=4)
def load_credential_replies(path: Path = REPLIES_FILE) -> ReplyTemplates:
    """The validated wording (read once; a restart of the action server reads an edit)."""
    return read_reply_templates(path, PLACEHOLDERS)


def status_sentence(replies: ReplyTemplates, record: LicenceRecord, today: date) -> str:
    """'Status: active, expires 31 January 2027.' or a plain warning for any other status."""
    expiry = record.expiration_date
    if record.status == ACTIVE:
        if expiry is None:
            return replies("status_active_no_expiry")
        if expiry < today:
            return replies("status_active_expiry_passed", date=format_date(expiry))
        return replies("status_active", date=format_date(expiry))
    if record.status == PROBATION:
        probation = replies("status_probation")
        if expiry is None:
            return probation
        return f"{probation} {replies('status_probation_expires', date=format_date(expiry))}"
    if record.status == EXPIRED:
        state = state_name(record.state)
        if expiry is None:
            return replies("status_expired", state=state)
        return replies("status_expired_on", date=format_date(expiry), state=state)
    if record.status in _STATUS_REPLIES:
        return replies(_STATUS_REPLIES[record.status])
    return replies("status_other", status=record.status.upper())


def short_status(replies: ReplyTemplates, record: LicenceRecord, today: date) -> str:
    """'active', 'EXPIRED', 'ON PROBATION': for lists."""
    if record.status == ACTIVE:
        if record.expiration_date is not None and record.expiration_date < today:
            return replies("short_active_expiry_passed")
        return replies("short_active")
    if record.status == PROBATION:
        return replies("short_probation")
    return record.status.upper()


def describe_record(replies: ReplyTemplates, record: LicenceRecord, today: date) -> str:
    """The lines about one licence: who, what, where, status, credentials."""
    place = ", ".join(part for part in (record.city, state_name(record.state)) if part)
    lines = [
        replies(
            "record",
            name=record.full_name,
            licence_type=record.license_type,
            number=record.license_number,
            place=place,
        ),
        status_sentence(replies, record, today),
    ]
    if record.credentials:
        lines.append(replies("record_credentials", credentials=record.credentials.rstrip(".")))
    if record.national_certification:
        lines.append(
            replies("record_national_certification", number=record.national_certification.rstrip("."))
        )
    return "\n".join(lines)


def data_sentence(
    replies: ReplyTemplates, records: Sequence[LicenceRecord] = (), coverage: Coverage | None = None
) -> str:
    """'Data: <source>, retrieved <date>.' from the records shown, else from the state's coverage."""
    pairs = sorted({(r.source, r.retrieved_on) for r in records}, key=lambda pair: (pair[1], pair[0]))
    if pairs:
        parts = [
            replies("data_source", source=source, date=format_date(retrieved))
            for source, retrieved in pairs[:3]
        ]
        return replies("data_sources", sources="; ".join(parts))
    if coverage is not None:
        state = state_name(coverage.state)
        sources = "; ".join(coverage.sources)
        if coverage.oldest_retrieved_on == coverage.newest_retrieved_on:
            return replies(
                "data_coverage_one_date",
                state=state,
                sources=sources,
                date=format_date(coverage.newest_retrieved_on),
            )
        return replies(
            "data_coverage_dates",
            state=state,
            sources=sources,
            oldest=format_date(coverage.oldest_retrieved_on),
            newest=format_date(coverage.newest_retrieved_on),
        )
    return ""


def board_sentence(
    replies: ReplyTemplates,
    state: str,
    profession: str | None,
    board: BoardInfo | None,
    lookup: str = "lookup_by_name",
) -> str:
    """Where to check the live, official record (the board's lookup address when known).

    ``lookup`` is the reply that says what to do there (``lookup_by_name``, ``lookup_each_name``).
    """
    name = state_name(state)
    profession_board = _BOARD_REPLIES.get(profession or ACUPUNCTURE)
    if profession_board is not None:
        return replies("board_lookup", lookup=replies(lookup), board=replies(profession_board, state=name))
    if state in NO_ACUPUNCTURE_LICENCE:
        return replies("no_state_acupuncture_licence", state=name, nccaom_help=replies("nccaom_help"))
    if board is not None and board.lookup_url:
        return replies("board_lookup_address", board=board.board_name, url=board.lookup_url)
    board_name = board.board_name if board is not None else replies("board_acupuncture", state=name)
    return replies("board_lookup", lookup=replies(lookup), board=board_name)


def asked_about(replies: ReplyTemplates, number: str | None, name: str | None) -> str:
    """'licence AC123' or the name asked about, as the reply names it."""
    return replies("asked_licence", number=number) if number else str(name)


def licence_reply(
    replies: ReplyTemplates,
    state: str,
    asked: str,
    profession: str | None,
    records: Sequence[LicenceRecord],
    coverage: Coverage | None,
    board: BoardInfo | None,
    exact: bool,
    today: date,
) -> tuple[str, list[dict[str, str]]]:
    """The licence-check reply and its buttons; ``asked`` comes from ``asked_about``."""
    where = state_name(state)
    if records:
        profession = records[0].profession
    live = board_sentence(replies, state, profession, board)
    if not records:
        if coverage is None:
            data = replies("no_state_data", state=where)
        else:
            data = replies("check_data_incomplete", data=data_sentence(replies, coverage=coverage))
        return f"{replies('check_not_found', asked=asked, state=where)}\n{data}\n{live}", []
    if len(records) == 1:
        intro = replies("not_live")
        if not exact:
            intro = f"{replies('check_closest_match', asked=asked, state=where)} {intro}"
        details = describe_record(replies, records[0], today)
        return f"{intro}\n\n{details}\n\n{data_sentence(replies, records)}\n{live}", []
    if exact:
        heading = replies("check_matches", count=len(records), state=where, asked=asked)
    else:
        heading = replies("check_close_matches", asked=asked, state=where)
    lines = [heading]
    shown = records[:MAX_LISTED]
    for index, record in enumerate(shown, start=1):
        with_city = replies("check_match_city_part", city=record.city) if record.city else ""
        match = replies(
            "check_match",
            name=record.full_name,
            licence_type=record.license_type,
            with_city=with_city,
            number=record.license_number,
            status=short_status(replies, record, today),
        )
        lines.append(f"{index}. {match}")
    if len(records) > MAX_LISTED:
        lines.append(replies("check_more", count=len(records) - MAX_LISTED))
    lines.append(replies("check_which_one"))
    lines.append("")
    lines.append(data_sentence(replies, shown))
    lines.append(live)
    buttons = [
        {
            "title": replies("check_button", number=r.license_number, place=r.city or where),
            "payload": r.license_number,
        }
        for r in shown
    ]
    return "\n".join(lines), buttons


def search_reply(
    replies: ReplyTemplates,
    city: str,
    state: str,
    profession: str,
    records: Sequence[LicenceRecord],
    coverage: Coverage | None,
    board: BoardInfo | None,
    today: date,
) -> str:
    """The practitioner-search reply: at most MAX_LISTED active licences, or why there are none."""
    where = state_name(state)
    label = replies(_PROFESSION_REPLIES.get(profession, "profession_acupuncture"))
    live = board_sentence(replies, state, profession, board, lookup="lookup_each_name")
    if not records:
        if coverage is None:
            data = replies("no_state_data", state=where)
        else:
            data = replies("search_data_incomplete", data=data_sentence(replies, coverage=coverage))
        none = replies("search_none", profession=label, city=city, state=where)
        reply = f"{none}\n{data}\n{live}"
        if profession == ACUPUNCTURE:
            reply += "\n" + replies("search_nccaom", nccaom_help=replies("nccaom_help"))
        return reply
    shown = list(records[:MAX_LISTED])
    lines = [replies("search_heading", profession=label, city=city, state=where)]
    for index, record in enumerate(shown, start=1):
        expiry = record.expiration_date
        result = replies(
            "search_result",
            name=record.full_name,
            with_credentials=(
                replies("search_result_credentials_part", credentials=record.credentials)
                if record.credentials
                else ""
            ),
            licence_type=record.license_type,
            number=record.license_number,
            with_expiry=replies("search_result_expiry_part", date=format_date(expiry)) if expiry else "",
        )
        lines.append(f"{index}. {result}")
    if len(records) > MAX_LISTED:
        lines.append(replies("search_more", max=MAX_LISTED))
    lines.append("")
    lines.append(replies("search_caveat", data=data_sentence(replies, shown)))
    lines.append(live)
    return "\n".join(lines)
