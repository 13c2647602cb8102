"""The clinician review sheet (docs/safety.md) and the published lists behind every rule (issue 17):
consistency checks of data/safety, run by `make test` and `make test-fast`."""

from __future__ import annotations

import pytest
import yaml

from nlp_pipeline.red_flags import TIERS, RedFlagSpec
from scripts import safety_review_sheet as sheet

SPEC = RedFlagSpec.from_yaml()
SOURCES = yaml.safe_load(sheet.SOURCES.read_text(encoding="utf-8"))["sources"]


@pytest.mark.parametrize("rule", SPEC.rules, ids=[rule.id for rule in SPEC.rules])
def test_every_rule_names_a_published_list_and_says_which_flag(rule):
    assert rule.sources, f"{rule.id} names no source"
    assert set(rule.sources) <= set(SOURCES), set(rule.sources) - set(SOURCES)
    assert rule.reference and rule.description
    assert rule.tier in TIERS


def test_every_published_list_is_used_and_complete():
    used = {source for rule in SPEC.rules for source in rule.sources}
    assert used == set(SOURCES)
    for source_id, source in SOURCES.items():
        assert source["title"] and source["says"] and source["mark"] in ("V", "S"), source_id
        assert not source["url"] or source["url"].startswith("https://"), source_id


def test_every_tier_has_a_rule():
    assert {rule.tier for rule in SPEC.rules} == set(TIERS)


def test_the_review_sheet_is_up_to_date(red_flag_matcher):
    current = sheet.DOC.read_text(encoding="utf-8")
    assert (
        sheet.replace_section(current, sheet.render(red_flag_matcher)) == current
    ), "docs/safety.md is out of date: run `python scripts/safety_review_sheet.py`"
