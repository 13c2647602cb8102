"""Ties the YAML to the code and the content: the commonest bot regressions."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

from actions.settings import PROJECT_ROOT
from actions.store.content import read_faq_content
from scripts.sync_faq_domain import nlu_faq_keys

ROOT = PROJECT_ROOT


def load_domain() -> dict:
    """Merge domain/*.yml the way Rasa does (enough for names)."""
    merged: dict = {"intents": [], "responses": {}, "actions": [], "slots": {}, "entities": [], "forms": {}}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("intents", "actions", "entities"):
            merged[key] += [next(iter(i)) if isinstance(i, dict) else i for i in data.get(key) or []]
        for key in ("responses", "slots", "forms"):
            merged[key].update(data.get(key) or {})
    return merged


def yaml_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.yml"))


def rule_and_story_steps() -> list[dict]:
    steps = []
    for path in yaml_files("data/rules", "data/stories", "tests/stories"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in (data.get("rules") or []) + (data.get("stories") or []):
            steps += block.get("steps") or []
    return steps


def test_every_nlu_topic_has_content_and_every_content_topic_is_predictable():
    nlu_keys = set(nlu_faq_keys())
    content_keys = read_faq_content(ROOT / "data" / "content").keys()
    assert nlu_keys - content_keys == set(), "NLU topics without an answer in data/content"
    assert content_keys - nlu_keys == set(), "answers NLU can never predict (no faq/<key> examples)"


def test_domain_has_a_response_per_faq_topic():
    responses = load_domain()["responses"]
    faq_responses = {name.split("/", 1)[1] for name in responses if name.startswith("utter_faq/")}
    assert faq_responses == set(nlu_faq_keys())


def test_domain_actions_and_registered_actions_match():
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    declared = {a for a in load_domain()["actions"] if not a.startswith("utter_")}
    declared |= {f"validate_{form}" for form in load_domain()["forms"] if f"validate_{form}" in registered}
    assert declared - registered == set(), "domain actions the action server does not provide"
    assert registered - declared == set(), "registered actions missing from the domain"


def test_every_response_and_action_used_exists():
    domain = load_domain()
    known = (
        set(domain["responses"])
        | set(domain["actions"])
        | set(domain["forms"])
        | {
            "action_listen",
            "action_restart",
            "action_default_fallback",
            "action_session_start",
            "action_deactivate_loop",
            "action_back",
            "action_two_stage_fallback",
        }
    )
    used = {step["action"] for step in rule_and_story_steps() if "action" in step}
    assert used - known == set()
    # Responses the actions dispatch by name.
    for name in ("utter_service_problem", "utter_ask_rephrase", "utter_greet", "utter_greet_again"):
        assert name in domain["responses"], name


def test_every_intent_used_is_declared():
    intents = set(load_domain()["intents"]) | {"nlu_fallback"}
    used = {step["intent"].split("/")[0] for step in rule_and_story_steps() if "intent" in step}
    assert used - intents == set()


def test_generated_faq_domain_is_up_to_date():
    result = subprocess.run(
        [sys.executable, "scripts/sync_faq_domain.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def training_examples() -> set[str]:
    """Every NLU training example of data/nlu, lower-cased."""
    training: set[str] = set()
    for nlu_path in yaml_files("data/nlu"):
        for block in (yaml.safe_load(nlu_path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            training |= {
                line[2:].strip().lower()
                for line in str(block.get("examples", "")).splitlines()
                if line.strip().startswith("- ")
            }
    return training


@pytest.mark.parametrize("path", yaml_files("tests/nlu"), ids=lambda p: p.name)
def test_held_out_questions_are_not_training_examples(path):
    training = training_examples()
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        for line in str(block.get("examples", "")).splitlines():
            if line.strip().startswith("- "):
                assert line.strip()[2:].strip().lower() not in training, line


# Short questions that data/nlu already held, word for word, when the independent sets
# (6475fc8) and the fresh set (dfcdd62) were written by people who never saw data/nlu: common
# wordings both wrote independently ("what is dry needling"). They may stay; no other may be added.
OVERLAP_BEFORE_THE_INDEPENDENT_SETS = ROOT / "tests" / "nlu" / "independent_overlap_with_training.txt"


def independent_texts() -> list[str]:
    texts = []
    for path in yaml_files("tests/nlu"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts += [str(item["text"]) for key in ("questions", "messages") for item in data.get(key) or []]
        texts += [str(turn["text"]) for c in data.get("conversations") or [] for turn in c["turns"]]
    return texts


def test_no_independent_question_is_added_to_the_training_data():
    """The independent sets (tests/nlu/independent_*.yml, fresh_*.yml) measure; they never train."""
    training = training_examples()
    texts = independent_texts()
    assert len(texts) > 700
    known = set(OVERLAP_BEFORE_THE_INDEPENDENT_SETS.read_text(encoding="utf-8").splitlines()[1:])
    added = sorted({text.strip().lower() for text in texts if text.strip().lower() in training} - known)
    assert added == []


# Near copies: a training example of four words or more sharing at least this share of the
# words of an evaluation message (of the longer of the two). The ones data/nlu held when this
# check was added (7 December 2026: common wordings written by people who never saw the sets,
# or older than them) are listed; no other may be added: new examples are written fresh.
NEAR_COPY_SHARE = 0.7
NEAR_COPIES_BEFORE_THE_SETS = ROOT / "tests" / "nlu" / "near_copies_before_the_sets.txt"
_WORDS = re.compile(r"[a-z0-9']+")


def near_copies(training: set[str], texts: list[str]) -> set[str]:
    evaluation = [words for words in (set(_WORDS.findall(text.lower())) for text in texts) if len(words) >= 4]
    holding: dict[str, list[int]] = {}
    for index, words in enumerate(evaluation):
        for word in words:
            holding.setdefault(word, []).append(index)
    found = set()
    for example in training:
        words = set(_WORDS.findall(example))
        if len(words) < 4:
            continue
        shared = Counter(index for word in words for index in holding.get(word, ()))
        if any(n >= NEAR_COPY_SHARE * max(len(words), len(evaluation[i])) for i, n in shared.items()):
            found.add(example)
    return found


def test_no_near_copy_of_an_evaluation_message_is_added_to_the_training_data():
    known = set(NEAR_COPIES_BEFORE_THE_SETS.read_text(encoding="utf-8").splitlines()[1:])
    added = sorted(near_copies(training_examples(), independent_texts()) - known)
    assert added == []
