"""The red-flag detector: the issue-4 targets on the test sets, and how it decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nlp_pipeline.build_spacy import build_pipeline
from nlp_pipeline.red_flags import (
    DEFAULT_PATTERNS,
    RedFlagMatcher,
    RedFlagSpec,
    RedFlagSpecError,
)

SAFETY_DATA = DEFAULT_PATTERNS.parent


def load_set(name: str) -> tuple[list[tuple[str, str]], list[str]]:
    data = YAML(typ="safe", pure=True).load((SAFETY_DATA / name).read_text(encoding="utf-8"))
    return [(str(i["text"]), str(i["category"])) for i in data["red_flag"]], [
        str(t) for t in data["ordinary"]
    ]


TEST_FLAGS, TEST_ORDINARY = load_set("red_flag_test_set.yml")
HELD_FLAGS, HELD_ORDINARY = load_set("red_flag_held_out.yml")


@pytest.fixture(scope="module")
def matcher() -> RedFlagMatcher:
    # The same pipeline `make spacy` saves, built in memory: no dependency on build/.
    return RedFlagMatcher(RedFlagSpec.from_yaml(), build_pipeline())


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
    }
    texts = [text.lower() for text, _ in TEST_FLAGS] + [t.lower() for t in TEST_ORDINARY]
    assert len(texts) == len(set(texts)), "duplicate messages in the test set"


def test_issue_targets_recall_100_and_false_alarms_at_most_2_percent(matcher):
    missed = [text for text, _ in TEST_FLAGS if matcher.detect(text) is None]
    alarms = [text for text in TEST_ORDINARY if matcher.detect(text) is not None]
    assert missed == []
    assert len(alarms) / len(TEST_ORDINARY) <= 0.02, alarms


@pytest.mark.parametrize(("text", "category"), HELD_FLAGS, ids=[t for t, _ in HELD_FLAGS])
def test_held_out_red_flags_are_caught(matcher, text, category):
    assert matcher.detect(text) is not None


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
        ("I'm 58 and this is my first bad headache", "first_after_50"),
        ("my headache wakes me up and keeps getting worse", "wakes_worsening"),
        ("I hit my head and now I have a headache", "head_injury"),
        ("my speech is slurred", "neuro"),
        ("i want to kill myself", "crisis"),
        # Crisis wins over a headache rule: the crisis line comes first.
        ("worst headache of my life, i want to die", "crisis"),
    ],
)
def test_each_issue_category_has_its_rule(matcher, text, rule):
    match = matcher.detect(text)
    assert match is not None and match.rule == rule


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
    assert matcher.detect("can acupuncture cause numbness? my face went numb just now") is not None


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


def test_autocorrection_only_touches_unknown_words(matcher):
    assert matcher.key("hedache") == "headache"
    assert matcher.key("siezures") == "seizure"
    assert matcher.key("deck") == "deck"  # a real word near "neck" stays itself
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
    with pytest.raises(RedFlagSpecError) as error:
        RedFlagSpec.from_dict(data)
    problems = "\n".join(error.value.problems)
    assert "unknown list '@no_such_list'" in problems
    assert "may not start or end with '...'" in problems
    assert "unknown concept 'no_such_concept'" in problems
    assert "duplicate id 'thunderclap'" in problems


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
