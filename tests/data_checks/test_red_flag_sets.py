"""The red-flag detector over whole data sets (issue 17): the targets on every labelled set,
the sets' shape, and no ordinary NLU training example sent to urgent care. Consistency checks
of data/safety and data/nlu against the rules: `make test` and `make test-fast` run them,
`make test-unit` does not (the detector's behaviour is in tests/unit/test_red_flags.py)."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from actions.settings import PROJECT_ROOT
from bench.red_flag_recall import REPORTED_SETS, SETS, URGENT, Labelled, load_set
from nlp_pipeline.red_flags import CHECK_IN, TIERS
from tests.unit.test_red_flags import tier_of

TEST_SET = load_set(SETS["test"])
TEST_FLAGS = [(i.text, i.category) for i in TEST_SET if i.tier != "ordinary"]
TEST_ORDINARY = [i.text for i in TEST_SET if i.tier == "ordinary"]
HELD_OUT = load_set(SETS["held-out"])
HELD_FLAGS = [(i.text, i.category) for i in HELD_OUT if i.tier in URGENT]
HELD_ORDINARY = [i.text for i in HELD_OUT if i.tier == "ordinary"]
# Frozen, written by someone who never saw the rules (issue 17): measured, never edited.
INDEPENDENT = load_set(SETS["independent"])


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
def test_issue_17_targets_hold_on_every_set(red_flag_matcher, name):
    """Urgent recall >= 99%, right tier >= 95%, ordinary sent to urgent care <= 3%."""
    items: list[Labelled] = load_set(SETS[name])
    got = {item.text: tier_of(red_flag_matcher, item.text) for item in items}
    urgent = [i for i in items if i.tier in URGENT]
    tiered = [i for i in items if i.tier != "ordinary"]
    ordinary = [i for i in items if i.tier == "ordinary"]
    missed = [i.text for i in urgent if got[i.text] not in URGENT]
    wrong_tier = [(i.tier, got[i.text], i.text) for i in tiered if got[i.text] != i.tier]
    alarms = [i.text for i in ordinary if got[i.text] in URGENT]
    assert len(missed) <= 0.01 * len(urgent), missed
    assert len(wrong_tier) <= 0.05 * len(tiered), wrong_tier
    assert len(alarms) <= 0.03 * len(ordinary), alarms


def test_every_urgent_message_of_the_teams_sets_is_caught(red_flag_matcher):
    missed = [text for text, _ in TEST_FLAGS + HELD_FLAGS if tier_of(red_flag_matcher, text) == "ordinary"]
    assert missed == []


@pytest.mark.parametrize("text", HELD_ORDINARY)
def test_held_out_ordinary_questions_are_not_flagged(red_flag_matcher, text):
    assert red_flag_matcher.detect(text) is None


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


def test_no_ordinary_training_example_gets_urgent_guidance(red_flag_matcher):
    examples = ordinary_training_examples()
    urgent = [(intent, text) for intent, text in examples if tier_of(red_flag_matcher, text) in URGENT]
    check_ins = [text for _, text in examples if tier_of(red_flag_matcher, text) == CHECK_IN]
    assert len(examples) > 2000
    assert urgent == []
    assert len(check_ins) <= 0.01 * len(examples), check_ins
