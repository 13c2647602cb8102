"""action_check_licence and action_find_practitioners with a fake repository: exact replies and events."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy.exc import OperationalError

from actions.credentials import (
    ActionCheckLicence,
    ActionFindPractitioners,
    BoardInfo,
    LegalBoardDirectory,
    StaticBoardDirectory,
)
from actions.safety.notice import privacy_notice
from actions.store.licence_repository import InMemoryLicenceRepository, LicenceRecord
from tests.conftest import SAFETY, make_tracker, run_action, text_message

TODAY = date(2026, 11, 21)
SOURCE = "Texas board export (test)"
BOARDS = StaticBoardDirectory(
    {
        "TX": BoardInfo("Texas State Board of Acupuncture Examiners", "https://board.example/tx-lookup"),
        "CA": BoardInfo("California Acupuncture Board", None),
    }
)
NOT_LIVE = (
    "This is what our licence data shows. It is not a live check, and I can't confirm "
    "that this is the person treating you."
)
TX_LIVE = (
    "For the live, official record, use the licence lookup of the Texas State Board of Acupuncture "
    "Examiners: https://board.example/tx-lookup"
)
DATA = f"Data: {SOURCE}, retrieved 1 November 2026."
CHECK_RESET = [
    SlotSet("licence_number", None),
    SlotSet("practitioner_name", None),
    SlotSet("credential_profession", None),
    SlotSet("credential_attempts", None),
]
SEARCH_RESET = [
    SlotSet("search_city", None),
    SlotSet("credential_profession", None),
    SlotSet("credential_attempts", None),
]


def licence(
    number: str,
    first: str,
    last: str,
    city: str,
    status: str = "active",
    expiry: date | None = date(2027, 1, 31),
    state: str = "TX",
    licence_type: str = "Licensed Acupuncturist",
    profession: str = "acupuncture",
    credentials: str | None = "L.Ac.",
) -> LicenceRecord:
    return LicenceRecord(
        state=state,
        license_number=number,
        license_type=licence_type,
        profession=profession,
        first_name=first,
        last_name=last,
        city=city,
        status=status,
        issue_date=date(2015, 3, 1),
        expiration_date=expiry,
        credentials=credentials,
        national_certification=None,
        source=SOURCE,
        retrieved_on=date(2026, 11, 1),
    )


RECORDS = [
    licence("AC-00123", "Jane", "Example", "Austin", credentials="L.Ac., Dipl. O.M. (NCCAOM)"),
    licence("AC-00124", "Rosa", "Placeholder", "Austin"),
    licence("AC-00125", "Sam", "Sample", "Austin"),
    licence("AC-00126", "Lee", "Testcase", "Austin"),
    licence("AC-00127", "Morgan", "Mockworth", "Austin"),
    licence("AC-00128", "Avery", "Dummyfield", "Austin"),
    licence("AC-00129", "Chris", "Fictional", "Austin", "expired", date(2025, 3, 31)),
    licence("AC-00130", "Pat", "Notreal", "Austin", "suspended", date(2027, 7, 31)),
    licence("AC-00131", "Alex", "Sample", "Houston", expiry=date(2027, 3, 31)),
    licence("AC-00132", "Alex", "Sample", "Dallas", "expired", date(2024, 8, 31)),
    licence("AC-00133", "Taylor", "Madeup", "Dallas", "revoked", date(2026, 1, 31)),
    licence("AC-00134", "Casey", "Pretend", "San Antonio", "probation", date(2027, 10, 31)),
    licence("AC-00135", "Jordan", "Imaginary", "Houston", "inactive", date(2027, 5, 31)),
    licence("AC-00136", "Old", "Record", "Houston", "active", date(2025, 5, 31)),
    licence(
        "PT-20001",
        "Robin",
        "Example",
        "Austin",
        licence_type="Physical Therapist",
        profession="physical_therapy",
        credentials="DPT",
    ),
]


@pytest.fixture
def repository() -> InMemoryLicenceRepository:
    return InMemoryLicenceRepository(RECORDS, today=TODAY)


@pytest.fixture
def check(repository) -> ActionCheckLicence:
    return ActionCheckLicence(
        lambda: nullcontext(repository), BOARDS, today=lambda: TODAY, safety_settings=SAFETY
    )


@pytest.fixture
def find(repository) -> ActionFindPractitioners:
    return ActionFindPractitioners(
        lambda: nullcontext(repository), BOARDS, today=lambda: TODAY, safety_settings=SAFETY
    )


def test_one_active_licence_by_number(check):
    tracker = make_tracker(slots={"us_state": "TX", "licence_number": "AC00123"})

    messages, events = run_action(check, tracker)

    assert messages == [
        text_message(
            f"{NOT_LIVE}\n\n"
            "Jane Example: Licensed Acupuncturist, licence AC-00123, Austin, Texas.\n"
            "Status: active, expires 31 January 2027.\n"
            "Credentials listed: L.Ac., Dipl. O.M. (NCCAOM).\n\n"
            f"{DATA}\n{TX_LIVE}"
        ),
        # The first answer of the conversation: what is stored and how to delete it.
        text_message(privacy_notice(SAFETY)),
    ]
    assert events == [*CHECK_RESET, SlotSet("privacy_notice_shown", True)]


@pytest.mark.parametrize(
    ("name", "status_line"),
    [
        (
            "Chris Fictional",
            "Status: EXPIRED on 31 March 2025. An expired licence does not allow them to practise in Texas; "
            "it may have been renewed since our data was retrieved, so check the live record.",
        ),
        (
            "Pat Notreal",
            "Status: SUSPENDED. A suspended licence does not allow them to practise "
            "while the suspension lasts.",
        ),
        (
            "Taylor Madeup",
            "Status: REVOKED. The board has cancelled this licence; it does not allow them to practise.",
        ),
        (
            "Casey Pretend",
            "Status: ON PROBATION. The licence is in force, but the board has set conditions "
            "on their practice; "
            "the board's record explains why. Expires 31 October 2027.",
        ),
        (
            "Jordan Imaginary",
            "Status: INACTIVE. An inactive licence does not normally allow someone to treat patients; "
            "ask them, "
            "and check the board's live record.",
        ),
        (
            "Old Record",
            "Status: listed as active, but the expiry date shown (31 May 2025) has passed; "
            "it may have lapsed "
            "or been renewed since, so check the live record.",
        ),
    ],
)
def test_problem_statuses_are_said_plainly(check, name, status_line):
    messages, _ = run_action(check, make_tracker(slots={"us_state": "TX", "practitioner_name": name}))

    text = messages[0]["text"]
    assert text.startswith(NOT_LIVE)
    assert f"\n{status_line}\n" in text
    assert text.endswith(f"{DATA}\n{TX_LIVE}")


def test_several_matches_give_a_short_list_to_choose_from(check):
    tracker = make_tracker(slots={"us_state": "TX", "practitioner_name": "Alex Sample"})

    messages, events = run_action(check, tracker)

    assert messages == [
        text_message(
            "Our licence data has 2 licences in Texas matching Alex Sample:\n"
            "1. Alex Sample, Licensed Acupuncturist, Dallas: licence AC-00132 (EXPIRED)\n"
            "2. Alex Sample, Licensed Acupuncturist, Houston: licence AC-00131 (active)\n"
            "Which one do you mean? Tell me the licence number, or tap it below.\n\n"
            f"{DATA}\n{TX_LIVE}",
            buttons=[
                {"title": "AC-00132 (Dallas)", "payload": "AC-00132"},
                {"title": "AC-00131 (Houston)", "payload": "AC-00131"},
            ],
        )
    ]
    assert events == CHECK_RESET


def test_a_long_list_is_cut_at_five(check, repository):
    many = [licence(f"AC-9{i:04d}", f"Kim{i}", "Same", "Austin") for i in range(7)]
    action = ActionCheckLicence(
        lambda: nullcontext(InMemoryLicenceRepository(many, today=TODAY)), BOARDS, today=lambda: TODAY
    )
    messages, _ = run_action(action, make_tracker(slots={"us_state": "TX", "practitioner_name": "Same"}))
    text = messages[0]["text"]
    assert text.startswith("Our licence data has 7 licences in Texas matching Same:\n")
    assert "\n5. " in text and "\n6. " not in text
    assert "... and 2 more. Adding the licence number narrows it down." in text
    assert len(messages[0]["buttons"]) == 5


def test_no_match_never_says_unlicensed_and_gives_the_board(check):
    tracker = make_tracker(
        slots={"us_state": "TX", "licence_number": "AC99999", "privacy_notice_shown": True}
    )

    messages, events = run_action(check, tracker)

    assert messages == [
        text_message(
            "I could not find licence AC99999 in Texas in our data; "
            "that does not prove they are unlicensed.\n"
            "Our data may be incomplete or out of date. "
            f"Our Texas data: {SOURCE}, retrieved 1 November 2026.\n"
            f"{TX_LIVE}"
        )
    ]
    assert events == CHECK_RESET


def test_no_data_for_the_state_is_said_so(check):
    messages, _ = run_action(
        check,
        make_tracker(slots={"us_state": "CA", "practitioner_name": "Jane Doe", "privacy_notice_shown": True}),
    )
    assert messages == [
        text_message(
            "I could not find Jane Doe in California in our data; that does not prove they are unlicensed.\n"
            "I don't hold any licence data for California yet.\n"
            "For the live, official record, search the name on the online licence lookup of the "
            "California Acupuncture Board."
        )
    ]


def test_a_state_without_an_acupuncture_licence_points_to_nccaom(check):
    messages, _ = run_action(check, make_tracker(slots={"us_state": "AL", "practitioner_name": "Jane Doe"}))
    assert messages[0]["text"].endswith(
        "Alabama does not license acupuncturists, so there is no state acupuncture licence to check there; "
        "look for national certification in NCCAOM's Find a Practitioner directory "
        "(how to use it: https://help.nccaom.org/hc/en-us/articles/360009708013)."
    )


def test_a_physical_therapist_is_sent_to_the_pt_board(check):
    tracker = make_tracker(
        slots={"us_state": "TX", "practitioner_name": "Jane Doe", "credential_profession": "physical_therapy"}
    )
    messages, _ = run_action(check, tracker)
    assert messages[0]["text"].endswith(
        "For the live, official record, search the name on the online licence lookup of the "
        "Texas physical therapy board."
    )


def test_a_found_pt_licence_uses_the_pt_board_whatever_was_asked(check):
    messages, _ = run_action(check, make_tracker(slots={"us_state": "TX", "licence_number": "PT20001"}))
    text = messages[0]["text"]
    assert "Robin Example: Physical Therapist, licence PT-20001, Austin, Texas." in text
    assert text.endswith("online licence lookup of the Texas physical therapy board.")


def test_a_close_spelling_is_offered_but_not_as_an_exact_match(check):
    messages, _ = run_action(
        check, make_tracker(slots={"us_state": "TX", "practitioner_name": "Jane Exampel"})
    )
    assert messages[0]["text"].startswith(
        "I could not find Jane Exampel exactly in Texas in our data. The closest match is below; "
        f"please make sure it is the right one. {NOT_LIVE}\n\nJane Example: "
    )


def test_digits_without_the_prefix_find_the_licence_but_say_so(check):
    messages, _ = run_action(check, make_tracker(slots={"us_state": "TX", "licence_number": "00128"}))
    assert messages[0]["text"].startswith("I could not find licence 00128 exactly in Texas in our data.")
    assert "Avery Dummyfield: Licensed Acupuncturist, licence AC-00128" in messages[0]["text"]


def test_a_stopped_form_answers_nothing_and_clears_the_check(check):
    messages, events = run_action(check, make_tracker(slots={"us_state": "TX"}))
    assert messages == []
    assert events == CHECK_RESET


def test_outage_apologises_and_keeps_the_state(check):
    @contextmanager
    def broken():
        raise OperationalError("SELECT", {}, Exception("database is down"))
        yield  # pragma: no cover

    action = ActionCheckLicence(broken, BOARDS, today=lambda: TODAY)
    messages, events = run_action(action, make_tracker(slots={"us_state": "TX", "licence_number": "AC1"}))
    assert [m["response"] for m in messages] == ["utter_service_problem"]
    assert events == CHECK_RESET  # us_state is not reset


def test_a_failing_board_directory_does_not_cost_the_answer(repository):
    class Broken:
        def lookup(self, state_code: str) -> BoardInfo | None:
            raise RuntimeError("no board data")

    action = ActionCheckLicence(lambda: nullcontext(repository), Broken(), today=lambda: TODAY)
    messages, _ = run_action(action, make_tracker(slots={"us_state": "TX", "licence_number": "AC00123"}))
    assert messages[0]["text"].endswith(
        "For the live, official record, search the name on the online licence lookup "
        "of the Texas acupuncture board."
    )


def test_legal_board_directory_degrades_to_none_without_legal_data(monkeypatch):
    import actions.store.legal_repository as legal_repository

    def broken():
        raise RuntimeError("no legal tables")

    monkeypatch.setattr(legal_repository, "sql_legal_repository", broken, raising=False)
    assert LegalBoardDirectory().lookup("TX") is None


def test_legal_board_directory_reads_the_legal_repository(monkeypatch):
    import sys
    import types

    class Record:
        board_name = "Texas State Board of Acupuncture Examiners"
        lookup_url = "https://board.example/tx"

    class Repository:
        def acupuncture_board(self, state_code: str) -> Record | None:
            return Record() if state_code == "TX" else None

    module = types.ModuleType("actions.store.legal_repository")
    module.sql_legal_repository = lambda: nullcontext(Repository())  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "actions.store.legal_repository", module)
    import actions.store

    monkeypatch.setattr(actions.store, "legal_repository", module, raising=False)

    assert LegalBoardDirectory().lookup("TX") == BoardInfo(
        "Texas State Board of Acupuncture Examiners", "https://board.example/tx"
    )
    assert LegalBoardDirectory().lookup("OK") is None


def test_find_lists_at_most_five_active_licences(find):
    tracker = make_tracker(slots={"us_state": "TX", "search_city": "austin", "privacy_notice_shown": True})

    messages, events = run_action(find, tracker)

    assert messages == [
        text_message(
            "Active acupuncture licences in our data for austin, Texas:\n"
            "1. Avery Dummyfield (L.Ac.): Licensed Acupuncturist, licence AC-00128, expires 31 January 2027\n"
            "2. Jane Example (L.Ac., Dipl. O.M. (NCCAOM)): Licensed Acupuncturist, licence AC-00123, "
            "expires 31 January 2027\n"
            "3. Morgan Mockworth (L.Ac.): Licensed Acupuncturist, licence AC-00127, expires 31 January 2027\n"
            "4. Rosa Placeholder (L.Ac.): Licensed Acupuncturist, licence AC-00124, expires 31 January 2027\n"
            "5. Sam Sample (L.Ac.): Licensed Acupuncturist, licence AC-00125, expires 31 January 2027\n"
            "There are more in our data; I list at most 5.\n\n"
            "This is not a recommendation and not a live check: it is what our licence data shows. "
            f"{DATA}\n"
            "For the live, official record, use the licence lookup of the Texas State Board of Acupuncture "
            "Examiners: https://board.example/tx-lookup"
        )
    ]
    assert events == SEARCH_RESET


def test_find_never_lists_expired_suspended_or_other_professions(find):
    messages, _ = run_action(find, make_tracker(slots={"us_state": "TX", "search_city": "Austin"}))
    text = messages[0]["text"]
    for name in ("Chris Fictional", "Pat Notreal", "Robin Example"):
        assert name not in text


def test_find_physical_therapists(find):
    tracker = make_tracker(
        slots={"us_state": "TX", "search_city": "Austin", "credential_profession": "physical_therapy"}
    )
    messages, _ = run_action(find, tracker)
    text = messages[0]["text"]
    assert text.startswith(
        "Active physical therapy licences in our data for Austin, Texas:\n1. Robin Example (DPT)"
    )
    assert text.endswith("check each name on the online licence lookup of the Texas physical therapy board.")


def test_find_nothing_keeps_the_caveats(find):
    messages, events = run_action(
        find, make_tracker(slots={"us_state": "TX", "search_city": "El Paso", "privacy_notice_shown": True})
    )
    assert messages == [
        text_message(
            "I found no active acupuncture licences for El Paso, Texas in our data.\n"
            "That does not mean there are none: our data may be incomplete. "
            f"Our Texas data: {SOURCE}, retrieved 1 November 2026.\n"
            f"{TX_LIVE}\n"
            "NCCAOM's Find a Practitioner directory also lists nationally certified acupuncturists "
            "(how to use it: https://help.nccaom.org/hc/en-us/articles/360009708013)."
        )
    ]
    assert events == SEARCH_RESET


def test_find_without_a_city_says_nothing(find):
    messages, events = run_action(find, make_tracker(slots={"us_state": "TX"}))
    assert messages == [] and events == SEARCH_RESET
