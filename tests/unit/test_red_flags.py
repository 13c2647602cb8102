"""The red-flag detector: the issue-17 targets on every set, tiers, and how it decides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from actions.settings import PROJECT_ROOT
from bench.red_flag_recall import REPORTED_SETS, SETS, URGENT, Labelled, load_set
from nlp_pipeline.build_spacy import build_pipeline
from nlp_pipeline.red_flags import (
    CHECK_IN,
    DEFAULT_PATTERNS,
    TIERS,
    RedFlagMatcher,
    RedFlagSpec,
    RedFlagSpecError,
    readings,
)

TEST_SET = load_set(SETS["test"])
TEST_FLAGS = [(i.text, i.category) for i in TEST_SET if i.tier != "ordinary"]
TEST_ORDINARY = [i.text for i in TEST_SET if i.tier == "ordinary"]
HELD_OUT = load_set(SETS["held-out"])
HELD_FLAGS = [(i.text, i.category) for i in HELD_OUT if i.tier in URGENT]
HELD_ORDINARY = [i.text for i in HELD_OUT if i.tier == "ordinary"]
# Frozen, written by someone who never saw the rules (issue 17): measured, never edited.
INDEPENDENT = load_set(SETS["independent"])


@pytest.fixture(scope="module")
def matcher() -> RedFlagMatcher:
    # The same pipeline `make spacy` saves, built in memory: no dependency on build/.
    return RedFlagMatcher(RedFlagSpec.from_yaml(), build_pipeline())


def tier_of(matcher: RedFlagMatcher, text: str) -> str:
    match = matcher.detect(text)
    return match.tier if match else "ordinary"


def test_test_set_is_big_and_varied_enough():
    assert len(TEST_FLAGS) >= 60
    assert len(TEST_ORDINARY) >= 60
    categories = {category for _, category in TEST_FLAGS}
    assert categories == {
        "thunderclap",
        "head_injury",
        "fever_stiff_neck",
        "neuro",
        "pregnancy",
        "first_after_50",
        "wakes_worsening",
        "crisis",
        "overdose",
        "needling",
        "same_day",
    }
    assert {item.tier for item in TEST_SET} == {*TIERS, "ordinary"}
    texts = [text.lower() for text, _ in TEST_FLAGS] + [t.lower() for t in TEST_ORDINARY]
    assert len(texts) == len(set(texts)), "duplicate messages in the test set"


def test_the_independent_set_is_frozen_and_covers_every_tier():
    assert len([i for i in INDEPENDENT if i.tier != "ordinary"]) >= 200
    assert len([i for i in INDEPENDENT if i.tier == "ordinary"]) >= 200
    assert {item.tier for item in INDEPENDENT} == {*TIERS, "ordinary"}
    texts = [item.text.lower() for item in INDEPENDENT]
    assert len(texts) == len(set(texts))
    # Neither independent set's messages are ever copied into the team's own sets.
    own = {item.text.lower() for item in [*TEST_SET, *HELD_OUT]}
    fresh = {item.text.lower() for path in REPORTED_SETS.values() for item in load_set(path)}
    assert own.isdisjoint(texts) and own.isdisjoint(fresh)


@pytest.mark.parametrize("name", ["independent", "test", "held-out"])
def test_issue_17_targets_hold_on_every_set(matcher, name):
    """Urgent recall >= 99%, right tier >= 95%, ordinary sent to urgent care <= 3%."""
    items: list[Labelled] = load_set(SETS[name])
    got = {item.text: tier_of(matcher, item.text) for item in items}
    urgent = [i for i in items if i.tier in URGENT]
    tiered = [i for i in items if i.tier != "ordinary"]
    ordinary = [i for i in items if i.tier == "ordinary"]
    missed = [i.text for i in urgent if got[i.text] not in URGENT]
    wrong_tier = [(i.tier, got[i.text], i.text) for i in tiered if got[i.text] != i.tier]
    alarms = [i.text for i in ordinary if got[i.text] in URGENT]
    assert len(missed) <= 0.01 * len(urgent), missed
    assert len(wrong_tier) <= 0.05 * len(tiered), wrong_tier
    assert len(alarms) <= 0.03 * len(ordinary), alarms


def test_every_urgent_message_of_the_teams_sets_is_caught(matcher):
    missed = [text for text, _ in TEST_FLAGS + HELD_FLAGS if tier_of(matcher, text) == "ordinary"]
    assert missed == []


@pytest.mark.parametrize("text", HELD_ORDINARY)
def test_held_out_ordinary_questions_are_not_flagged(matcher, text):
    assert matcher.detect(text) is None


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
def test_each_issue_category_has_its_rule(matcher, text, rule):
    match = matcher.detect(text)
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
    ],
)
def test_tiers(matcher, text, tier):
    assert tier_of(matcher, text) == tier


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
def test_a_general_question_does_not_cancel_a_described_emergency(matcher, text):
    assert tier_of(matcher, text) == "emergency"


def test_a_held_back_rule_about_a_person_becomes_a_check_in(matcher):
    match = matcher.detect("can acupuncture cause a seizure? i'm worried about my son")
    assert match is not None
    assert (match.tier, match.candidate_tier, match.urgent) == (CHECK_IN, "emergency", False)
    # The same question about nobody in particular stays an ordinary question.
    assert matcher.detect("can acupuncture cause a seizure?") is None


def test_history_lowers_a_rule_only_without_a_current_symptom(matcher):
    assert tier_of(matcher, "had a seizure as a kid, is acupuncture ok?") == "ordinary"
    assert tier_of(matcher, "had a seizure as a kid and just had another one right now") == "emergency"


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
def test_typos_are_caught(matcher, text):
    assert matcher.detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "no fever or stiff neck, just a tension headache",
        "I don't have any numbness or weakness",
        "without fever, but my neck is stiff from sleeping badly",
    ],
)
def test_negated_symptoms_do_not_count(matcher, text):
    assert matcher.detect(text) is None


def test_a_general_question_is_not_a_report_but_an_acute_one_is(matcher):
    assert matcher.detect("can acupuncture cause numbness?") is None
    assert tier_of(matcher, "can acupuncture cause numbness? my face went numb just now") == "emergency"


def test_explanation_lists_concepts_and_negations(matcher):
    analysis = matcher.analyse("no fever but my neck is stiff and I have a headache")
    assert "stiff_neck" in analysis.present and "headache" in analysis.present
    assert analysis.negated == {"fever": ["fever"]}
    assert analysis.match is None


def test_numbers_and_ages_are_folded(matcher):
    assert matcher.key("62") == "<n50>"
    assert matcher.key("12") == "<num>"
    assert matcher.key("58yo") == "<age50>"
    assert matcher.key("60s") == "<decade50>"
    assert matcher.key("sixty") == "<n50>"
    assert matcher.key("2015") == "<year>"


def test_autocorrection_only_touches_unknown_words(matcher):
    assert matcher.key("hedache") == "headache"
    assert matcher.key("siezures") == "seizure"
    assert matcher.key("deck") == "deck"  # a real word near "neck" stays itself
    assert matcher.key("west") == "west"  # common English, though not in the lemma table: not "welt"
    assert tier_of(matcher, "west virgina dry needling by a therapist") == "ordinary"
    assert matcher.key("worst") == "worst"  # the lookup table would say "wrong"


def test_empty_and_long_messages(matcher):
    assert matcher.detect("") is None
    assert matcher.detect("   ") is None
    long_text = "what is acupuncture? " * 500 + "I suddenly can't move my left arm"
    assert matcher.detect(long_text) is not None


def test_invalid_pattern_file_reports_every_problem():
    data = YAML(typ="safe", pure=True).load(DEFAULT_PATTERNS.read_text(encoding="utf-8"))
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


def test_a_multi_word_list_item_is_rejected_when_compiling():
    data = YAML(typ="safe", pure=True).load(DEFAULT_PATTERNS.read_text(encoding="utf-8"))
    data["lists"]["limb"].append("left arm")
    with pytest.raises(RedFlagSpecError, match="more than one token"):
        RedFlagMatcher(RedFlagSpec.from_dict(data), build_pipeline())


def test_broken_yaml_is_a_spec_error(tmp_path: Path):
    path = tmp_path / "red_flags.yml"
    path.write_text("concepts: [unclosed\n", encoding="utf-8")
    with pytest.raises(RedFlagSpecError, match="not valid YAML"):
        RedFlagSpec.from_yaml(path)


def ordinary_training_examples() -> list[tuple[str, str]]:
    """(intent, text) of every NLU example of the other intents: ordinary questions by definition."""
    annotation = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]*\}")
    examples = []
    for path in sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml")):
        for block in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if block.get("intent") in (None, "red_flag"):
                continue
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    text = annotation.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:])
                    examples.append((str(block["intent"]), text))
    return examples


def test_no_ordinary_training_example_gets_urgent_guidance(matcher):
    examples = ordinary_training_examples()
    urgent = [(intent, text) for intent, text in examples if tier_of(matcher, text) in URGENT]
    check_ins = [text for _, text in examples if tier_of(matcher, text) == CHECK_IN]
    assert len(examples) > 2000
    assert urgent == []
    assert len(check_ins) <= 0.01 * len(examples), check_ins


def test_an_appended_can_i_does_not_make_an_emergency_a_general_question(matcher):
    # The lemma of "could" is "can": only the word "could" frames a hypothetical.
    assert (
        tier_of(matcher, "my face is drooping since an hour, can i still go to acupuncture?") == "emergency"
    )
    # A hypothetical about oneself: held back, and the check-in asks.
    assert tier_of(matcher, "could i get a stroke from neck acupuncture?") == CHECK_IN


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
def test_a_person_disappearing_is_a_crisis_a_headache_disappearing_is_not(matcher, text, tier):
    assert tier_of(matcher, text) == tier
