"""ActionAnswerFaq with in-code trackers and a fake repository: exact messages and events."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import replace

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.exc import OperationalError

from actions.faq import (
    ActionAnswerFaq,
    ActionAnswerUnclear,
    RankedTopic,
    choice_buttons,
    follow_up_ranking,
    ranked_topics,
)
from actions.rendering import DISCLAIMER, faq_short_first
from actions.safety.notice import privacy_notice
from actions.store.faq_repository import InMemoryFaqRepository
from tests.conftest import (
    FAKE_ANSWERS,
    SAFETY,
    answer_messages,
    custom_message,
    faq_message,
    make_answer,
    make_tracker,
    response_message,
    run_action,
    text_message,
)

ANSWERS = {answer.key: answer for answer in FAKE_ANSWERS}


@pytest.fixture
def action(fake_repository_factory, settings) -> ActionAnswerFaq:
    return ActionAnswerFaq(
        repository_factory=fake_repository_factory, settings=settings, safety_settings=SAFETY
    )


def test_first_answer_carries_citation_date_and_one_disclaimer(action):
    tracker = make_tracker(faq_message([("dry_needling_what_is", 0.91), ("tui_na_what_is", 0.05)]))

    messages, events = run_action(action, tracker)

    assert messages == [
        custom_message(
            "Short answer about dry_needling_what_is.",
            {
                "answer": {
                    "key": "dry_needling_what_is",
                    "short": "Short answer about dry_needling_what_is.",
                    "detail": [
                        {"type": "paragraph", "text": "Answer about dry_needling_what_is."},
                        {"type": "list", "items": ["A detail about dry_needling_what_is."]},
                    ],
                    "sources": [
                        {
                            "title": "Source for dry_needling_what_is",
                            "url": "https://example.org/dry_needling_what_is",
                            "date": None,
                        }
                    ],
                    "note": "Last reviewed 1 November 2026.",
                }
            },
        ),
        custom_message(
            "Answer about dry_needling_what_is.\n- A detail about dry_needling_what_is.\n\n"
            "Source:\n- Source for dry_needling_what_is: https://example.org/dry_needling_what_is\n"
            "Last reviewed 1 November 2026.",
            {"answer_detail": {"key": "dry_needling_what_is"}},
        ),
        text_message(DISCLAIMER),
        # The conversation started with a question, not a greeting: the privacy notice comes now.
        text_message(privacy_notice(SAFETY)),
    ]
    assert events == [
        SlotSet("last_topic", "dry_needling_what_is"),
        SlotSet("treatment_context", "dry_needling"),
        SlotSet("disclaimer_shown", True),
        SlotSet("privacy_notice_shown", True),
    ]


def test_disclaimer_is_not_repeated(action):
    tracker = make_tracker(
        faq_message([("acupuncture_what_is", 0.95)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    messages, events = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["acupuncture_what_is"]))
    assert events == [
        SlotSet("last_topic", "acupuncture_what_is"),
        SlotSet("treatment_context", "acupuncture"),
    ]


def test_general_topic_keeps_the_treatment_context(action):
    tracker = make_tracker(
        faq_message([("insurance_coverage", 0.97)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "tui_na"},
    )

    _, events = run_action(action, tracker)

    assert events == [SlotSet("last_topic", "insurance_coverage")]


@pytest.mark.parametrize(
    ("ranking", "expected_choices"),
    [
        # Low confidence on the answer itself, although the intent was "faq".
        (
            [("acupuncture_what_is", 0.41), ("dry_needling_what_is", 0.30), ("tui_na_what_is", 0.2)],
            ["acupuncture_what_is", "dry_needling_what_is", "tui_na_what_is"],
        ),
        # Confident-looking but the top two are too close to call.
        (
            [("acupuncture_what_is", 0.52), ("dry_needling_what_is", 0.45)],
            ["acupuncture_what_is", "dry_needling_what_is"],
        ),
    ],
)
def test_uncertain_answer_offers_did_you_mean(action, ranking, expected_choices):
    tracker = make_tracker(
        faq_message(ranking), slots={"disclaimer_shown": True, "privacy_notice_shown": True}
    )

    messages, events = run_action(action, tracker)

    choices = [(key, ANSWERS[key].title) for key in expected_choices]
    assert messages == [
        text_message(
            "I want to be sure I answer the right question. Did you mean:",
            buttons=choice_buttons(choices),
        )
    ]
    assert events == []
    assert messages[0]["buttons"][-1] == {"title": "Something else", "payload": "/something_else"}
    assert messages[0]["buttons"][0] == {
        "title": ANSWERS[expected_choices[0]].title,
        "payload": f'/choose_topic{{"topic_key": "{expected_choices[0]}"}}',
    }


def test_very_low_answer_confidence_asks_to_rephrase_instead_of_guessing(action):
    # Gibberish is often "faq" with high intent confidence; the answer ranking is flat.
    tracker = make_tracker(faq_message([("insurance_coverage", 0.14), ("tui_na_what_is", 0.07)]))

    messages, events = run_action(action, tracker)

    assert messages == [response_message("utter_ask_rephrase")]
    assert events == []


def test_clicked_topic_is_answered_without_the_selector(action):
    message = faq_message([], intent="choose_topic")
    message["entities"] = [{"entity": "topic_key", "value": "tui_na_what_is"}]
    tracker = make_tracker(message, slots={"disclaimer_shown": True, "privacy_notice_shown": True})

    messages, events = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["tui_na_what_is"]))
    assert events == [
        SlotSet("last_topic", "tui_na_what_is"),
        SlotSet("treatment_context", "tui_na"),
    ]


def test_follow_up_without_a_treatment_uses_the_context(action):
    # "and is it safe?" after a dry-needling answer: NLU leans to acupuncture.
    tracker = make_tracker(
        faq_message([("acupuncture_side_effects", 0.8), ("dry_needling_what_is", 0.1)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "dry_needling"},
    )

    messages, _ = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_side_effects"]))


def test_named_treatment_wins_over_the_context(action):
    tracker = make_tracker(
        faq_message(
            [("dry_needling_side_effects", 0.8), ("acupuncture_what_is", 0.1)],
            entities=[{"entity": "treatment", "value": "acupunture"}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "dry_needling"},
    )

    messages, _ = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["acupuncture_side_effects"]))


def test_a_treatment_named_after_an_answer_asks_the_same_question_about_it(action):
    # "and dry needling?" after the acupuncture side-effects answer: intent inform_treatment,
    # no selector ranking; the last topic is switched to the treatment just named.
    tracker = make_tracker(
        {
            "text": "and dry needling?",
            "intent": {"name": "inform_treatment", "confidence": 0.9},
            "entities": [{"entity": "treatment", "value": "dry needling"}],
        },
        slots={
            "disclaimer_shown": True,
            "privacy_notice_shown": True,
            "last_topic": "acupuncture_side_effects",
        },
    )

    messages, events = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_side_effects"]))
    assert SlotSet("last_topic", "dry_needling_side_effects") in events


def test_a_headache_type_named_after_an_evidence_answer_switches_the_evidence():
    assert follow_up_ranking("acupuncture_evidence_migraine", set(), ["tension headaches"]) == [
        RankedTopic("acupuncture_evidence_tension", 1.0)
    ]
    assert follow_up_ranking("acupuncture_side_effects", {"tui_na"}, []) == [
        RankedTopic("acupuncture_side_effects", 1.0)
    ]
    assert follow_up_ranking(None, {"tui_na"}, []) == []
    assert follow_up_ranking("cost", set(), []) == []


def test_merged_confidence_after_retargeting_passes_the_gate(action):
    # Split between the acupuncture and dry-needling versions of the same aspect:
    # in a dry-needling context both mean the same answer.
    tracker = make_tracker(
        faq_message([("acupuncture_side_effects", 0.45), ("dry_needling_side_effects", 0.40)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "dry_needling"},
    )

    messages, _ = run_action(action, tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_side_effects"]))


def test_unknown_topic_asks_to_rephrase(action):
    message = faq_message([], intent="choose_topic")
    message["entities"] = [{"entity": "topic_key", "value": "no_such_topic"}]

    messages, events = run_action(action, make_tracker(message))

    assert messages == [response_message("utter_ask_rephrase")]
    assert events == []


def test_database_outage_gives_a_clear_apology(settings):
    @contextmanager
    def broken_repository():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        yield  # pragma: no cover

    action = ActionAnswerFaq(repository_factory=broken_repository, settings=settings)

    messages, events = run_action(action, make_tracker(faq_message([("acupuncture_what_is", 0.9)])))

    assert messages == [response_message("utter_service_problem")]
    assert events == []


def test_staff_inspector_shows_topic_confidence_runner_up_and_source(fake_repository_factory, settings):
    action = ActionAnswerFaq(
        repository_factory=fake_repository_factory, settings=replace(settings, staff_inspector=True)
    )
    tracker = make_tracker(
        faq_message([("tui_na_what_is", 0.88), ("acupuncture_what_is", 0.07)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    messages, _ = run_action(action, tracker)

    assert messages[-1] == text_message(
        "[staff] topic=tui_na_what_is | confidence=0.88 | runner-up=acupuncture_what_is (0.07)"
        " | source=https://example.org/tui_na_what_is | reviewed=1 November 2026"
    )


def test_ranked_topics_reads_the_rasa_36_payload():
    message = faq_message([("a_topic", 0.2), ("b_topic", 0.7)])

    assert [(t.key, t.confidence) for t in ranked_topics(message)] == [("b_topic", 0.7), ("a_topic", 0.2)]
    assert ranked_topics({"text": "hi"}) == []


def what_about_dry_needling(**slots: object) -> Tracker:
    """ "what about dry needling", made a follow-up by the router after DIET said faq, so it
    still carries the topic classifier's ranking of its words alone."""
    return make_tracker(
        {
            "text": "what about dry needling",
            "intent": {"name": "inform_treatment", "confidence": 1.0},
            "entities": [{"entity": "treatment", "value": "dry needling"}],
            "response_selector": {
                "faq": {"ranking": [{"intent_response_key": "faq/dry_needling_what_is", "confidence": 0.98}]}
            },
        },
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, **slots},
    )


def test_a_follow_up_asks_the_last_question_even_when_the_topic_classifier_ranked_it(action):
    # After the acupuncture side-effects answer, the last question wins.
    messages, events = run_action(action, what_about_dry_needling(last_topic="acupuncture_side_effects"))

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_side_effects"]))
    assert SlotSet("last_topic", "dry_needling_side_effects") in events


def test_a_treatment_named_first_is_answered_from_the_topic_ranking(action):
    # No earlier answer: "what about dry needling" is a question about dry needling itself.
    messages, events = run_action(action, what_about_dry_needling())

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_what_is"]))
    assert SlotSet("last_topic", "dry_needling_what_is") in events


def test_a_general_answer_to_a_question_naming_a_treatment_keeps_that_treatment(action):
    # "is dry needling covered by insurance?": the answer is general; "is it safe?" next is
    # about dry needling.
    tracker = make_tracker(
        faq_message(
            [("insurance_coverage", 0.97)], entities=[{"entity": "treatment", "value": "dry needling"}]
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "tui_na"},
    )

    _, events = run_action(action, tracker)

    assert events == [
        SlotSet("last_topic", "insurance_coverage"),
        SlotSet("treatment_context", "dry_needling"),
    ]


def test_no_answer_for_the_treatment_in_context_says_so_and_gives_the_nearest(action):
    # "any side effects?" after a Tui Na answer, with no Tui Na side-effects answer.
    tracker = make_tracker(
        faq_message([("acupuncture_side_effects", 0.9), ("acupuncture_what_is", 0.05)]),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "tui_na"},
    )

    messages, events = run_action(action, tracker)

    assert messages == [
        {**response_message("utter_nearest_answer"), "asked": "Tui Na", "answered": "acupuncture"},
        *answer_messages(faq_short_first(ANSWERS["acupuncture_side_effects"])),
    ]
    # The next follow-up is still about Tui Na.
    assert events == [
        SlotSet("last_topic", "acupuncture_side_effects"),
        SlotSet("treatment_context", "tui_na"),
    ]


def test_a_state_named_in_an_faq_question_is_remembered_for_the_next_state_question(action):
    # "does insurance cover it in florida" -> "is it legal there": Florida.
    tracker = make_tracker(
        faq_message(
            [("insurance_coverage", 0.95)],
            text="does insurance cover it in florida",
            entities=[{"entity": "us_state", "value": "florida", "start": 27, "end": 34}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    _, events = run_action(action, tracker)

    assert events == [SlotSet("last_topic", "insurance_coverage"), SlotSet("us_state", "FL")]


def test_two_states_named_in_an_faq_question_are_not_remembered(action):
    tracker = make_tracker(
        faq_message(
            [("insurance_coverage", 0.95)],
            text="is it covered in ohio or texas",
            entities=[
                {"entity": "us_state", "value": "ohio", "start": 17, "end": 21},
                {"entity": "us_state", "value": "texas", "start": 25, "end": 30},
            ],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    _, events = run_action(action, tracker)

    assert events == [SlotSet("last_topic", "insurance_coverage")]


@pytest.mark.parametrize(
    ("context", "pair_key", "treatment", "aspect"),
    [
        ("dry_needling", "dry_needling_vs_acupuncture", "dry_needling", "comparison"),
        ("tui_na", "tui_na_with_acupuncture", "tui_na", "combination"),
        (None, "tui_na_with_acupuncture", "tui_na", "combination"),
    ],
)
def test_naming_the_second_treatment_of_a_pair_answer_keeps_the_pair(
    settings, context, pair_key, treatment, aspect
):
    # "how is it different from acupuncture?" after dry needling; "could i have it together
    # with acupuncture?" after Tui Na, or with nothing in context: the answer about both
    # (its title names acupuncture), with no "nearest answer" note.
    answer = make_answer(pair_key, treatment, aspect)
    tracker = make_tracker(
        faq_message(
            [(pair_key, 0.6), ("acupuncture_what_is", 0.3), ("tui_na_what_is", 0.1)],
            entities=[{"entity": "treatment", "value": "acupuncture"}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": context},
    )

    messages, events = run_action(pair_action(settings, (*FAKE_ANSWERS, answer)), tracker)

    assert messages == answer_messages(faq_short_first(answer))
    assert events == [SlotSet("last_topic", pair_key), SlotSet("treatment_context", treatment)]


def test_naming_a_second_treatment_in_context_takes_the_answer_about_both_when_ranked(settings):
    # After Tui Na, "can i do it alongside acupuncture?": ranked second behind an answer about
    # medicines, the answer about Tui Na with acupuncture is the one meant.
    answer = make_answer("tui_na_with_acupuncture", "tui_na", "combination")
    tracker = make_tracker(
        faq_message(
            [
                ("acupuncture_side_effects", 0.26),
                ("tui_na_with_acupuncture", 0.2),
                ("acupuncture_what_is", 0.13),
            ],
            entities=[{"entity": "treatment", "value": "acupuncture"}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "tui_na"},
    )

    messages, events = run_action(pair_action(settings, (*FAKE_ANSWERS, answer)), tracker)

    assert messages == answer_messages(faq_short_first(answer))
    assert events == [
        SlotSet("last_topic", "tui_na_with_acupuncture"),
        SlotSet("treatment_context", "tui_na"),
    ]


def test_a_clear_answer_naming_a_second_treatment_in_context_is_not_moved_to_the_pair(settings):
    # After acupuncture, "what is dry needling": its own answer, although the comparison ranks second.
    pair = make_answer("dry_needling_vs_acupuncture", "dry_needling", "comparison")
    tracker = make_tracker(
        faq_message(
            [("dry_needling_what_is", 0.8), ("dry_needling_vs_acupuncture", 0.15)],
            entities=[{"entity": "treatment", "value": "dry needling"}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True, "treatment_context": "acupuncture"},
    )

    messages, events = run_action(pair_action(settings, (*FAKE_ANSWERS, pair)), tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_what_is"]))
    assert events[0] == SlotSet("last_topic", "dry_needling_what_is")


def test_a_pair_answer_that_leaves_out_the_treatment_named_is_a_nearest_answer(settings):
    # "does dry needling go well with acupuncture?": only Tui Na's combination is reviewed.
    answer = make_answer("tui_na_with_acupuncture", "tui_na", "combination")
    tracker = make_tracker(
        faq_message(
            [("tui_na_with_acupuncture", 0.9), ("acupuncture_what_is", 0.05)],
            entities=[{"entity": "treatment", "value": "dry needling"}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    messages, events = run_action(pair_action(settings, (*FAKE_ANSWERS, answer)), tracker)

    assert messages == [
        {**response_message("utter_nearest_answer"), "asked": "dry needling", "answered": "Tui Na"},
        *answer_messages(faq_short_first(answer)),
    ]
    assert events == [
        SlotSet("last_topic", "tui_na_with_acupuncture"),
        SlotSet("treatment_context", "dry_needling"),
    ]


def pair_action(settings, answers) -> ActionAnswerFaq:
    return ActionAnswerFaq(
        repository_factory=lambda: nullcontext(InMemoryFaqRepository(answers)),
        settings=settings,
        safety_settings=SAFETY,
    )


TITLES = make_answer("cac_and_other_titles", "general", "credential_titles")
DRY_NEEDLING_WHO = make_answer("dry_needling_who_may_practise", "dry_needling", "legal")


@pytest.mark.parametrize(
    ("answer", "text", "state", "button"),
    [
        # "what is a DOM in new mexico": the titles answer, then New Mexico's own row one tap away.
        (
            TITLES,
            "what is a DOM in new mexico",
            ("new mexico", "NM"),
            {
                "title": "Acupuncture licensing in New Mexico",
                "payload": '/ask_acupuncture_licensure{"us_state": "NM"}',
            },
        ),
        (
            DRY_NEEDLING_WHO,
            "who else can dry needle in dc",
            ("dc", "DC"),
            {
                "title": "Dry needling in the District of Columbia",
                "payload": '/ask_dry_needling_legality{"us_state": "DC"}',
            },
        ),
    ],
)
def test_a_general_legal_answer_asked_about_one_state_offers_that_states_answer(
    settings, answer, text, state, button
):
    name, code = state
    start = text.index(name)
    tracker = make_tracker(
        faq_message(
            [(answer.key, 0.95)],
            text=text,
            entities=[{"entity": "us_state", "value": name, "start": start, "end": start + len(name)}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    messages, events = run_action(pair_action(settings, (answer,)), tracker)

    where = "the District of Columbia" if code == "DC" else "New Mexico"
    assert messages == [
        *answer_messages(faq_short_first(answer)),
        text_message(f"The rules differ by state. For {where}:", buttons=[button]),
    ]
    context = [SlotSet("treatment_context", answer.treatment)] if answer.treatment != "general" else []
    assert events == [SlotSet("last_topic", answer.key), *context, SlotSet("us_state", code)]


def test_other_answers_asked_about_a_state_offer_nothing_more(settings):
    tracker = make_tracker(
        faq_message(
            [("insurance_coverage", 0.95)],
            text="is it covered in ohio",
            entities=[{"entity": "us_state", "value": "ohio", "start": 17, "end": 21}],
        ),
        slots={"disclaimer_shown": True, "privacy_notice_shown": True},
    )

    messages, _ = run_action(pair_action(settings, FAKE_ANSWERS), tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["insurance_coverage"]))


def unclear_message(text: str, ranking: list[tuple[str, float]], best_intent: str = "faq") -> dict:
    """What nlu_fallback's parse data looks like: the fallback first, then the classifier's ranking."""
    message = faq_message(ranking, text=text, intent="nlu_fallback")
    message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": best_intent, "confidence": 0.55},
        {"name": "ask_not_covered_yet", "confidence": 0.4},
    ]
    return message


def test_an_unclear_short_follow_up_after_an_faq_answer_is_answered_in_context(action):
    # "does dry needling hurt?" -> "would it clash with my meds": the classifier was unsure,
    # but still thought it an FAQ question; the FAQ action answers it (its own gates apply).
    tracker = make_tracker(
        unclear_message("would it clash with my meds", [("acupuncture_side_effects", 0.9)]),
        slots={
            "last_topic": "dry_needling_what_is",
            "treatment_context": "dry_needling",
            "disclaimer_shown": True,
            "privacy_notice_shown": True,
        },
    )

    messages, events = run_action(ActionAnswerUnclear(action), tracker)

    assert messages == answer_messages(faq_short_first(ANSWERS["dry_needling_side_effects"]))
    assert events == [
        SlotSet("last_topic", "dry_needling_side_effects"),
        SlotSet("treatment_context", "dry_needling"),
    ]


@pytest.mark.parametrize(
    ("text", "best_intent", "slots"),
    [
        # No FAQ answer before it: nothing to follow up.
        ("would it clash with my meds", "faq", {}),
        # The classifier's best guess was not an FAQ question.
        ("would it clash with my meds", "ask_not_covered_yet", {"last_topic": "acupuncture_what_is"}),
        # Too long to be a follow-up.
        (
            "so my sister in law said that her cousin had it done and then something odd happened later on",
            "faq",
            {"last_topic": "acupuncture_what_is"},
        ),
    ],
)
def test_other_unclear_messages_are_asked_again(action, text, best_intent, slots):
    tracker = make_tracker(
        unclear_message(text, [("acupuncture_side_effects", 0.9)], best_intent), slots=slots
    )

    messages, events = run_action(ActionAnswerUnclear(action), tracker)

    assert messages == [response_message("utter_ask_rephrase")]
    assert events == []


class FakeLegalAnswer(Action):
    """Stands in for action_answer_legal: says which state it answered."""

    def name(self) -> str:
        return "action_answer_legal"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"legal answer for {tracker.get_slot('us_state')}")
        return [SlotSet("legal_question", tracker.get_slot("legal_question"))]


@pytest.mark.parametrize(
    ("text", "last_action", "answered"),
    [
        ("since when?", "action_answer_legal", True),
        ("when did that change", "action_answer_legal", True),
        ("since when?", "action_answer_faq", False),
        ("what do you mean", "action_answer_legal", False),
    ],
)
def test_since_when_after_a_legal_answer_gets_that_answer_again(action, text, last_action, answered):
    tracker = make_tracker(
        unclear_message(text, [], best_intent="ask_not_covered_yet"),
        slots={"us_state": "WY", "legal_question": "acupuncture"},
        events=[
            {"event": "action", "name": last_action},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text},
        ],
    )

    messages, events = run_action(ActionAnswerUnclear(action, FakeLegalAnswer()), tracker)

    if answered:
        assert messages == [text_message("legal answer for WY")]
        assert events == [SlotSet("us_state", "WY"), SlotSet("legal_question", "acupuncture")]
    else:
        assert messages == [response_message("utter_ask_rephrase")]
        assert events == []


def test_since_when_after_a_legal_answer_is_answered_again_even_when_the_classifier_is_sure_of_an_faq(
    fake_repository_factory, settings
):
    # "how long has that been the law" after Wyoming's answer: the classifier may be sure of
    # an FAQ answer ("how long ..."); the visitor asks about the legal answer just given.
    faq = ActionAnswerFaq(
        repository_factory=fake_repository_factory,
        settings=settings,
        safety_settings=SAFETY,
        legal=FakeLegalAnswer(),
    )
    text = "how long has that been the law"
    tracker = make_tracker(
        {**faq_message([("acupuncture_first_visit", 0.99)]), "text": text},
        slots={"us_state": "WY", "legal_question": "acupuncture"},
        events=[
            {"event": "action", "name": "action_answer_legal"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text},
        ],
    )

    messages, events = run_action(faq, tracker)

    assert messages == [text_message("legal answer for WY")]
    assert events == [SlotSet("us_state", "WY"), SlotSet("legal_question", "acupuncture")]


@pytest.mark.parametrize(
    ("text", "entities", "slots", "answered"),
    [
        # Who may do it in a state, in a conversation about dry needling: that state's answer.
        (
            "my PT is in honolulu, can she even do it",
            [
                {"entity": "practitioner", "value": "PT", "start": 3, "end": 5},
                {"entity": "us_state", "value": "honolulu", "start": 12, "end": 20},
            ],
            {"treatment_context": "dry_needling", "last_topic": "dry_needling_sessions"},
            "HI",
        ),
        (
            "is that even allowed where i live in jersey",
            [{"entity": "us_state", "value": "jersey", "start": 37, "end": 43}],
            {"treatment_context": "acupuncture", "last_topic": "acupuncture_what_is"},
            "NJ",
        ),
        # A state named, but not a question of rules: asked again.
        (
            "i moved to ohio and my migraines got worse, would it help",
            [{"entity": "us_state", "value": "ohio", "start": 11, "end": 15}],
            {"treatment_context": "acupuncture", "last_topic": "acupuncture_what_is"},
            None,
        ),
        # A conversation about a treatment with no state-by-state answer: asked again.
        (
            "can they even do it in ohio",
            [{"entity": "us_state", "value": "ohio", "start": 23, "end": 27}],
            {"treatment_context": "cupping", "last_topic": "cupping_what_is"},
            None,
        ),
    ],
)
def test_an_unclear_question_of_who_may_do_it_in_a_state_gets_that_states_answer(
    action, text, entities, slots, answered
):
    message = unclear_message(text, [], best_intent="ask_not_covered_yet")
    message["entities"] = entities
    tracker = make_tracker(message, slots=slots)

    messages, events = run_action(ActionAnswerUnclear(action, FakeLegalAnswer()), tracker)

    if answered:
        assert messages == [text_message(f"legal answer for {answered}")]
        assert events == [SlotSet("us_state", answered), SlotSet("legal_question", None)]
    else:
        assert messages == [response_message("utter_ask_rephrase")]
        assert events == []
