"""The red-flag detector: tiers and how it decides (the issue-17 targets on every set:
tests/data_checks/test_red_flag_sets.py)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from nlp_pipeline.red_flags import (
    CHECK_IN,
    DEFAULT_PATTERNS,
    RedFlagMatcher,
    RedFlagSpec,
    RedFlagSpecError,
    readings,
)


def tier_of(matcher: RedFlagMatcher, text: str) -> str:
    match = matcher.detect(text)
    return match.tier if match else "ordinary"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("worst headache of my life", "worst_ever"),
        ("thunderclap headache", "thunderclap"),
        ("sudden severe headache", "sudden_severe"),
        ("headache with fever and a stiff neck", "fever_stiff_neck"),
        ("I'm 34 weeks pregnant with a headache and swollen hands", "pregnancy"),
        ("I'm 58 and these headaches are new", "new_headache_over_50"),
        ("my headache wakes me up and keeps getting worse", "wakes_vomiting"),
        ("I hit my head and now I have a headache", "head_injury"),
        ("my speech is slurred", "stroke"),
        ("i want to kill myself", "crisis"),
        # Crisis wins over a headache rule: the crisis line comes first.
        ("worst headache of my life, i want to die", "crisis"),
        ("my toddler swallowed some of my pills", "overdose"),
        ("sharp pain when i breathe in since the dry needling on my shoulders", "needling_chest"),
        ("a piece of the needle broke off in my neck", "broken_needle"),
        ("the needle site is oozing pus", "needling_infection"),
        ("my jaw hurts when i chew and i'm 72", "jaw_scalp_over_50"),
    ],
)
def test_each_issue_category_has_its_rule(red_flag_matcher, text, rule):
    match = red_flag_matcher.detect(text)
    assert match is not None and match.rule == rule


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("my face is drooping on one side", "emergency"),
        ("i'd rather not wake up tomorrow", "crisis"),
        ("thinking about ending it", "crisis"),
        ("going to take all my pills tonight", "crisis"),
        ("my 15 yr old just took a whole bottle of tylenol", "poisoning"),
        ("i'm 70 and my scalp hurts when i brush my hair", "same_day"),
        ("the needle spot is red and warm, no fever", "same_day"),
        ("can dry needling puncture a lung? how common is that?", "ordinary"),
        ("is it normal to feel tired after acupuncture?", "ordinary"),
        ("I'm 62 and new to acupuncture, can it help migraines?", "ordinary"),
        ("I hit my head years ago and still get headaches now and then, would tui na help?", "ordinary"),
        ("slept funny and my neck is stiff and now i have a headache, no fever or anything", "ordinary"),
        # A condition asked about ahead is not an event; the event still is.
        ("i'm epileptic, is acupuncture ok for me?", "ordinary"),
        ("i faint easily, can i still have dry needling?", "ordinary"),
        ("my son is epileptic and is having a fit right now", "emergency"),
        ("she had an epileptic seizure after the needles", "emergency"),
        # "now i get migraines" is these days, not now; "now i have chest tightness" is now.
        ("i had a stroke ten years ago, now i get migraines, is acupuncture safe?", "ordinary"),
        ("now i have chest tightness", "emergency"),
        ("i had a stroke 3 years ago and now i can't lift my arm", "emergency"),
    ],
)
def test_tiers(red_flag_matcher, text, tier):
    assert tier_of(red_flag_matcher, text) == tier


@pytest.mark.parametrize(
    "text",
    [
        # A question appended to a description never cancels the emergency (issue 17).
        "my face is drooping, please help",
        "my face is drooping, is that normal?",
        "my left arm went numb an hour ago, can acupuncture help?",
        "fever and a stiff neck, is acupuncture safe?",
    ],
)
def test_a_general_question_does_not_cancel_a_described_emergency(red_flag_matcher, text):
    assert tier_of(red_flag_matcher, text) == "emergency"


def test_a_held_back_rule_about_a_person_becomes_a_check_in(red_flag_matcher):
    match = red_flag_matcher.detect("can acupuncture cause a seizure? i'm worried about my son")
    assert match is not None
    assert (match.tier, match.candidate_tier, match.urgent) == (CHECK_IN, "emergency", False)
    # The same question about nobody in particular stays an ordinary question.
    assert red_flag_matcher.detect("can acupuncture cause a seizure?") is None


def test_history_lowers_a_rule_only_without_a_current_symptom(red_flag_matcher):
    assert tier_of(red_flag_matcher, "had a seizure as a kid, is acupuncture ok?") == "ordinary"
    assert (
        tier_of(red_flag_matcher, "had a seizure as a kid and just had another one right now") == "emergency"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("temp 39.5C and a headache", {"fever_reading"}),
        ("running 103 degrees", {"fever_reading"}),
        ("102.2 F since last night", {"fever_reading"}),
        ("temperature 37.2", set()),
        ("acupuncture 101 for beginners", set()),
        ("bp 165/112 this morning", {"bp_severe", "bp_raised"}),
        ("blood pressure 170 over 110", {"bp_severe", "bp_raised"}),
        ("it was 142/92 at the pharmacy", {"bp_raised"}),
        ("pain is 10/10", {"pain_max"}),
        ("im 62", {"age_50_plus"}),
        ("my 71-year-old mum", {"age_50_plus"}),
        ("she's in her 60s", {"age_50_plus"}),
        ("im 34 weeks pregnant", set()),
        ("had my baby 6 days ago", {"recent_birth"}),
        ("gave birth 3 weeks ago", {"recent_birth"}),
        ("3 weeks postpartum", {"recent_birth"}),
        ("had my baby 5 months ago", {"older_birth"}),
        ("took 8 advil", {"many_pills"}),
        ("swallowed 4,500 mg of tylenol", {"many_pills"}),
        ("took 2 advil", set()),
    ],
)
def test_readings(text, expected):
    assert readings(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hedache with fevr and stif neck",  # three typos
        "wrost headahce of my life",
        "im pregant, head hurts, swolen hands",
        "numbnes in my arm and slured speech",
        "siezure and now a bad migrane",
    ],
)
def test_typos_are_caught(red_flag_matcher, text):
    assert red_flag_matcher.detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "no fever or stiff neck, just a tension headache",
        "I don't have any numbness or weakness",
        "without fever, but my neck is stiff from sleeping badly",
    ],
)
def test_negated_symptoms_do_not_count(red_flag_matcher, text):
    assert red_flag_matcher.detect(text) is None


def test_a_general_question_is_not_a_report_but_an_acute_one_is(red_flag_matcher):
    assert red_flag_matcher.detect("can acupuncture cause numbness?") is None
    assert (
        tier_of(red_flag_matcher, "can acupuncture cause numbness? my face went numb just now") == "emergency"
    )


def test_explanation_lists_concepts_and_negations(red_flag_matcher):
    analysis = red_flag_matcher.analyse("no fever but my neck is stiff and I have a headache")
    assert "stiff_neck" in analysis.present and "headache" in analysis.present
    assert analysis.negated == {"fever": ["fever"]}
    assert analysis.match is None


def test_numbers_and_ages_are_folded(red_flag_matcher):
    assert red_flag_matcher.key("62") == "<n50>"
    assert red_flag_matcher.key("12") == "<num>"
    assert red_flag_matcher.key("58yo") == "<age50>"
    assert red_flag_matcher.key("60s") == "<decade50>"
    assert red_flag_matcher.key("sixty") == "<n50>"
    assert red_flag_matcher.key("2015") == "<year>"


def test_autocorrection_only_touches_unknown_words(red_flag_matcher):
    assert red_flag_matcher.key("hedache") == "headache"
    assert red_flag_matcher.key("siezures") == "seizure"
    assert red_flag_matcher.key("deck") == "deck"  # a real word near "neck" stays itself
    assert red_flag_matcher.key("west") == "west"  # common English, though not in the lemma table: not "welt"
    assert tier_of(red_flag_matcher, "west virgina dry needling by a therapist") == "ordinary"
    assert red_flag_matcher.key("worst") == "worst"  # the lookup table would say "wrong"


def test_empty_and_long_messages(red_flag_matcher):
    assert red_flag_matcher.detect("") is None
    assert red_flag_matcher.detect("   ") is None
    long_text = "what is acupuncture? " * 500 + "I suddenly can't move my left arm"
    assert red_flag_matcher.detect(long_text) is not None


@functools.cache
def shipped_patterns() -> dict[str, Any]:
    """data/safety/red_flags.yml, parsed once (the pure-Python parser takes a third of a second)."""
    return YAML(typ="safe", pure=True).load(DEFAULT_PATTERNS.read_text(encoding="utf-8"))


def test_invalid_pattern_file_reports_every_problem():
    data = copy.deepcopy(shipped_patterns())
    data["concepts"]["headache"].append("@no_such_list")
    data["concepts"]["fever"].append("... fever")
    data["rules"].append({"id": "broken", "any": [["no_such_concept"]]})
    data["rules"].append({"id": "thunderclap", "any": [["headache"]]})
    data["rules"].append({"id": "tiered", "tier": "someday", "any": [["headache"]]})
    with pytest.raises(RedFlagSpecError) as error:
        RedFlagSpec.from_dict(data)
    problems = "\n".join(error.value.problems)
    assert "unknown list '@no_such_list'" in problems
    assert "may not start or end with '...'" in problems
    assert "unknown concept 'no_such_concept'" in problems
    assert "duplicate id 'thunderclap'" in problems
    assert "unknown tier 'someday'" in problems


def test_a_multi_word_list_item_is_rejected_when_compiling(spacy_pipeline):
    data = copy.deepcopy(shipped_patterns())
    data["lists"]["limb"].append("left arm")
    with pytest.raises(RedFlagSpecError, match="more than one token"):
        RedFlagMatcher(RedFlagSpec.from_dict(data), spacy_pipeline)


def test_broken_yaml_is_a_spec_error(tmp_path: Path):
    path = tmp_path / "red_flags.yml"
    path.write_text("concepts: [unclosed\n", encoding="utf-8")
    with pytest.raises(RedFlagSpecError, match="not valid YAML"):
        RedFlagSpec.from_yaml(path)


def test_an_appended_can_i_does_not_make_an_emergency_a_general_question(red_flag_matcher):
    # The lemma of "could" is "can": only the word "could" frames a hypothetical.
    assert (
        tier_of(red_flag_matcher, "my face is drooping since an hour, can i still go to acupuncture?")
        == "emergency"
    )
    # A hypothetical about oneself: held back, and the check-in asks.
    assert tier_of(red_flag_matcher, "could i get a stroke from neck acupuncture?") == CHECK_IN


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("can acupuncture make migraines disappear forever", "ordinary"),
        ("i want my headaches to disappear for good", "ordinary"),
        ("i wish i could just disappear permanently", "crisis"),
        ("sometimes i think about disappearing", "crisis"),
        ("i want to die, can acupuncture make the pain disappear", "crisis"),
    ],
)
def test_a_person_disappearing_is_a_crisis_a_headache_disappearing_is_not(red_flag_matcher, text, tier):
    assert tier_of(red_flag_matcher, text) == tier


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        # A tendency to faint, asked about ahead; the event itself is still an emergency.
        ("i always faint at blood tests, will acupuncture be ok", "ordinary"),
        ("i tend to pass out at the sight of needles, is dry needling an option", "ordinary"),
        ("i fainted during acupuncture and still feel awful", "emergency"),
        # Rebound (medication-overuse) headache is a condition, not a dose just taken.
        ("rebound headaches from taking too many tablets", "ordinary"),
        ("i took too many pills and now i feel sick", "poisoning"),
        # "go" is the lemma of "gone": only the word "gone" says a packet is empty.
        ("any meds that dont go with acupuncture", "ordinary"),
        ("my son swallowed a bunch of pills and the bottle is gone", "poisoning"),
        # "make you ...": a general question; feeling faint makes it a check-in at most.
        ("can acupuncture make you feel sick or faint", CHECK_IN),
        # Hearsay about somebody else is a question about a risk (asked whether it is now);
        # the same words with something happening now stay an emergency.
        ("can acupuncture be dangerous? my aunt said someone got a collapsed lung", CHECK_IN),
        ("my aunt said someone got a collapsed lung and now after my session i cant breathe", "emergency"),
    ],
)
def test_ordinary_questions_that_borrow_urgent_words(red_flag_matcher, text, tier):
    assert tier_of(red_flag_matcher, text) == tier
