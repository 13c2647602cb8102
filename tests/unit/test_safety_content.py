"""Wording rules of issue 4 checked on the texts themselves (domain responses and answers)."""

from __future__ import annotations

import re

import pytest
import yaml

from actions.safety.actions import DIAGNOSIS_BUTTONS, MEDICATION_BUTTONS
from actions.settings import PROJECT_ROOT
from actions.store.content import read_faq_content

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain" / "safety.yml").read_text(encoding="utf-8"))["responses"]
ANSWERS = {answer.key: answer for answer in read_faq_content(PROJECT_ROOT / "data" / "content").answers}
# The short answer (sent first) and the detail: both are checked.
TEXTS = {key: f"{answer.short}\n{answer.text}" for key, answer in ANSWERS.items()}


def text(response: str) -> str:
    return RESPONSES[response][0]["text"]


def test_every_response_the_safety_actions_send_exists():
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted((PROJECT_ROOT / "actions" / "safety").glob("*.py"))
    )
    used = set(re.findall(r'response="(utter_[a-z_]+)"', source))
    used |= set(re.findall(r'response = "(utter_[a-z_]+)"', source))
    triage = (PROJECT_ROOT / "actions" / "triage.py").read_text(encoding="utf-8")
    used |= set(re.findall(r'"(utter_[a-z_]+)"', triage))
    assert used and used <= set(RESPONSES), used - set(RESPONSES)


@pytest.mark.parametrize(
    ("response", "first_sentence_says"),
    [
        ("utter_red_flag_guidance", "call 911 now"),
        ("utter_crisis_guidance", "call or text 988 now"),
        ("utter_poisoning_guidance", "call 911 now"),
        ("utter_same_day_guidance", "see a doctor today"),
    ],
)
def test_each_tier_says_what_to_do_in_its_first_sentence(response, first_sentence_says):
    first = re.split(r"(?<=[.?])\s", text(response), maxsplit=1)[0]
    assert first_sentence_says in first.lower()
    assert len(first.split()) <= 40, first
    assert "!" not in text(response)


def test_crisis_and_poisoning_name_their_lines_and_911():
    crisis = text("utter_crisis_guidance")
    assert "988" in crisis and "988lifeline.org" in crisis and "call 911" in crisis
    assert "have taken something" in crisis
    poisoning = text("utter_poisoning_guidance")
    assert "1-800-222-1222" in poisoning and "call 911 now" in poisoning
    assert "Poison Control now" in poisoning


def test_the_same_day_guidance_names_its_source_and_review_date():
    assert "SNNOOP10" in text("utter_same_day_guidance")
    assert "reviewed 6 December 2026" in text("utter_same_day_guidance")


def test_the_check_in_asks_one_question_with_two_buttons():
    check_in = RESPONSES["utter_triage_check_in"][0]
    assert check_in["text"].endswith("?") and check_in["text"].count("?") == 1
    assert [b["payload"] for b in check_in["buttons"]] == ["/triage_now", "/triage_not_now"]


def test_red_flag_guidance_sends_to_emergency_care_calmly_and_alone():
    guidance = text("utter_red_flag_guidance")
    assert "call 911 now" in guidance
    assert "nearest emergency department" in guidance
    assert "don't drive yourself" in guidance.lower()
    # No treatment talk, no diagnosis, nothing alarmist.
    for word in ("acupuncture", "needling", "tui na", "stroke", "aneurysm", "meningitis", "!", "dying"):
        assert word not in guidance.lower()


def test_scope_limits_name_who_can_advise():
    assert "doctor" in text("utter_cannot_diagnose") and "neurologist" in text("utter_cannot_diagnose")
    medication = text("utter_cannot_advise_medication")
    for who in ("prescribed it", "neurologist", "pharmacist"):
        assert who in medication
    for reply in ("utter_cannot_diagnose", "utter_cannot_advise_medication"):
        assert "What I can" in text(reply)  # and offers what the bot can answer


def test_scope_limit_buttons_point_at_existing_topics():
    for _, key in DIAGNOSIS_BUTTONS + MEDICATION_BUTTONS:
        assert key in ANSWERS, key


def test_pregnancy_answer_is_general_and_sends_to_the_practitioner():
    answer = TEXTS["acupuncture_pregnancy"].lower()
    assert "tell your practitioner" in answer
    assert "points are avoided in pregnancy" in answer


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_no_answer_says_it_is_safe_for_you(key):
    answer = TEXTS[key].lower()
    assert not re.search(r"\b(it is|it's|is) (completely |perfectly |totally )?safe for you\b", answer)
    assert not re.search(r"safe (for you )?(during|in) pregnancy", answer)


def test_medication_answer_refers_decisions_to_the_prescriber():
    answer = TEXTS["medication_interactions"].lower()
    assert "prescriber" in answer or "prescribed it" in answer
    assert "pharmacist" in answer


@pytest.mark.parametrize("key", ["acupuncture_side_effects", "dry_needling_side_effects"])
def test_side_effect_answers_send_chest_pain_or_breathlessness_after_needling_to_911(key):
    # Pneumothorax is the most frequent serious adverse event of needling (issue 17).
    text = TEXTS[key]
    assert "collapsed lung" in text
    assert "chest pain or trouble breathing after a session" in text and "call 911" in text
