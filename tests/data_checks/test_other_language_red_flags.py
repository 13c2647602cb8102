"""Red flags in other languages (data/safety/red_flags_other_languages.yml): the file loads, every
language the bot can tell has rules and guidance in every tier, and the team's own examples
(data/safety/red_flags_other_languages_examples.yml) are triaged as labelled."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from actions.languages import load_language_replies
from actions.settings import PROJECT_ROOT
from nlp_pipeline.red_flags import TIERS
from nlp_pipeline.red_flags_languages import OtherLanguageRedFlags

EXAMPLES = PROJECT_ROOT / "data" / "safety" / "red_flags_other_languages_examples.yml"


@pytest.fixture(scope="module")
def flags() -> OtherLanguageRedFlags:
    return OtherLanguageRedFlags.from_yaml()


def test_every_language_with_a_reply_has_rules_and_guidance_in_every_tier(flags):
    replies = load_language_replies()
    assert flags.languages == set(replies.replies)
    for language in flags.languages:
        assert [tier for tier in TIERS if not replies.guidance(language, tier)] == [], language


def examples() -> list[dict[str, str]]:
    return list(YAML(typ="safe", pure=True).load(EXAMPLES.read_text(encoding="utf-8"))["examples"])


def test_the_teams_examples_are_triaged_as_labelled(flags):
    wrong = []
    for example in examples():
        match = flags.detect(example["text"], example["language"])
        got = match.tier if match else "ordinary"
        if got != example["tier"]:
            wrong.append((example["language"], example["tier"], got, example["text"]))
    assert len(examples()) >= 200
    assert wrong == []
