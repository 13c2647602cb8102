"""The two forms' validation actions, called as Rasa calls them: exact slot events and messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.credentials import ValidateLicenceCheckForm, ValidatePractitionerSearchForm
from actions.settings import PROJECT_ROOT
from tests.conftest import make_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain" / "credentials.yml").read_text(encoding="utf-8"))
# The state's messages are the shared responses of actions.states (as state_form's).
STATE_PROBLEM = "utter_state_not_recognised"


def entity(name: str, text: str, message: str) -> dict[str, Any]:
    start = message.index(text)
    return {"entity": name, "value": text, "start": start, "end": start + len(text)}


def form_tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    requested: str | None = None,
    slots: dict[str, Any] | None = None,
    form: str = "licence_check_form",
) -> Tracker:
    """The temporary tracker Rasa sends to validate_<form>: ends with the form's own action."""
    all_slots = {"requested_slot": requested, **(slots or {})}
    return make_tracker(
        {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []},
        all_slots,
        events=[{"event": "action", "name": form}],
        active_loop={"name": form} if requested else None,
        latest_action_name=form,
    )


def run_form(action: Any, tracker: Tracker) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return [m["text"] or m["response"] for m in dispatcher.messages], events


@pytest.fixture
def licence_form() -> ValidateLicenceCheckForm:
    return ValidateLicenceCheckForm()


@pytest.fixture
def search_form() -> ValidatePractitionerSearchForm:
    return ValidatePractitionerSearchForm()


def test_everything_in_the_first_message(licence_form):
    text = "Check licence AC 12345 in California"
    tracker = form_tracker(text, "check_licence", [entity("us_state", "California", text)])

    messages, events = run_form(licence_form, tracker)

    assert messages == []
    assert events == [SlotSet("us_state", "CA"), SlotSet("licence_number", "AC12345")]


def test_a_name_instead_of_a_number_completes_the_form(licence_form):
    text = "Is Jane Doe a licensed acupuncturist in Texas?"
    entities = [entity("credential", "licensed acupuncturist", text), entity("us_state", "Texas", text)]

    messages, events = run_form(licence_form, form_tracker(text, "check_licence", entities))

    assert messages == []
    assert events == [
        SlotSet("us_state", "TX"),
        SlotSet("practitioner_name", "Jane Doe"),
        SlotSet("credential_profession", "acupuncture"),
        SlotSet("requested_slot", None),
    ]


def test_nothing_given_yet_remembers_the_profession(licence_form):
    text = "can you verify my PT's licence"
    tracker = form_tracker(text, "check_licence", [entity("practitioner", "PT", text)])

    messages, events = run_form(licence_form, tracker)

    assert messages == []
    assert events == [SlotSet("credential_profession", "physical_therapy")]


def test_a_state_the_user_gave_earlier_is_kept(licence_form):
    tracker = form_tracker("check licence AC-777", "check_licence", slots={"us_state": "TX"})
    _, events = run_form(licence_form, tracker)
    assert events == [SlotSet("licence_number", "AC777")]


def test_the_state_answer(licence_form):
    text = "texas"
    tracker = form_tracker(text, "inform_state", [entity("us_state", "texas", text)], requested="us_state")
    assert run_form(licence_form, tracker) == ([], [SlotSet("us_state", "TX")])


def test_a_state_the_ruler_missed_is_read_from_the_text(licence_form):
    tracker = form_tracker("calif", "nlu_fallback", requested="us_state")
    assert run_form(licence_form, tracker) == ([], [SlotSet("us_state", "CA")])


def test_an_unknown_state_gets_a_clear_message_and_is_asked_again(licence_form):
    tracker = form_tracker("Narnia", "nlu_fallback", requested="us_state")

    messages, events = run_form(licence_form, tracker)

    assert messages == [STATE_PROBLEM]
    assert events == [SlotSet("us_state", None), SlotSet("credential_attempts", 1)]


def test_a_good_answer_after_a_bad_one_clears_the_count(licence_form):
    text = "Texas"
    tracker = form_tracker(
        text,
        "inform_state",
        [entity("us_state", "Texas", text)],
        requested="us_state",
        slots={"credential_attempts": 1},
    )
    _, events = run_form(licence_form, tracker)
    assert events == [SlotSet("us_state", "TX"), SlotSet("credential_attempts", None)]


def test_the_third_unusable_answer_ends_the_form(licence_form):
    tracker = form_tracker("Narnia", "nlu_fallback", requested="us_state", slots={"credential_attempts": 2})

    messages, events = run_form(licence_form, tracker)

    assert messages == [
        "utter_state_give_up",
        "Let's leave the licence check there for now. You can start again any time, "
        'for example: "Check licence AC-12345 in Texas" or "Is Jane Example licensed in Texas?"',
    ]
    assert events == [
        SlotSet("us_state", None),
        SlotSet("credential_attempts", 3),
        SlotSet("credential_attempts", None),
        SlotSet("requested_slot", None),
    ]


@pytest.mark.parametrize("requested", ["us_state", "licence_number"])
def test_stop_ends_the_form(licence_form, requested):
    tracker = form_tracker("never mind", "out_of_scope", requested=requested)

    messages, events = run_form(licence_form, tracker)

    assert messages == ["OK, I've stopped the licence check. Ask me anything else."]
    assert events[-2:] == [SlotSet("credential_attempts", None), SlotSet("requested_slot", None)]


def test_a_number_answer(licence_form):
    tracker = form_tracker(
        "AC-12345", "inform_licence_number", requested="licence_number", slots={"us_state": "TX"}
    )
    assert run_form(licence_form, tracker) == ([], [SlotSet("licence_number", "AC12345")])


def test_a_name_answer(licence_form):
    tracker = form_tracker(
        "her name is Jane Example", "inform_name", requested="licence_number", slots={"us_state": "TX"}
    )
    assert run_form(licence_form, tracker) == (
        [],
        [SlotSet("practitioner_name", "Jane Example"), SlotSet("requested_slot", None)],
    )


def test_a_name_classified_as_something_else_is_still_read(licence_form):
    tracker = form_tracker("Jane Example", "greet", requested="licence_number", slots={"us_state": "TX"})
    _, events = run_form(licence_form, tracker)
    assert events[0] == SlotSet("practitioner_name", "Jane Example")


def test_neither_number_nor_name_gets_a_clear_message(licence_form):
    tracker = form_tracker(
        "dunno, the tall one", "nlu_fallback", requested="licence_number", slots={"us_state": "TX"}
    )

    messages, events = run_form(licence_form, tracker)

    assert messages == [
        "Sorry, I couldn't find a licence number or a name in that. Please give the licence number "
        "(for example AC-12345) or the practitioner's first and last name."
    ]
    assert events == [SlotSet("licence_number", None), SlotSet("credential_attempts", 1)]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what is dry needling?", "faq"),
        ("hello there", "greet"),
        ("I suddenly have the worst headache of my life and my arm is weak", "red_flag"),
        ("Worst Headache Ever", "red_flag"),
    ],
)
def test_other_questions_are_left_to_their_own_rules(licence_form, text, intent):
    """No slot event at all: Rasa rejects the form, so the FAQ / safety rule answers instead."""
    tracker = form_tracker(text, intent, requested="licence_number", slots={"us_state": "TX"})
    assert run_form(licence_form, tracker) == ([], [])


def test_a_state_inside_a_licence_number_is_not_a_state(licence_form):
    text = "check MD-12345 in Texas"
    entities = [entity("us_state", "MD", text), entity("us_state", "Texas", text)]
    _, events = run_form(licence_form, form_tracker(text, "check_licence", entities))
    assert events == [SlotSet("us_state", "TX"), SlotSet("licence_number", "MD12345")]


def test_search_everything_in_the_first_message(search_form):
    text = "Find a licensed acupuncturist near Austin, TX"
    entities = [entity("credential", "licensed acupuncturist", text), entity("us_state", "TX", text)]

    messages, events = run_form(
        search_form, form_tracker(text, "find_practitioner", entities, form="practitioner_search_form")
    )

    assert messages == []
    assert events == [
        SlotSet("us_state", "TX"),
        SlotSet("search_city", "Austin"),
        SlotSet("credential_profession", "acupuncture"),
    ]


def test_search_a_city_that_names_its_state_is_still_the_city(search_form):
    # "Austin" names Texas for the state questions (data/lexicon/us_states.yml) and is the city.
    text = "Find a licensed acupuncturist near Austin, TX"
    entities = [
        entity("credential", "licensed acupuncturist", text),
        entity("us_state", "Austin", text),
        entity("us_state", "TX", text),
    ]

    _, events = run_form(
        search_form, form_tracker(text, "find_practitioner", entities, form="practitioner_search_form")
    )

    assert events[:2] == [SlotSet("us_state", "TX"), SlotSet("search_city", "Austin")]


def test_search_kansas_city_is_a_city_not_kansas(search_form):
    text = "find an acupuncturist in Kansas City, MO"
    entities = [entity("us_state", "Kansas", text), entity("us_state", "MO", text)]
    _, events = run_form(
        search_form, form_tracker(text, "find_practitioner", entities, form="practitioner_search_form")
    )
    assert events[:2] == [SlotSet("us_state", "MO"), SlotSet("search_city", "Kansas City")]


def test_search_asks_again_for_a_real_city(search_form):
    tracker = form_tracker(
        "near me",
        "find_practitioner",
        requested="search_city",
        slots={"us_state": "TX"},
        form="practitioner_search_form",
    )

    messages, events = run_form(search_form, tracker)

    assert messages == ['Sorry, I need the name of a city or town to search, for example "Austin".']
    assert events == [SlotSet("search_city", None), SlotSet("credential_attempts", 1)]


def test_search_city_answer(search_form):
    tracker = form_tracker(
        "Austin",
        "inform_name",
        requested="search_city",
        slots={"us_state": "TX"},
        form="practitioner_search_form",
    )
    assert run_form(search_form, tracker) == ([], [SlotSet("search_city", "Austin")])


def test_search_stop_names_the_search(search_form):
    tracker = form_tracker("cancel", "out_of_scope", requested="search_city", form="practitioner_search_form")
    messages, _ = run_form(search_form, tracker)
    assert messages == ["OK, I've stopped the search. Ask me anything else."]


def test_leftovers_of_an_unfinished_check_are_cleared_when_a_new_one_starts(licence_form):
    text = "is Jane Example licensed in Texas"
    tracker = form_tracker(
        text,
        "check_licence",
        [entity("us_state", "Texas", text)],
        slots={"licence_number": "AC1", "credential_profession": "physical_therapy"},
    )

    _, events = run_form(licence_form, tracker)

    assert events == [
        SlotSet("us_state", "TX"),
        SlotSet("practitioner_name", "Jane Example"),
        SlotSet("licence_number", None),
        SlotSet("credential_profession", None),
        SlotSet("requested_slot", None),
    ]


def test_a_search_request_during_a_licence_check_is_left_to_the_search_form(licence_form):
    tracker = form_tracker(
        "find a licensed acupuncturist near Austin please", "find_practitioner", requested="us_state"
    )
    assert run_form(licence_form, tracker) == ([], [])


def test_a_stale_city_is_cleared_when_a_search_starts(search_form):
    tracker = form_tracker(
        "find an acupuncturist near me",
        "find_practitioner",
        slots={"search_city": "Dallas"},
        form="practitioner_search_form",
    )
    _, events = run_form(search_form, tracker)
    assert events == [SlotSet("search_city", None)]
