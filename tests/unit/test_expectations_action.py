"""Expectations feature: answer action, form validation and ask actions with in-code trackers.

The evidence rows are the real ones from data/evidence (validated by the loader's reader)
served by the in-memory fake, so every treatment x condition pair is exercised.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from ruamel.yaml import YAML
from sqlalchemy.exc import OperationalError

from actions.expectations import (
    ActionAnswerExpectations,
    ActionAskExpectCondition,
    ActionAskExpectTreatment,
    ValidateExpectationsForm,
)
from actions.expectations_text import render_answer, render_personal, render_sources
from actions.rendering import DISCLAIMER, ShortFirstAnswer, format_date
from actions.safety.notice import privacy_notice
from actions.store.evidence_data import read_evidence_table
from actions.store.evidence_repository import (
    CONDITION_LABELS,
    TREATMENT_LABELS,
    EvidenceRow,
    InMemoryEvidenceRepository,
)
from lexicon import load_conditions, load_treatments, normalize_term
from tests.conftest import (
    ROOT,
    SAFETY,
    answer_messages,
    make_tracker,
    response_message,
    run_action,
    text_message,
)

TABLE = read_evidence_table(ROOT / "data" / "evidence")
ROWS = {(row.treatment, row.condition): row for row in TABLE.rows}
PAIRS = sorted(ROWS)
DOMAIN = YAML(typ="safe", pure=True).load((ROOT / "domain" / "expectations.yml").read_text(encoding="utf-8"))


def message(text: str, intent: str, entities: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": [{"entity": entity, "value": value} for entity, value in entities or []],
    }


def answer_tracker(treatment: str, condition: str, **slots: Any) -> Tracker:
    latest = slots.pop("latest", message("/inform_condition", "inform_condition"))
    return make_tracker(latest, slots={"expect_treatment": treatment, "expect_condition": condition, **slots})


@pytest.fixture
def action() -> ActionAnswerExpectations:
    repository = InMemoryEvidenceRepository(TABLE.rows)
    return ActionAnswerExpectations(
        repository_factory=lambda: nullcontext(repository), safety_settings=SAFETY
    )


def full_text(answer: ShortFirstAnswer) -> str:
    return f"{answer.short}\n{answer.fallback_text()}"


def run_validation(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the form validation action with the real form definition."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateExpectationsForm().run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def digit_runs(text: str) -> set[int]:
    """Every run of digits as a number ("04" in 2021-05-04 and "4" in "4 May 2021" are both 4)."""
    return {int(run) for run in re.findall(r"\d+", text)}


def row_data_text(row: EvidenceRow) -> str:
    """Everything stored in the row: texts, figures, sources (titles and dates), review date."""
    pieces = [part.text for part in row.parts]
    pieces += [f"{figure.value:g}" for figure in row.figures]
    pieces += [f"{source.title} {source.url} {source.published}" for source in row.sources]
    pieces.append(row.reviewed_on.isoformat())
    return " ".join(pieces)


# ----------------------------------------------------------------------------- every pair answers


def test_the_table_has_every_treatment_and_condition_pair():
    assert set(PAIRS) == {(t, c) for t in TREATMENT_LABELS for c in CONDITION_LABELS}
    assert len(PAIRS) == 25


@pytest.mark.parametrize(("treatment", "condition"), PAIRS)
def test_every_pair_answers_in_short_parts_with_sources_and_review_date(action, treatment, condition):
    row = ROWS[(treatment, condition)]

    messages, events = run_action(action, answer_tracker(treatment, condition))

    texts = [m["text"] for m in messages]
    assert messages[:2] == answer_messages(render_answer(row))
    # A conversation may start with this question: the disclaimer and privacy notice follow.
    assert texts[2:] == [DISCLAIMER, privacy_notice(SAFETY)]
    # The short answer first (issue 20), then everything else in one message.
    short, detail = texts[:2]
    assert short == row.part("short").text and len(short.split()) <= 40
    course = results = limits = sources = detail
    assert course.startswith(
        f"What to expect from {TREATMENT_LABELS[treatment]} for {CONDITION_LABELS[condition]}: "
        "a guide from the research, not a promise."
    )
    assert f"Typical course: {row.part('course').text}" in course
    assert f"When people notice a change: {row.part('onset').text}" in course
    assert f"Realistic results: {row.part('results').text}" in results
    assert f"How sure the evidence is: {row.part('certainty').text}" in results
    assert f"What it won't do: {row.part('limits').text}" in limits
    assert "When to see a doctor instead: Get emergency help first (call 911 in the US)" in limits
    assert "\n\nSource" in sources
    for source in row.sources:
        assert f"{source.title} (published " in sources and source.url in sources
    assert sources.endswith(f"Last reviewed {format_date(row.reviewed_on)}.")
    assert events == [
        SlotSet("expect_answered", f"{treatment}:{condition}"),
        SlotSet("treatment_context", treatment),
        SlotSet("disclaimer_shown", True),
        SlotSet("privacy_notice_shown", True),
    ]


@pytest.mark.parametrize(("treatment", "condition"), PAIRS)
def test_every_number_in_an_answer_is_in_its_source_row(treatment, condition):
    row = ROWS[(treatment, condition)]
    answer = full_text(render_answer(row))

    assert digit_runs(answer) <= digit_runs(row_data_text(row))


@pytest.mark.parametrize(("treatment", "condition"), PAIRS)
def test_every_part_with_a_number_names_its_source(treatment, condition):
    for part in ROWS[(treatment, condition)].parts:
        if re.search(r"\d", part.text):
            assert part.sources, f"{treatment} x {condition} {part.name}"


@pytest.mark.parametrize(("treatment", "condition"), PAIRS)
def test_no_answer_promises_a_cure_or_advises_on_medicines(treatment, condition):
    answer = full_text(render_answer(ROWS[(treatment, condition)], 8)).lower()

    for match in re.finditer(r"\bcur(e|es|ed|ing)\b", answer):
        assert answer[: match.start()].endswith(("not a ", "no ")), answer[match.start() - 40 : match.end()]
    assert "guarantee" not in answer
    assert "not a cure" in answer or "no proven benefit" in answer
    # The only sentence about medicines sends people to their doctor.
    medicine_advice = re.findall(
        r"[^.]*\b(?:stop|reduce|change|come off|taper)\w*\b[^.]*\bmedic[^.]*\.", answer
    )
    assert medicine_advice == [
        " these treatments sit alongside your usual care: please talk to your doctor before starting,"
        " stopping or changing any medicine."
    ]


@pytest.mark.parametrize(("treatment", "condition"), [p for p in PAIRS if ROWS[p].evidence != "direct"])
def test_rows_without_direct_evidence_say_so_plainly(treatment, condition):
    results = ROWS[(treatment, condition)].part("results").text

    assert re.search(
        r"I have no reviewed (trial results|evidence)|almost no trial evidence|little direct evidence|"
        r"for migraine in general",
        results,
    ), results


@pytest.mark.parametrize(
    ("pair", "plain_words"),
    [
        (
            ("dry_needling", "episodic_migraine"),
            "The sources I rely on have little direct evidence for dry needling in migraine.",
        ),
        (("tui_na", "episodic_migraine"), "There is little direct evidence for Tui Na in migraine."),
        (("tui_na", "tension_type_headache"), "None of the trials compared Tui Na with a sham treatment."),
        (("dry_needling", "tension_type_headache"), "No response rates are available"),
    ],
)
def test_thin_evidence_is_called_thin(pair, plain_words):
    assert plain_words in ROWS[pair].part("results").text


def test_unverified_figures_are_not_stated():
    # [U] in the research notes: Cochrane responder rates 17% / 48% vs 19% / 51% vs 43%, RR 2.40 ...
    everything = " ".join(row_data_text(row) for row in TABLE.rows)
    for unverified in ("17%", "48%", "19%", "51%", "43%", "2.40", "57%", "46%", "−0.18", "-0.18"):
        assert unverified not in everything


# ----------------------------------------------------------------------------- the personal range


def test_eight_days_gets_an_honest_range_labelled_as_a_rough_guide(action):
    row = ROWS[("acupuncture", "episodic_migraine")]

    messages, _ = run_action(action, answer_tracker("acupuncture", "episodic_migraine", headache_days=8.0))

    assert (
        f"Realistic results: {row.part('results').text}\n\n"
        "A rough guide from trial averages, not a prediction for you: in the published worked example, "
        "someone starting at 6 migraine days a month drops on average to about 3.5 with acupuncture and "
        "about 5 with usual care. Scaled to your 8 days a month, that is about 5 days with acupuncture, "
        "against about 7 days with usual care alone. About 4 in 10 people at least halve their migraine "
        "days, which for you would mean 4 days or fewer; others improve less, and some see no change."
        f"\n\nHow sure the evidence is: {row.part('certainty').text}"
        f"\n\nAfter the course: {row.part('maintenance').text}"
    ) in messages[1]["text"]


def test_without_a_frequency_the_answer_offers_the_personal_range(action):
    messages, _ = run_action(action, answer_tracker("acupuncture", "episodic_migraine"))

    assert (
        "If you tell me how many migraine days you usually have in a month, I can turn these averages "
        "into a rough guide for you." in messages[1]["text"]
    )


@pytest.mark.parametrize(
    ("pair", "days", "expected"),
    [
        (
            ("acupuncture", "episodic_migraine"),
            0,
            "You mentioned 0 days a month, so there is nothing for these averages to reduce.",
        ),
        (
            ("acupuncture", "episodic_migraine"),
            1,
            "With 1 day a month, the trial averages are too coarse to turn into a personal figure: they "
            "come out the same with or without treatment.",
        ),
        (
            ("acupuncture", "episodic_migraine"),
            30,
            "You mentioned 30 days a month. The trials behind these figures included people with 15 or "
            "fewer headache days a month, so I can't scale them to 30 days. If your doctor has told you "
            "that you have chronic migraine, ask me about that instead.",
        ),
        (
            ("acupuncture", "chronic_migraine"),
            20,
            "You mentioned 20 days a month, but the evidence for acupuncture and chronic migraine doesn't "
            "include the figures needed to turn it into a personal estimate, so I can't give you one.",
        ),
        (
            ("tui_na", "tension_type_headache"),
            8,
            "You mentioned 8 days a month, but the evidence for Tui Na and tension-type headache doesn't "
            "include the figures needed to turn it into a personal estimate, so I can't give you one.",
        ),
        (
            ("acupuncture", "episodic_migraine"),
            "lots",
            "I couldn't use the number of days you gave, so I can't give you a personal estimate.",
        ),
    ],
)
def test_no_personal_estimate_says_why(pair, days, expected):
    assert render_personal(ROWS[pair], days) == expected


def test_only_acupuncture_for_episodic_migraine_has_the_figures_for_a_range():
    with_figures = {pair for pair, row in ROWS.items() if row.figures}
    assert with_figures == {("acupuncture", "episodic_migraine")}


def test_a_frequency_after_the_answer_gets_only_the_personal_part(action):
    row = ROWS[("acupuncture", "episodic_migraine")]
    tracker = answer_tracker(
        "acupuncture",
        "episodic_migraine",
        headache_days=8.0,
        expect_answered="acupuncture:episodic_migraine",
        disclaimer_shown=True,
        privacy_notice_shown=True,
        latest=message("I get 8 migraine days a month", "inform_frequency", [("condition", "migraine")]),
    )

    messages, events = run_action(action, tracker)

    assert messages == [
        text_message(render_personal(row, 8)),
        text_message(render_sources(row, (row.figures[0].source,))),
    ]
    assert "Am Fam Physician 2017" in messages[1]["text"] and "(published 1 July 2017)" in messages[1]["text"]
    assert events == [
        SlotSet("expect_answered", "acupuncture:episodic_migraine"),
        SlotSet("treatment_context", "acupuncture"),
    ]


def test_an_unreadable_frequency_after_the_answer_adds_nothing(action):
    # validate_expectations_form has already explained; the answer is not repeated.
    tracker = answer_tracker(
        "acupuncture",
        "episodic_migraine",
        expect_answered="acupuncture:episodic_migraine",
        latest=message("loads of them", "inform_frequency"),
    )

    assert run_action(action, tracker) == ([], [])


def test_a_frequency_for_a_new_pair_gets_the_full_answer(action):
    tracker = answer_tracker(
        "dry_needling",
        "tension_type_headache",
        headache_days=8.0,
        expect_answered="acupuncture:episodic_migraine",
        disclaimer_shown=True,
        privacy_notice_shown=True,
        latest=message("8 headache days a month", "inform_frequency"),
    )

    messages, _ = run_action(action, tracker)

    assert messages == answer_messages(render_answer(ROWS[("dry_needling", "tension_type_headache")], 8.0))


# ----------------------------------------------------------------------------- failures


def test_database_outage_gets_an_apology_not_silence():
    @contextmanager
    def broken():
        raise OperationalError("SELECT 1", {}, Exception("database is down"))
        yield

    messages, events = run_action(
        ActionAnswerExpectations(repository_factory=broken),
        answer_tracker("acupuncture", "episodic_migraine"),
    )

    assert messages == [response_message("utter_service_problem")]
    assert events == []


def test_missing_slots_ask_to_rephrase(action):
    messages, events = run_action(action, make_tracker(message("what", "ask_expectations")))

    assert messages == [response_message("utter_ask_rephrase")]
    assert events == []


# ----------------------------------------------------------------------------- form validation


def slot(name: str, value: Any) -> dict[str, Any]:
    return SlotSet(name, value)


def test_treatment_and_condition_come_from_the_question():
    tracker = make_tracker(
        message(
            "what can I expect from acupuncture for my chronic migraines",
            "ask_expectations",
            [("treatment", "acupuncture"), ("condition", "chronic migraines")],
        )
    )

    assert run_validation(tracker) == (
        [],
        [slot("expect_treatment", "acupuncture"), slot("expect_condition", "chronic_migraine")],
    )


def test_plain_migraine_is_taken_as_episodic_first_and_keeps_frequency_and_state():
    tracker = make_tracker(
        message(
            "what can dry needling do for my migranes, I get 2 a week, I'm in Texas",
            "ask_expectations",
            [("treatment", "dry needling"), ("condition", "migranes"), ("us_state", "Texas")],
        )
    )

    messages, events = run_validation(tracker)

    assert messages == [text_message('I\'ll count "2 a week" as about 9 days a month.')]
    assert events == [
        slot("expect_treatment", "dry_needling"),
        slot("expect_condition", "episodic_migraine"),
        slot("expect_condition_assumed", True),
        slot("headache_days", 9.0),
        slot("us_state", "TX"),
    ]


def test_a_specific_migraine_replaces_the_assumption():
    tracker = make_tracker(
        message("/inform_condition", "inform_condition", [("condition", "chronic migraine")]),
        slots={
            "expect_treatment": "acupuncture",
            "expect_condition": "episodic_migraine",
            "expect_condition_assumed": True,
        },
    )

    assert run_validation(tracker) == (
        [],
        [slot("expect_condition", "chronic_migraine"), slot("expect_condition_assumed", False)],
    )


def test_plain_migraine_keeps_an_episodic_or_chronic_answer_already_given():
    tracker = make_tracker(
        message("I get 8 migraine days a month", "inform_frequency", [("condition", "migraine")]),
        slots={"expect_treatment": "acupuncture", "expect_condition": "episodic_migraine"},
    )

    assert run_validation(tracker) == ([], [slot("headache_days", 8.0)])


def test_two_treatments_are_taken_one_at_a_time():
    tracker = make_tracker(
        message(
            "acupuncture or cupping for tension headaches",
            "ask_expectations",
            [("treatment", "acupuncture"), ("treatment", "cupping"), ("condition", "tension headaches")],
        )
    )

    messages, events = run_validation(tracker)

    assert messages == [
        text_message("You mentioned acupuncture and cupping. Let's take one treatment at a time.")
    ]
    assert events == [slot("expect_treatment", None), slot("expect_condition", "tension_type_headache")]


def test_a_treatment_without_evidence_rows_is_explained():
    tracker = make_tracker(
        message("moxa", "inform_treatment", [("treatment", "moxa")]),
        slots={"requested_slot": "expect_treatment"},
    )

    messages, events = run_validation(tracker)

    assert messages == [
        text_message(
            "I don't have evidence figures for moxibustion. I can tell you what to expect from acupuncture, "
            "electroacupuncture, dry needling, Tui Na or cupping."
        )
    ]
    assert events == [slot("expect_treatment", None)]


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        # An FAQ question during the form: rejected, so the FAQ rule answers it.
        ("is dry needling safe", "faq", [("treatment", "dry needling")]),
        # A red flag mentioning a treatment or condition is never swallowed by the form.
        ("worst migraine of my life and my arm is numb", "red_flag", [("condition", "migraine")]),
        ("sudden headache after acupuncture", "red_flag", [("treatment", "acupuncture")]),
        ("thanks", "thanks", []),
    ],
)
def test_other_intents_fill_nothing(text, intent, entities):
    tracker = make_tracker(message(text, intent, entities), slots={"requested_slot": "expect_treatment"})

    assert run_validation(tracker) == ([], [])


def test_an_unsure_nlu_guess_still_answers_the_question_being_asked():
    tracker = make_tracker(
        message("accupuncture", "nlu_fallback", [("treatment", "accupuncture")]),
        slots={"requested_slot": "expect_treatment"},
    )

    assert run_validation(tracker) == ([], [slot("expect_treatment", "acupuncture")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "loads",
            "I couldn't find a number of days in that. You can say it like \"about eight migraine days "
            'a month" or "two a week".',
        ),
        ("40 days a month", '"40 days a month" is more days than a month has. Could you check the number?'),
        ("9 a week", '"9 a week" is more than the 7 days a week has. Could you check the number?'),
    ],
)
def test_bad_frequencies_get_a_clear_message_and_keep_everything(text, expected):
    tracker = make_tracker(
        message(text, "inform_frequency"),
        slots={
            "expect_treatment": "acupuncture",
            "expect_condition": "episodic_migraine",
            "headache_days": 6.0,
        },
    )

    assert run_validation(tracker) == ([text_message(expected)], [])


# ----------------------------------------------------------------------------- asking with buttons


def payload_entity(payload: str) -> tuple[str, dict[str, str]]:
    intent, _, entities = payload[1:].partition("{")
    return intent, json.loads("{" + entities)


def run_ask(action: Action, tracker: Tracker) -> dict[str, Any]:
    messages, events = run_action(action, tracker)
    assert events == [] and len(messages) == 1
    return messages[0]


def test_treatment_buttons_cover_the_table_and_normalise_back():
    reply = run_ask(ActionAskExpectTreatment(), make_tracker(slots={"expect_condition": "chronic_migraine"}))

    assert reply["text"] == "Which treatment would you like to know about for chronic migraine?"
    keys = []
    for button in reply["buttons"][:-1]:
        intent, entities = payload_entity(button["payload"])
        assert intent == "inform_treatment"
        keys.append(normalize_term(entities["treatment"], load_treatments()))
    assert keys == list(TREATMENT_LABELS)
    assert [b["title"] for b in reply["buttons"]] == [
        "Acupuncture",
        "Electroacupuncture",
        "Dry needling",
        "Tui Na",
        "Cupping",
        "Something else",
    ]
    assert reply["buttons"][-1] == {"title": "Something else", "payload": "/something_else"}


def test_condition_buttons_cover_the_table_and_normalise_back():
    reply = run_ask(ActionAskExpectCondition(), make_tracker(slots={"expect_treatment": "dry_needling"}))

    assert reply["text"] == "Which kind of headache would you like to know about with dry needling?"
    keys = []
    for button in reply["buttons"][:-1]:
        intent, entities = payload_entity(button["payload"])
        assert intent == "inform_condition"
        keys.append(normalize_term(entities["condition"], load_conditions()))
    assert keys == list(CONDITION_LABELS)
    assert reply["buttons"][-1]["payload"] == "/something_else"


def test_a_plain_migraine_answer_then_offers_chronic_migraine(action):
    tracker = answer_tracker("acupuncture", "episodic_migraine", expect_condition_assumed=True)

    messages, events = run_action(action, tracker)

    offer = next(m for m in messages if m.get("buttons"))
    assert offer["text"].startswith(
        "That was for episodic migraine (fewer than 15 headache days a month). If you have chronic migraine"
    )
    assert [b["title"] for b in offer["buttons"]] == ["Chronic migraine (15 or more headache days a month)"]
    intent, entities = payload_entity(offer["buttons"][0]["payload"])
    assert intent == "inform_condition"
    assert normalize_term(entities["condition"], load_conditions()) == "chronic_migraine"
    assert messages.index(offer) == 2  # after the short answer and its detail
    assert SlotSet("expect_condition_assumed", False) in events


def test_an_episodic_migraine_chosen_by_the_visitor_gets_no_offer(action):
    messages, _ = run_action(action, answer_tracker("acupuncture", "episodic_migraine"))

    assert not any(m.get("buttons") for m in messages)
