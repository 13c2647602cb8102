"""The credential replies' wording file (data/content/credential_replies.yml) and its loader.

Staff edit the wording there and restart the action server: the loader refuses a file the code
cannot use (a key missing or misspelt, a place the code does not fill), naming file, line and key.
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from ruamel.yaml import YAML

from actions.credentials import (
    ActionCheckLicence,
    BoardInfo,
    StaticBoardDirectory,
    ValidateLicenceCheckForm,
    ValidatePractitionerSearchForm,
    wording,
)
from actions.credentials.wording import PLACEHOLDERS, REPLIES_FILE, load_credential_replies
from actions.reply_templates import ReplyTemplateError, ReplyTemplates, read_reply_templates
from actions.settings import PROJECT_ROOT
from actions.store.licence_models import PROFESSIONS, STATUSES
from actions.store.licence_repository import Coverage, InMemoryLicenceRepository, LicenceRecord
from tests.conftest import SAFETY, make_tracker, run_action

TODAY = date(2026, 11, 21)
SHIPPED = REPLIES_FILE.read_text(encoding="utf-8")
DOMAIN = YAML(typ="safe", pure=True).load(
    (PROJECT_ROOT / "domain" / "credentials.yml").read_text(encoding="utf-8")
)


def edited(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The shipped file with each (old, new) edit made, written to a temporary file."""
    text = SHIPPED
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "credential_replies.yml"
    path.write_text(text, encoding="utf-8")
    return path


ACTIVE = '"Status: active, expires {date}."'
NO_CITY = "'Sorry, I need the name of a city or town to search, for example \"Austin\".'"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ReplyTemplateError) as caught:
        read_reply_templates(path, PLACEHOLDERS)
    assert str(caught.value).startswith("invalid reply templates:\n")
    return caught.value.problems


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def test_a_missing_key_is_refused(tmp_path):
    path = edited(tmp_path, (f"  no_city: {NO_CITY}\n", ""))
    assert problems_of(path) == ["credential_replies.yml: replies: missing key(s) no_city"]


def test_an_unknown_key_is_refused_with_its_line(tmp_path):
    path = edited(tmp_path, ('  search_label: "search"', '  search_lable: "search"'))
    line = line_of(path, "search_lable")
    assert problems_of(path) == [
        "credential_replies.yml: replies: missing key(s) search_label",
        f"credential_replies.yml:{line}: reply search_lable: "
        "unknown key (the code reads no reply of that name)",
    ]


def test_a_place_the_code_does_not_fill_is_refused(tmp_path):
    path = edited(tmp_path, (ACTIVE, '"Status: active until {expiry}."'))
    line = line_of(path, "until {expiry}")
    assert problems_of(path) == [
        f"credential_replies.yml:{line}: reply status_active: uses the place {{expiry}}, which the code "
        "does not fill (places it fills: {date})"
    ]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            '"Status: active, expires {date."',
            "is not a valid template (expected '}' before end of string); "
            "write a place as {name} and a brace as {{ or }}",
        ),
        (
            '"Status: active, expires {date:%Y}."',
            "has the place {date:%Y}; write a place as {name}, a plain name only",
        ),
        ('"Status: active, expires {0}."', "has the place {0}; write a place as {name}, a plain name only"),
        ('""', "must be non-empty text"),
    ],
)
def test_a_malformed_template_is_refused(tmp_path, template, problem):
    path = edited(tmp_path, (ACTIVE, template))
    line = line_of(path, "status_active:")
    assert problems_of(path) == [f"credential_replies.yml:{line}: reply status_active: {problem}"]


def test_every_problem_is_listed_at_once_and_the_file_must_be_dated(tmp_path):
    path = edited(
        tmp_path,
        ('reviewed: "2026-12-07"', 'reviewed: "soon"'),
        ("the {label}. Ask", "the {lable}. Ask"),
        ("  check_more:", "  check_mor:"),
    )
    problems = problems_of(path)
    assert len(problems) == 4
    assert problems[0] == "credential_replies.yml: reviewed must be a date YYYY-MM-DD, got 'soon'"
    assert "missing key(s) check_more" in problems[1]
    assert "reply stopped: uses the place {lable}" in problems[2]
    assert "reply check_mor: unknown key" in problems[3]


def test_a_file_that_is_not_a_reply_file_is_refused(tmp_path):
    path = tmp_path / "credential_replies.yml"
    path.write_text("version: 1\nreplies: [a, b]\n", encoding="utf-8")
    assert problems_of(path) == ["credential_replies.yml: missing reviewed"]
    path.write_text('version: 1\nreviewed: "2026-12-01"\nreplies: [a, b]\n', encoding="utf-8")
    assert problems_of(path) == ["credential_replies.yml: replies must be a mapping of key: template"]
    path.write_text("replies: {a: [\n", encoding="utf-8")
    assert problems_of(path)[0].startswith("credential_replies.yml: not valid YAML:")


@dataclass(frozen=True)
class RecordingReplies(ReplyTemplates):
    """The shipped wording, noting each reply asked for and the places filled."""

    asked: dict[str, set[frozenset[str]]] = field(default_factory=dict)

    def __call__(self, key: str, **values: object) -> str:
        self.asked.setdefault(key, set()).add(frozenset(values))
        return super().__call__(key, **values)


def licence(status: str, expiry: date | None, number: int, **fields: str | None) -> LicenceRecord:
    values: dict = {
        "state": "TX",
        "license_number": f"AC-{number:05}",
        "license_type": "Licensed Acupuncturist",
        "profession": "acupuncture",
        "first_name": "Jane",
        "last_name": f"Example{number}",
        "city": "Austin",
        "status": status,
        "issue_date": date(2015, 3, 1),
        "expiration_date": expiry,
        "credentials": "L.Ac.",
        "national_certification": "12345",
        "source": "Texas board export (test)",
        "retrieved_on": date(2026, 11, 1),
    }
    return LicenceRecord(**{**values, **fields})


def answer_form(
    form: ValidateLicenceCheckForm | ValidatePractitionerSearchForm,
    text: str,
    attempts: int,
    dispatcher: CollectingDispatcher | None = None,
) -> None:
    """Answer the form's question about the licence number or the city (``attempts`` tries so far)."""
    search = isinstance(form, ValidatePractitionerSearchForm)
    name = "practitioner_search_form" if search else "licence_check_form"
    tracker = make_tracker(
        {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.9}, "entities": []},
        {
            "requested_slot": "search_city" if search else "licence_number",
            "credential_attempts": attempts,
            "us_state": "TX",
        },
        events=[{"event": "action", "name": name}],
        active_loop={"name": name},
        latest_action_name=name,
    )
    asyncio.run(form.run(dispatcher or CollectingDispatcher(), tracker, DOMAIN))


def test_the_shipped_file_loads_and_every_reply_is_used_with_every_place_filled():
    replies = RecordingReplies(texts=load_credential_replies().texts)
    expiries = (None, date(2027, 1, 31), date(2026, 1, 31))
    records = [
        licence(status, expiry, index, profession=profession)
        for index, (status, expiry, profession) in enumerate(
            (s, e, p) for s in (*STATUSES, "unknown") for e in expiries for p in PROFESSIONS
        )
    ]
    records.append(licence("active", None, 999, city=None, credentials=None))
    for record in records:
        wording.describe_record(replies, record, TODAY)
        wording.short_status(replies, record, TODAY)
    lists = ([], records[:1], records[:2], records, [r for r in records if r.expiration_date])
    one_date = Coverage("TX", 3, ("export",), date(2026, 11, 1), date(2026, 11, 1))
    two_dates = Coverage("TX", 3, ("export",), date(2026, 10, 1), date(2026, 11, 1))
    boards = (None, BoardInfo("Texas board", None), BoardInfo("Texas board", "https://board.example"))
    asked = wording.asked_about(replies, "AC-00001", None)
    for state, board, profession, coverage, shown in product(
        ("TX", "AL"), boards, (None, *PROFESSIONS), (None, one_date, two_dates), lists
    ):
        for exact in (True, False):
            wording.licence_reply(replies, state, asked, profession, shown, coverage, board, exact, TODAY)
        searched = profession or "acupuncture"
        wording.search_reply(replies, "Austin", state, searched, shown, coverage, board, TODAY)
    for form in (ValidateLicenceCheckForm(replies=replies), ValidatePractitionerSearchForm(replies=replies)):
        answer_form(form, "stop", 0)
        answer_form(form, "???", 2)

    assert set(replies.asked) == set(PLACEHOLDERS), "replies declared but never said"
    # Each reply is always filled with every place it declares, so any of them may be used.
    assert {key: filled for key, filled in replies.asked.items() if filled != {PLACEHOLDERS[key]}} == {}


def test_an_edited_reply_is_said_without_changing_code(tmp_path):
    path = edited(
        tmp_path,
        (ACTIVE, '"Status: active; the licence runs until {date}."'),
        (NO_CITY, '"Which town or city should I search in?"'),
    )
    replies = load_credential_replies(path)
    assert replies is load_credential_replies(path)  # read once, then kept
    repository = InMemoryLicenceRepository([licence("active", date(2027, 1, 31), 1)], today=TODAY)
    check = ActionCheckLicence(
        lambda: nullcontext(repository),
        StaticBoardDirectory(),
        today=lambda: TODAY,
        safety_settings=SAFETY,
        replies=replies,
    )

    messages, _ = run_action(check, make_tracker(slots={"us_state": "TX", "licence_number": "AC00001"}))

    assert "\nStatus: active; the licence runs until 31 January 2027.\n" in messages[0]["text"]
    dispatcher = CollectingDispatcher()
    answer_form(ValidatePractitionerSearchForm(replies=replies), "???", 0, dispatcher)
    assert [m["text"] for m in dispatcher.messages] == ["Which town or city should I search in?"]
