"""Triage actions with in-code trackers and fakes: exact messages and events (issue 17)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

from actions.faq import ActionAnswerFaq
from actions.languages import LanguageReplies
from actions.triage import (
    GUIDANCE,
    PENDING_SLOT,
    ActionRedFlagTriage,
    ActionTriageAnswer,
    ActionTriageCheckIn,
)
from tests.conftest import (
    SAFETY,
    faq_message,
    make_tracker,
    response_message,
    run_action,
    text_message,
)


def user_says(intent: str, **extra: Any) -> dict[str, Any]:
    return {"text": "...", "intent": {"name": intent, "confidence": 1.0}, "entities": [], **extra}


def detected(tier: str, rule: str = "some_rule", **extra: Any) -> dict[str, Any]:
    return {"red_flag": {"rule": rule, "tier": tier, "source": "detector", **extra}}


def tracker_in_form(latest: dict[str, Any]) -> Tracker:
    return make_tracker(latest, {"requested_slot": "us_state"}, active_loop={"name": "state_form"})


# ---------------------------------------------------------------- guidance
@pytest.mark.parametrize(
    ("tier", "response"),
    [
        ("emergency", "utter_red_flag_guidance"),
        ("crisis", "utter_crisis_guidance"),
        ("poisoning", "utter_poisoning_guidance"),
        ("same_day", "utter_same_day_guidance"),
    ],
)
def test_each_tier_gets_its_own_guidance_and_nothing_else(tier, response):
    messages, events = run_action(
        ActionRedFlagTriage(), make_tracker(user_says("red_flag", **detected(tier)))
    )

    assert messages == [response_message(response)]
    assert events == []


def test_classifier_only_red_flag_gets_emergency_guidance_and_a_way_to_rephrase():
    messages, events = run_action(ActionRedFlagTriage(), make_tracker(user_says("red_flag")))

    assert messages == [
        response_message("utter_red_flag_guidance"),
        response_message("utter_red_flag_unsure"),
    ]
    assert events == []


REPLIES = LanguageReplies(
    english="English only.",
    replies={"es": "Solo inglés."},
    red_flag_guidance={"es": {"emergency": "Llame al 911 ahora.", "crisis": "Llame o escriba al 988."}},
)


@pytest.mark.parametrize(
    ("tier", "translated", "response"),
    [
        ("emergency", "Llame al 911 ahora.", "utter_red_flag_guidance"),
        ("crisis", "Llame o escriba al 988.", "utter_crisis_guidance"),
    ],
)
def test_a_red_flag_in_another_language_gets_its_guidance_in_that_language_first(tier, translated, response):
    tracker = make_tracker(user_says("red_flag", **detected(tier, language="es")))

    messages, events = run_action(ActionRedFlagTriage(replies=REPLIES), tracker)

    assert messages == [text_message(translated), response_message(response)]
    assert events == []


def test_a_language_or_tier_with_no_translation_gets_the_english_guidance_alone():
    for language, tier in (("de", "emergency"), ("es", "same_day")):
        tracker = make_tracker(user_says("red_flag", **detected(tier, language=language)))
        messages, _ = run_action(ActionRedFlagTriage(replies=REPLIES), tracker)
        assert messages == [response_message(GUIDANCE[tier])]


def test_an_unknown_tier_falls_back_to_emergency_guidance():
    tracker = make_tracker(user_says("red_flag", **detected("someday")))
    messages, _ = run_action(ActionRedFlagTriage(), tracker)
    assert messages == [response_message("utter_red_flag_guidance")]


def test_guidance_ends_a_form_in_progress():
    messages, events = run_action(
        ActionRedFlagTriage(), tracker_in_form(user_says("red_flag", **detected("crisis")))
    )

    assert messages == [response_message("utter_crisis_guidance")]
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None)]


def test_guidance_does_not_log_the_message(caplog):
    secret = "my left arm is numb since this morning"
    tracker = make_tracker({**user_says("red_flag", **detected("emergency")), "text": secret})
    with caplog.at_level(logging.DEBUG):
        run_action(ActionRedFlagTriage(), tracker)
    assert "triage guidance given (tier: emergency, source: detector)" in caplog.text
    assert secret not in caplog.text


# ---------------------------------------------------------------- check-in
def test_check_in_asks_and_remembers_the_held_back_tier():
    tracker = make_tracker(user_says("symptom_check_in", **detected("check_in", candidate_tier="same_day")))

    messages, events = run_action(ActionTriageCheckIn(), tracker)

    assert messages == [response_message("utter_triage_check_in")]
    assert events == [SlotSet(PENDING_SLOT, "same_day")]


def test_check_in_ends_a_form_and_defaults_to_emergency():
    tracker = tracker_in_form(user_says("symptom_check_in", **detected("check_in")))

    messages, events = run_action(ActionTriageCheckIn(), tracker)

    assert messages == [response_message("utter_triage_check_in")]
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(PENDING_SLOT, "emergency")]


@pytest.mark.parametrize("intent", ["triage_now", "affirm"])
@pytest.mark.parametrize("pending", sorted(GUIDANCE))
def test_yes_it_is_happening_gives_the_held_back_guidance(intent, pending):
    tracker = make_tracker(user_says(intent), slots={PENDING_SLOT: pending})

    messages, events = run_action(ActionTriageAnswer(), tracker)

    assert messages == [response_message(GUIDANCE[pending])]
    assert events == [SlotSet(PENDING_SLOT, None)]


def test_yes_without_a_pending_check_in_is_still_taken_seriously():
    messages, _ = run_action(ActionTriageAnswer(), make_tracker(user_says("triage_now")))
    assert messages == [response_message("utter_red_flag_guidance")]


def check_in_history(question: dict[str, Any]) -> list[dict[str, Any]]:
    """Events of a conversation whose last message was held back by a check-in."""
    return [
        {"event": "user", "text": question["text"], "parse_data": question},
        {"event": "action", "name": "action_triage_check_in"},
        {"event": "slot", "name": PENDING_SLOT, "value": "emergency"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/triage_not_now", "parse_data": user_says("triage_not_now")},
    ]


def test_no_i_am_asking_in_general_answers_the_original_question(settings, fake_repository_factory):
    question = faq_message(
        [("acupuncture_side_effects", 0.92)], text="can acupuncture cause a seizure? my son"
    )
    question["intent"] = {"name": "symptom_check_in", "confidence": 1.0}
    question.update(detected("check_in", candidate_tier="emergency"))
    tracker = make_tracker(
        user_says("triage_not_now"), slots={PENDING_SLOT: "emergency"}, events=check_in_history(question)
    )
    faq = ActionAnswerFaq(
        repository_factory=fake_repository_factory, settings=settings, safety_settings=SAFETY
    )

    messages, events = run_action(ActionTriageAnswer(faq=faq), tracker)

    assert messages[0] == response_message("utter_triage_not_now")
    assert messages[1]["text"] == "Short answer about acupuncture_side_effects."
    assert "Answer about acupuncture_side_effects." in (messages[2]["text"] or "")
    assert events[0] == SlotSet(PENDING_SLOT, None)
    assert SlotSet("last_topic", "acupuncture_side_effects") in events


def test_no_without_an_faq_ranking_asks_what_they_would_like_to_know():
    question = {**user_says("symptom_check_in"), **detected("check_in")}
    tracker = make_tracker(
        user_says("deny"), slots={PENDING_SLOT: "emergency"}, events=check_in_history(question)
    )

    messages, events = run_action(ActionTriageAnswer(), tracker)

    assert messages == [
        response_message("utter_triage_not_now"),
        response_message("utter_triage_ask_question"),
    ]
    assert events == [SlotSet(PENDING_SLOT, None)]
