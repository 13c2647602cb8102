"""Legality actions with in-code trackers and an in-memory repository: exact messages and events."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from actions.legal import (
    LEGAL_NOTE,
    ActionAnswerLegal,
    ActionListLegalStates,
    ValidateStateForm,
    read_state_reply,
    resolve_question,
    resolve_topic,
)
from actions.legal_answers import STATUS_WORDS, dates_lead, list_kind, place, source_date_phrase
from actions.rendering import format_date
from actions.safety.notice import privacy_notice
from actions.settings import PROJECT_ROOT
from actions.states import state_in_message
from actions.store.legal_data import read_legal_data
from actions.store.legal_repository import (
    AcupunctureLicensure,
    DryNeedlingRule,
    InMemoryLegalRepository,
    LegalSource,
    OtherPractitioner,
)
from tests.conftest import SAFETY, make_tracker, response_message, text_message

TODAY = date(2026, 11, 21)
DATASET = read_legal_data(PROJECT_ROOT / "data", today=TODAY)
DOMAIN = {"forms": {"state_form": {"required_slots": ["us_state"]}}}

SOURCE_A = LegalSource("source_a", "Source A", "https://example.org/a", "as of January 2026")
SOURCE_B = LegalSource("source_b", "Source B", None, "2025")
FAKE_OHIO = DryNeedlingRule(
    state_code="OH",
    state_name="Ohio",
    status="allowed",
    summary="A board rule allows it.",
    conditions=("50 hours of training",),
    others=(OtherPractitioner("chiropractor", "prohibited", False, "A website says so."),),
    pending=("a bill would add 10 hours",),
    caveats=("The hours are not confirmed.",),
    conflict=None,
    board=None,
    board_url=None,
    sources=(SOURCE_A, SOURCE_B),
    source_date=date(2026, 1, 1),
    source_date_precision="month",
    verified_on=date(2026, 11, 1),
)
FAKE_OHIO_ACUPUNCTURE = AcupunctureLicensure(
    state_code="OH",
    state_name="Ohio",
    licensed=True,
    licensed_title="Licensed Acupuncturist (L.Ac.)",
    board_name="State Medical Board of Ohio",
    lookup_url="https://example.org/lookup",
    lookup_hint="eLicense Ohio",
    exam="NCCAOM exams",
    notes="Ohio licenses acupuncturists.",
    caveats=(),
    sources=(SOURCE_A,),
    source_date=None,
    source_date_precision="undated",
    verified_on=date(2026, 11, 1),
)


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "extractor": "SpacyEntityExtractor"}


def tracker(
    text: str = "",
    intent: str = "inform_state",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    asking: bool = False,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as the action server receives it; ``asking``: state_form waits for the state."""
    slots = dict(slots or {})
    if asking:
        slots["requested_slot"] = "us_state"
    return make_tracker(
        {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []},
        slots,
        sender_id="legal-test",
        events=events,
        active_loop={"name": "state_form"} if asking else None,
    )


def answer_text(messages: list[dict[str, Any]]) -> str:
    """A short-first answer as one text: the short answer, then the detail and sources."""
    if messages[0]["custom"].get("answer"):
        assert messages[1]["custom"] == {"answer_detail": {"key": messages[0]["custom"]["answer"]["key"]}}
        return f"{messages[0]['text']}\n{messages[1]['text']}"
    return str(messages[0]["text"])


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def answer_action(
    *rules: DryNeedlingRule, acupuncture: tuple[AcupunctureLicensure, ...] = ()
) -> ActionAnswerLegal:
    repository = InMemoryLegalRepository(rules, acupuncture)
    return ActionAnswerLegal(
        repository_factory=lambda: nullcontext(repository),
        today=lambda: TODAY,
        max_age=12,
        safety_settings=SAFETY,
    )


@pytest.fixture(scope="module")
def full_repository() -> InMemoryLegalRepository:
    return InMemoryLegalRepository.from_dataset(DATASET)


# ---------------------------------------------------------------- the state form


def test_question_naming_the_state_fills_it_and_remembers_the_question():
    messages, events = run(
        ValidateStateForm(),
        tracker(
            "can a PT dry needle in Calif.?",
            "ask_dry_needling_legality",
            [entity("practitioner", "PT"), entity("treatment", "dry needle"), entity("us_state", "Calif.")],
        ),
    )
    assert messages == []
    assert events == [
        SlotSet("us_state", "CA"),
        SlotSet("legal_question", "dry_needling"),
        SlotSet("legal_practitioner", "physical_therapist"),
        SlotSet("legal_state_attempts", None),
    ]


def test_question_without_a_state_keeps_the_remembered_one():
    messages, events = run(
        ValidateStateForm(),
        tracker(
            "can my chiropractor do it?",
            "ask_dry_needling_legality",
            [entity("practitioner", "chiropractor")],
            slots={"us_state": "OH"},
        ),
    )
    assert messages == []
    assert events == [
        SlotSet("legal_question", "dry_needling"),
        SlotSet("legal_practitioner", "chiropractor"),
    ]


def test_acupuncture_named_in_a_dry_needling_question_asks_about_acupuncture():
    _, events = run(
        ValidateStateForm(),
        tracker(
            "is acupuncture legal in Alabama",
            "ask_dry_needling_legality",
            [entity("treatment", "acupuncture"), entity("us_state", "Alabama")],
        ),
    )
    assert SlotSet("legal_question", "acupuncture") in events
    assert SlotSet("us_state", "AL") in events


def test_a_treatment_named_after_a_legal_answer_switches_the_question_and_keeps_the_state():
    # "same question for dry needling" after the Vermont acupuncture answer (rule in
    # data/rules/legal.yml): the state stays, the question becomes dry needling's.
    messages, events = run(
        ValidateStateForm(),
        tracker(
            "same question for dry needling",
            "inform_treatment",
            [entity("treatment", "dry needling")],
            slots={"us_state": "VT", "legal_question": "acupuncture"},
        ),
    )
    assert messages == []
    assert events == [SlotSet("legal_question", "dry_needling"), SlotSet("legal_practitioner", None)]


def test_there_is_the_state_named_before_and_a_profession_named_is_asked_about():
    # "is dry needling legal in texas" -> "can chiros do it there": Texas, about chiropractors.
    messages, events = run(
        ValidateStateForm(),
        tracker(
            "can chiros do it there",
            "inform_state",
            [entity("practitioner", "chiros")],
            slots={"us_state": "TX", "legal_question": "dry_needling"},
        ),
    )
    assert messages == []
    assert SlotSet("us_state", "TX") in events
    assert SlotSet("legal_practitioner", "chiropractor") in events


def test_there_without_a_state_named_before_asks_for_it():
    messages, events = run(
        ValidateStateForm(),
        tracker("who licenses them there", "inform_state", [], slots={"legal_question": "acupuncture"}),
    )
    assert SlotSet("us_state", None) in events
    assert len(messages) == 1


def test_a_legality_question_about_a_physio_naming_no_treatment_is_about_dry_needling():
    # "my physio in portland oregon says they can start needling soon, is it allowed yet".
    code_question = resolve_question(
        tracker(
            "my physio in oregon can start needling soon, allowed?",
            "inform_state",
            [entity("practitioner", "physio")],
        )
    )
    assert code_question == ("dry_needling", True)


def test_a_treatment_without_state_rules_leaves_the_question_alone():
    _, events = run(
        ValidateStateForm(),
        tracker("and tui na?", "inform_treatment", [entity("treatment", "tui na")], slots={"us_state": "VT"}),
    )
    assert events == []


@pytest.mark.parametrize(
    ("text", "entities", "code"),
    [
        ("I live in Ohio", [entity("us_state", "Ohio")], "OH"),
        ("i live in tx", [], "TX"),  # lower-case code: no entity, read from the text
        ("OR", [], "OR"),  # an ambiguous code on its own, typed in capitals, as an answer
        ("new yrok", [], "NY"),
        ("Washington, DC", [entity("us_state", "Washington, DC")], "DC"),
        ("washington state please", [entity("us_state", "washington state")], "WA"),
    ],
)
def test_reply_to_the_state_question(text, entities, code):
    messages, events = run(ValidateStateForm(), tracker(text, "inform_state", entities, asking=True))
    assert messages == []
    assert events == [SlotSet("us_state", code), SlotSet("legal_state_attempts", None)]


def test_a_reply_that_names_no_state_gets_a_clear_message_and_the_question_again():
    messages, events = run(ValidateStateForm(), tracker("Narnia", "inform_state", asking=True))
    assert messages == [response_message("utter_state_not_recognised")]
    assert events == [SlotSet("us_state", None), SlotSet("legal_state_attempts", 1.0)]


def test_the_third_failed_reply_stops_asking():
    messages, events = run(
        ValidateStateForm(),
        tracker("somewhere", "nlu_fallback", asking=True, slots={"legal_state_attempts": 2.0}),
    )
    assert messages == [response_message("utter_state_give_up")]
    assert events == [
        SlotSet("us_state", None),
        SlotSet("legal_state_attempts", None),
        SlotSet("requested_slot", None),
    ]


def test_never_mind_ends_the_form_quietly():
    messages, events = run(ValidateStateForm(), tracker("no thanks", "thanks", asking=True))
    assert messages == []
    assert events == [
        SlotSet("us_state", None),
        SlotSet("legal_state_attempts", None),
        SlotSet("requested_slot", None),
    ]


def test_a_faq_question_while_waiting_is_left_to_the_faq_rule():
    messages, events = run(ValidateStateForm(), tracker("what is dry needling", "faq", asking=True))
    assert (messages, events) == ([], [])  # nothing extracted: the form is rejected, the FAQ answers


def test_a_new_question_without_a_state_while_waiting_asks_again():
    messages, events = run(
        ValidateStateForm(),
        tracker("does my state license acupuncturists", "ask_acupuncture_licensure", asking=True),
    )
    assert messages == []
    assert events == [
        SlotSet("us_state", None),
        SlotSet("legal_question", "acupuncture"),
        SlotSet("legal_practitioner", None),
    ]


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("is dry needling legal in ny", [], "NY"),
        ("can i get DN from a PT in nj?", [], "NJ"),
        ("is it legal for an MD to dry needle", [], None),  # "MD" after "for an" is a doctor here
        ("is it legal in my state", [], None),
        ("what about in OR", [entity("us_state", "in OR")], "OR"),
        ("what about Ontario", [], None),
    ],
)
def test_state_in_message(text, entities, expected):
    assert state_in_message({"text": text, "entities": entities}) == expected


def test_outcomes_outside_the_form():
    assert read_state_reply(tracker("what about Ontario", "inform_state")) == (None, "failed")
    assert read_state_reply(tracker("is it legal here", "ask_dry_needling_legality")) == (None, "none")


# ---------------------------------------------------------------- answers


def test_dry_needling_answer_exact_format():
    action = answer_action(FAKE_OHIO)
    messages, events = run(action, tracker(slots={"us_state": "OH", "legal_question": "dry_needling"}))
    assert [m["text"] for m in messages] == [
        "Yes — physical therapists in Ohio may dry needle "
        "(allowed; last checked 1 November 2026; source dated January 2026).",
        (
            "A board rule allows it.\n"
            "What physical therapists need:\n"
            "- 50 hours of training\n"
            "Others:\n"
            "- Chiropractors (prohibited, not confirmed): A website says so.\n"
            "Pending changes:\n"
            "- A bill would add 10 hours\n"
            "Please note: The hours are not confirmed.\n"
            "Please check with the Ohio physical therapy licensing board before relying on this.\n\n"
            "Source: Source A - https://example.org/a (source dated January 2026)\n"
            "Also consulted:\n"
            "- Source B (2025)"
        ),
        LEGAL_NOTE,
        privacy_notice(SAFETY),
    ]
    assert messages[0]["custom"]["answer"] == {
        "key": "legal_dry_needling_oh",
        "short": messages[0]["text"],
        "detail": [
            {"type": "paragraph", "text": "A board rule allows it."},
            {"type": "paragraph", "text": "What physical therapists need:"},
            {"type": "list", "items": ["50 hours of training"]},
            {"type": "paragraph", "text": "Others:"},
            {"type": "list", "items": ["Chiropractors (prohibited, not confirmed): A website says so."]},
            {"type": "paragraph", "text": "Pending changes:"},
            {"type": "list", "items": ["A bill would add 10 hours"]},
            {"type": "paragraph", "text": "Please note: The hours are not confirmed."},
            {
                "type": "paragraph",
                "text": "Please check with the Ohio physical therapy licensing board before relying on this.",
            },
        ],
        "sources": [
            {"title": "Source A", "url": "https://example.org/a", "date": "source dated January 2026"},
            {"title": "Source B", "url": None, "date": "2025"},
        ],
        "note": "Last checked 1 November 2026; source dated January 2026.",
    }
    assert events == [
        SlotSet("legal_question", "dry_needling"),
        SlotSet("treatment_context", "dry_needling"),
        SlotSet("legal_state_attempts", None),
        SlotSet("legal_note_shown", True),
        SlotSet("privacy_notice_shown", True),
    ]


def test_question_about_another_profession_answers_for_it_first():
    action = answer_action(FAKE_OHIO)
    messages, _ = run(
        action,
        tracker(
            slots={
                "us_state": "OH",
                "legal_question": "dry_needling",
                "legal_practitioner": "chiropractor",
                "legal_note_shown": True,
                "privacy_notice_shown": True,
            }
        ),
    )
    lines = answer_text(messages).split("\n")
    assert lines[:4] == [
        "No — chiropractors in Ohio may not dry needle "
        "(prohibited; last checked 1 November 2026; source dated January 2026).",
        "This comes from a less reliable source and is not confirmed.",
        "A website says so.",
        "For physical therapists: physical therapists in Ohio may dry needle (allowed).",
    ]
    assert "Chiropractors (" not in answer_text(messages)  # not repeated under "Others"
    assert len(messages) == 2  # the short answer and its detail: the legal note was already shown


def test_unknown_profession_is_said_to_be_unconfirmed(full_repository):
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(
        action,
        tracker(
            slots={
                "us_state": "OH",
                "legal_question": "dry_needling",
                "legal_practitioner": "athletic_trainer",
            }
        ),
    )
    assert answer_text(messages).startswith(
        "Not confirmed — I have no confirmed information on whether athletic trainers in Ohio may "
        "dry needle (last checked 21 November 2026; source dated January 2026).\n"
        "Please check with the Ohio board that licenses athletic trainers."
    )


def test_acupuncture_answer_exact_format():
    action = answer_action(acupuncture=(FAKE_OHIO_ACUPUNCTURE,))
    messages, events = run(
        action,
        tracker(
            slots={
                "us_state": "OH",
                "legal_question": "acupuncture",
                "legal_note_shown": True,
                "privacy_notice_shown": True,
            }
        ),
    )
    assert [m["text"] for m in messages] == [
        "Yes — Ohio licenses acupuncturists (licensed; last checked 1 November 2026; source undated).",
        "Ohio licenses acupuncturists.\n"
        "Title: Licensed Acupuncturist (L.Ac.)\n"
        "Regulator: the State Medical Board of Ohio\n"
        "Exam: NCCAOM exams\n"
        "To check a licence: eLicense Ohio, https://example.org/lookup\n\n"
        "Source: Source A - https://example.org/a (source undated)",
    ]
    assert messages[0]["custom"]["answer"]["sources"] == [
        {"title": "Source A", "url": "https://example.org/a", "date": "source undated"}
    ]
    assert events[0] == SlotSet("legal_question", "acupuncture")


def test_a_title_asked_about_in_a_state_gets_the_states_answer_then_what_titles_mean():
    # "what is a DOM in ohio": the row names the state's title; the general titles answer is a tap away.
    action = answer_action(acupuncture=(FAKE_OHIO_ACUPUNCTURE,))
    slots = {
        "us_state": "OH",
        "legal_question": "acupuncture",
        "legal_note_shown": True,
        "privacy_notice_shown": True,
    }
    messages, _ = run(
        action,
        tracker("what is a DOM in ohio", "ask_acupuncture_licensure", [entity("credential", "DOM")], slots),
    )
    assert messages[0]["text"].startswith("Yes — Ohio licenses acupuncturists")
    assert messages[2]["text"] == "Titles and letters differ from state to state:"
    assert messages[2]["buttons"] == [
        {
            "title": "What acupuncture titles mean",
            "payload": '/choose_topic{"topic_key": "cac_and_other_titles"}',
        }
    ]
    assert len(messages) == 3

    plain, _ = run(action, tracker("is acupuncture licensed in ohio", "ask_acupuncture_licensure", [], slots))
    assert len(plain) == 2


def test_stale_rows_say_they_may_be_out_of_date():
    action = ActionAnswerLegal(
        repository_factory=lambda: nullcontext(InMemoryLegalRepository([FAKE_OHIO])),
        today=lambda: date(2028, 1, 1),
        max_age=12,
    )
    messages, _ = run(action, tracker(slots={"us_state": "OH", "legal_question": "dry_needling"}))
    assert (
        "This was last checked on 1 November 2026, more than 12 months ago, so it may be out of date."
        in answer_text(messages)
    )


def test_no_state_after_the_form_gave_up():
    messages, events = run(answer_action(FAKE_OHIO), tracker(slots={"legal_question": "dry_needling"}))
    assert messages == [response_message("utter_legal_no_state")]
    assert events == [SlotSet("legal_state_attempts", None)]


def test_a_state_without_a_question_offers_both_topics():
    messages, events = run(answer_action(FAKE_OHIO), tracker("I live in Ohio", slots={"us_state": "OH"}))
    assert messages == [
        text_message(
            "What would you like to know about Ohio?",
            buttons=[
                {"title": "Dry needling rules", "payload": "/ask_dry_needling_legality"},
                {"title": "Acupuncture licensing", "payload": "/ask_acupuncture_licensure"},
            ],
        )
    ]
    assert events == []


def test_other_treatments_are_not_covered():
    messages, events = run(
        answer_action(FAKE_OHIO), tracker(slots={"us_state": "OH", "legal_question": "tui_na"})
    )
    assert answer_text(messages).startswith(
        "I only have state-by-state information on dry needling and on acupuncture licensing, not on Tui Na."
    )
    assert events == [SlotSet("legal_question", None)]


def test_database_outage_is_apologised_for():
    @contextmanager
    def broken():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        yield  # pragma: no cover

    action = ActionAnswerLegal(repository_factory=broken, today=lambda: TODAY)
    messages, events = run(action, tracker(slots={"us_state": "OH", "legal_question": "dry_needling"}))
    assert messages == [response_message("utter_service_problem")]
    assert events == []


def test_topic_comes_from_the_latest_legal_question_or_who_may_practise_answer():
    faq_then_state = [
        {"event": "slot", "name": "legal_question", "value": "acupuncture"},
        {"event": "slot", "name": "last_topic", "value": "dry_needling_who_may_practise"},
    ]
    assert (
        resolve_topic(tracker(slots={"legal_question": "acupuncture"}, events=faq_then_state))
        == "dry_needling"
    )
    assert resolve_topic(tracker(events=faq_then_state[:1])) == "acupuncture"
    assert resolve_topic(tracker(slots={"treatment_context": "electroacupuncture"})) == "acupuncture"
    assert resolve_topic(tracker(slots={"treatment_context": "tui_na"})) is None


def test_a_profession_from_an_earlier_question_is_not_applied_to_a_topic_from_context():
    """Asked about chiropractors and acupuncture earlier; then the general dry needling FAQ; then "Ohio"."""
    events = [
        {"event": "slot", "name": "legal_question", "value": "dry_needling"},
        {"event": "slot", "name": "legal_practitioner", "value": "chiropractor"},
        {"event": "slot", "name": "last_topic", "value": "dry_needling_who_may_practise"},
    ]
    slots = {"us_state": "OH", "legal_question": "dry_needling", "legal_practitioner": "chiropractor"}
    messages, _ = run(answer_action(FAKE_OHIO), tracker("Ohio", slots=slots, events=events))
    assert answer_text(messages).startswith(
        "Yes — physical therapists in Ohio may dry needle (allowed; last checked 1 November 2026"
    )


def test_acupuncture_questions_do_not_keep_a_profession():
    _, events = run(
        ValidateStateForm(),
        tracker(
            "does Ohio license acupuncturists?",
            "ask_acupuncture_licensure",
            [entity("us_state", "Ohio"), entity("practitioner", "acupuncturists")],
        ),
    )
    assert SlotSet("legal_practitioner", None) in events


# ---------------------------------------------------------------- all 51 jurisdictions, from the data

DN_ROWS = {rule.state_code: rule for rule in DATASET.dry_needling}
ACU_ROWS = {row.state_code: row for row in DATASET.acupuncture}


@pytest.mark.parametrize("code", sorted(DN_ROWS))
def test_dry_needling_answer_for_every_jurisdiction(full_repository, code):
    rule = DN_ROWS[code]
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(action, tracker(slots={"us_state": code, "legal_question": "dry_needling"}))

    text = answer_text(messages)
    first = messages[0]["text"]
    # One sentence first: the status and both dates (issue 20).
    dates = f"last checked {format_date(rule.verified_on)}; "
    assert dates + source_date_phrase(rule.source_date, rule.source_date_precision) in first
    assert place(code, rule.state_name) in first
    assert f"({STATUS_WORDS[rule.status]}; last checked " in first
    assert len(first.split()) <= 40
    if rule.check_first:
        # A row with a reason to check with the board first says so first, and the reason follows.
        assert first.startswith("Please check with the board before relying on this")
        assert messages[1]["text"].split("\n")[0].endswith(f"before relying on this. {rule.check_first}")
    elif rule.conflict:
        assert first.startswith("Sources disagree — ")
    else:
        answer_word = {"allowed": "Yes", "prohibited": "No", "unclear": "Unclear"}
        assert first.startswith(answer_word.get(rule.status, "Not addressed") + " — ")
    assert f"Source: {rule.sources[0].title}" in text
    assert source_date_phrase(rule.source_date, rule.source_date_precision) in text
    if rule.conflict:
        assert "Sources disagree: " in text
    if rule.conflict or rule.caveats or rule.check_first:
        assert text.count("before relying on this.") == 1
    for change in rule.pending:
        assert change[1:] in text


@pytest.mark.parametrize("code", sorted(ACU_ROWS))
def test_acupuncture_answer_for_every_jurisdiction(full_repository, code):
    row = ACU_ROWS[code]
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(action, tracker(slots={"us_state": code, "legal_question": "acupuncture"}))

    text = answer_text(messages)
    first = messages[0]["text"]
    where = place(code, row.state_name)
    dates = dates_lead(row.verified_on, row.source_date, row.source_date_precision)
    status = "licensed" if row.licensed else "no state licence"
    assert first.startswith(f"{'Yes' if row.licensed else 'No'} — {where[:1].upper()}{where[1:]} ")
    assert first.endswith(f"({status}; {dates[:1].lower()}{dates[1:-1]}).")
    if row.licensed:
        assert f"Regulator: the {row.board_name}" in text
        assert f"Title: {row.licensed_title}" in text
    if row.lookup_url:
        assert row.lookup_url in text
    if row.caveats:
        assert "Please note: " in text and "before relying on this." in text
    assert source_date_phrase(row.source_date, row.source_date_precision) in text


def test_every_answer_leads_with_when_it_was_checked_and_how_old_its_source_is():
    """A 2023 or 2017 source must not read as current because the row was checked in 2026."""
    ohio = dates_lead(date(2026, 11, 21), date(2026, 1, 1), "month")
    assert ohio == "Last checked 21 November 2026; source dated January 2026."
    assert dates_lead(date(2026, 11, 21), date(2023, 1, 1), "approx") == (
        "Last checked 21 November 2026; source undated, about 2023."
    )
    assert dates_lead(date(2026, 11, 21), None, "undated") == "Last checked 21 November 2026; source undated."


def test_illinois_says_check_with_the_board_first_and_why(full_repository):
    """Its statute section was due to be repealed on 1 January 2026 (dry_needling_by_state.csv, IL)."""
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(action, tracker(slots={"us_state": "IL", "legal_question": "dry_needling"}))
    lines = answer_text(messages).split("\n")
    assert lines[:2] == [
        "Please check with the board before relying on this: the sources say physical therapists in "
        "Illinois may dry needle (allowed; last checked 21 November 2026; source dated 13 June 2017), "
        "but they may be out of date.",
        "Please check with the Illinois physical therapy licensing board before relying on this. The "
        "section of the Illinois Physical Therapy Practice Act that allows dry needling (225 ILCS 90/1.5) "
        "was due to be repealed on 1 January 2026, and whether it was renewed is not confirmed.",
    ]
    assert messages[1]["text"].count("before relying on this.") == 1


def test_alabama_says_the_sources_disagree_about_pts(full_repository):
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(action, tracker(slots={"us_state": "AL", "legal_question": "dry_needling"}))
    text = answer_text(messages)
    assert messages[0]["text"].startswith("Sources disagree — the main source says physical therapists")
    assert "Sources disagree: The national dry needling summaries (APTA 2023, PPHC 2026) list Alabama" in text
    assert "Please check with the Alabama physical therapy licensing board before relying on this." in text
    acupuncture, _ = run(action, tracker(slots={"us_state": "AL", "legal_question": "acupuncture"}))
    assert "Sources disagree about dry needling by physical therapists" in answer_text(acupuncture)
    assert "may legally needle" not in answer_text(acupuncture)


# ---------------------------------------------------------------- list questions


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("which states don't allow PTs to dry needle?", "prohibited"),
        ("which states ban dry needling", "prohibited"),
        ("where can't physical therapists dry needle", "prohibited"),
        ("where is it not regulated?", "not_addressed"),
        ("which states have no dry needling law", "not_addressed"),
        ("which states allow physical therapists to dry needle", "allowed"),
        ("list the states", "overview"),
    ],
)
def test_list_kind(text, kind):
    assert list_kind(text) == kind


def test_list_of_states_where_pts_may_not_dry_needle(full_repository):
    action = ActionListLegalStates(lambda: nullcontext(full_repository))
    messages, events = run(
        action,
        tracker(
            "which states don't allow PTs to dry needle?",
            "ask_legal_state_list",
            [entity("practitioner", "PTs"), entity("treatment", "dry needle")],
        ),
    )
    lines = answer_text(messages).split("\n")
    assert lines[:6] == [
        "Physical therapists may not dry needle in 4 states: California, Hawaii, New York and Oregon "
        "(last checked 21 November 2026; sources dated 13 June 2017 to January 2026).",
        "Not addressed by law (no statute or board position): Massachusetts, Michigan, Minnesota, Missouri, "
        "Oklahoma and Pennsylvania.",
        "Unclear (sources disagree): Arkansas and Connecticut.",
        "Allowed: the other 38 states and DC, usually after set training.",
        "Changes are pending in California and Oregon.",
        "Please check with the board before relying on this for Illinois; ask me about it for the reason.",
    ]
    assert events == [SlotSet("legal_question", "dry_needling"), SlotSet("treatment_context", "dry_needling")]


def test_where_is_it_not_regulated_follows_an_acupuncture_conversation(full_repository):
    action = ActionListLegalStates(lambda: nullcontext(full_repository))
    messages, events = run(
        action,
        tracker(
            "where is it not regulated?", "ask_legal_state_list", slots={"legal_question": "acupuncture"}
        ),
    )
    assert answer_text(messages).startswith(
        "Alabama, Oklahoma and South Dakota do not license acupuncturists (no state licence); the other "
        "47 states and DC do (last checked 21 November 2026; sources dated about 2008 to February 2026, "
        "3 undated)."
    )
    assert events[0] == SlotSet("legal_question", "acupuncture")


def test_a_second_state_named_in_the_question_is_offered_one_tap_away(full_repository):
    # "why can't my PT in LA dry needle when my friend's PT in arizona can": Arizona is
    # answered (the slot), Louisiana is a button asking the same question about it.
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(
        action,
        tracker(
            "why can't my PT in LA dry needle when my friend's PT in arizona can",
            "ask_dry_needling_legality",
            [entity("us_state", "LA"), entity("us_state", "arizona")],
            slots={"us_state": "AZ", "legal_question": "dry_needling", "legal_note_shown": True},
        ),
    )
    offer = [message for message in messages if message["text"] == "You also named another state:"]
    assert offer == [
        text_message(
            "You also named another state:",
            buttons=[
                {
                    "title": "Dry needling in Louisiana",
                    "payload": '/ask_dry_needling_legality{"us_state": "LA"}',
                }
            ],
        )
    ]


def test_one_state_named_gets_no_offer(full_repository):
    action = ActionAnswerLegal(lambda: nullcontext(full_repository), today=lambda: TODAY, max_age=12)
    messages, _ = run(
        action,
        tracker(
            "is dry needling legal in arizona",
            "ask_dry_needling_legality",
            [entity("us_state", "arizona")],
            slots={"us_state": "AZ", "legal_question": "dry_needling"},
        ),
    )
    assert all(message["text"] != "You also named another state:" for message in messages)
