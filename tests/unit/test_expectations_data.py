"""Expectations feature data: the evidence file's validation, the NLU examples, the conditions lexicon."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML

from actions.evidence_ranges import Frequency, parse_frequency
from actions.store.evidence_data import EvidenceError, read_evidence_table
from actions.store.evidence_repository import CONDITION_LABELS, TREATMENT_LABELS
from lexicon import load_conditions, normalize_term
from tests.conftest import ROOT

EVIDENCE = ROOT / "data" / "evidence" / "expectations.yml"
NLU = ROOT / "data" / "nlu" / "expectations.yml"


# ----------------------------------------------------------------------------- evidence file validation


@functools.cache
def evidence_data() -> dict[str, Any]:
    """The real evidence file, parsed once (the pure-Python parser takes a fifth of a second)."""
    return YAML(typ="safe", pure=True).load(EVIDENCE.read_text(encoding="utf-8"))


def edited_table(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the real evidence file with ``edit`` applied; returns its folder."""
    data = copy.deepcopy(evidence_data())
    edit(data)
    folder = tmp_path / "evidence"
    folder.mkdir()
    with (folder / "expectations.yml").open("w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True)
    return folder


def row(data: dict[str, Any], treatment: str, condition: str) -> dict[str, Any]:
    return next(r for r in data["rows"] if r["treatment"] == treatment and r["condition"] == condition)


def problems_of(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> list[str]:
    with pytest.raises(EvidenceError) as raised:
        read_evidence_table(edited_table(tmp_path, edit))
    return raised.value.problems


def test_the_real_file_is_valid_and_complete():
    table = read_evidence_table(EVIDENCE.parent)
    assert table.version == "2026-11-21"
    assert len(table.rows) == len(TREATMENT_LABELS) * len(CONDITION_LABELS) == 25
    # dry needling x episodic migraine was re-worded on 2026-12-06 (issue 20); the rest date from 2026-11-21.
    assert {row.reviewed_on.isoformat() for row in table.rows} == {"2026-11-21", "2026-12-06"}
    assert all(row.sources for row in table.rows)


def test_an_unchanged_copy_is_valid(tmp_path):
    assert len(read_evidence_table(edited_table(tmp_path, lambda data: None)).rows) == 25


def test_every_problem_is_reported_at_once(tmp_path):
    def edit(data):
        data["rows"] = [
            r for r in data["rows"] if (r["treatment"], r["condition"]) != ("cupping", "chronic_migraine")
        ]
        row(data, "acupuncture", "cervicogenic_headache")["course"] = {
            "text": "About 12 sessions.",
            "sources": [],
        }
        row(data, "tui_na", "tension_type_headache")["results"]["sources"] = ["fan2021", "made_up_2020"]
        row(data, "dry_needling", "tension_type_headache")["limits"]["text"] = "It cures tension headaches."
        row(data, "cupping", "episodic_migraine")["limits"]["text"] = "Results are guaranteed."
        row(data, "electroacupuncture", "tension_type_headache")["reviewed"] = "2099-01-01"
        data["sources"][0]["published"] = "2016-13-40"

    problems = problems_of(tmp_path, edit)

    assert problems == [
        "source 1 (linde2016_migraine): published '2016-13-40' is not a real date",
        "row 4 (acupuncture x cervicogenic_headache) course: "
        "the text contains a number but names no source for it",
        "row 8 (electroacupuncture x tension_type_headache): reviewed date 2099-01-01 is in the future",
        "row 13 (dry_needling x tension_type_headache) limits: promises a cure ('It cures')",
        "row 18 (tui_na x tension_type_headache) results: unknown source 'made_up_2020'",
        "row 21 (cupping x episodic_migraine) limits: uses 'guarantee'",
        "missing row for cupping x chronic_migraine",
    ]


def test_not_a_cure_is_allowed_but_a_cure_is_not(tmp_path):
    def edit(data):
        row(data, "acupuncture", "chronic_migraine")["limits"]["text"] = (
            "This may cure you. There is no cure."
        )

    assert problems_of(tmp_path, edit) == [
        "row 2 (acupuncture x chronic_migraine) limits: promises a cure ('This may cure')"
    ]


def test_estimate_figures_must_appear_in_the_results_wording(tmp_path):
    def edit(data):
        row(data, "acupuncture", "episodic_migraine")["estimate"]["figures"]["responder_percent"]["value"] = (
            45
        )

    assert problems_of(tmp_path, edit) == [
        "row 1 (acupuncture x episodic_migraine) estimate responder_percent: "
        "45 does not appear in the results text, so the answer would not show where it comes from"
    ]


def test_estimates_need_direct_evidence_and_sane_figures(tmp_path):
    def edit(data):
        estimate = row(data, "acupuncture", "episodic_migraine").pop("estimate")
        row(data, "acupuncture", "chronic_migraine")["estimate"] = estimate
        row(data, "acupuncture", "chronic_migraine")["results"]["text"] += " 6 5 3.5 41 15"
        estimate["figures"]["treated_days"]["value"] = 5

    problems = problems_of(tmp_path, edit)

    assert problems == [
        "row 2 (acupuncture x chronic_migraine): a personal estimate needs direct evidence for this pair",
        "row 2 (acupuncture x chronic_migraine) estimate: "
        "expected treated_days < comparison_days <= baseline_days",
    ]


def test_duplicates_unknown_fields_and_keys_are_reported(tmp_path):
    def edit(data):
        data["rows"].append(dict(row(data, "acupuncture", "episodic_migraine")))
        row(data, "cupping", "tension_type_headache")["evidance"] = "none"
        row(data, "cupping", "cervicogenic_headache")["treatment"] = "moxibustion"

    problems = problems_of(tmp_path, edit)

    assert "row 23 (cupping x tension_type_headache): unknown field(s) evidance" in problems
    assert "row 24 (moxibustion x cervicogenic_headache): unknown treatment 'moxibustion'" in problems
    assert "duplicate row for acupuncture x episodic_migraine" in problems
    assert "missing row for cupping x cervicogenic_headache" in problems


def test_missing_or_broken_file_is_a_clear_error(tmp_path):
    with pytest.raises(EvidenceError, match="evidence file not found"):
        read_evidence_table(tmp_path)
    (tmp_path / "expectations.yml").write_text("rows: [unclosed", encoding="utf-8")
    with pytest.raises(EvidenceError, match="not valid YAML"):
        read_evidence_table(tmp_path)


def test_readme_documents_the_schema():
    readme = (EVIDENCE.parent / "README.md").read_text(encoding="utf-8")
    for word in (
        "sources",
        "common",
        "rows",
        "estimate",
        "grade",
        "evidence",
        "reviewed",
        "make load-content",
    ):
        assert word in readme


# ----------------------------------------------------------------------------- NLU examples


def nlu_examples(path: Path) -> dict[str, list[str]]:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    return {
        block["intent"]: [
            line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")
        ]
        for block in blocks
    }


def test_enough_varied_questions_and_no_entity_annotations():
    examples = nlu_examples(NLU)
    assert len(examples["ask_expectations"]) >= 20
    for intent in ("inform_treatment", "inform_condition", "inform_frequency"):
        assert len(examples[intent]) >= 10, intent
    for lines in examples.values():
        for line in lines:
            assert not re.search(r"\[[^\]]+\]\([^)]+\)", line), line


def test_the_general_evidence_questions_stay_with_the_faq():
    mine = {line.lower() for line in nlu_examples(NLU)["ask_expectations"]}
    for question in (
        "does acupuncture work for migraines",
        "is dry needling evidence based",
        "is tui na proven",
    ):
        assert question not in mine


def test_every_frequency_example_can_be_read():
    for line in nlu_examples(NLU)["inform_frequency"]:
        assert isinstance(parse_frequency(line), Frequency), line


# ----------------------------------------------------------------------------- conditions lexicon


def test_condition_keys_match_the_evidence_table_plus_plain_migraine():
    assert {term.key for term in load_conditions()} == set(CONDITION_LABELS) | {"migraine"}


@pytest.mark.parametrize(
    ("text", "span", "key"),
    [
        (
            "what can I expect from acupuncture for my chronic migraines",
            "chronic migraines",
            "chronic_migraine",
        ),
        ("will dry needling fix my tension headaches", "tension headaches", "tension_type_headache"),
        ("does it help migrane", "migrane", "migraine"),
        ("my Tension-Type Headache", "Tension-Type Headache", "tension_type_headache"),
        ("dn for TTH", "TTH", "tension_type_headache"),
        ("neck headaches after work", "neck headaches", "cervicogenic_headache"),
        ("stiff neck and shoulders", "stiff neck and shoulders", "neck_shoulder_tension"),
        ("occasional migraines", "occasional migraines", "episodic_migraine"),
    ],
)
def test_the_entity_ruler_finds_conditions(spacy_pipeline, text, span, key):
    found = [(e.text, e.ent_id_) for e in spacy_pipeline(text).ents if e.label_ == "condition"]
    assert found == [(span, key)]
    assert normalize_term(span, load_conditions()) == key


@pytest.mark.parametrize(
    "text", ["a headache with fever and a stiff neck", "tuina for headaches", "my head hurts"]
)
def test_warning_signs_and_plain_headache_are_not_conditions(spacy_pipeline, text):
    assert [e.text for e in spacy_pipeline(text).ents if e.label_ == "condition"] == []
