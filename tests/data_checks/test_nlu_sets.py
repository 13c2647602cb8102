"""The committed NLU evaluation sets (tests/nlu) and the NLU training data, whole: the sets load
with the counts the scripts expect, the check-answers baseline names held-out questions, and no
example of data/nlu/expectations.yml appears elsewhere in data/nlu. Consistency checks, run by
`make test` and `make test-fast` (the scripts' unit tests are in tests/unit)."""

from __future__ import annotations

import json
from collections import Counter

from scripts import check_answers
from scripts.check_answers import read_heldout
from scripts.check_independent import load_cases
from tests.conftest import ROOT
from tests.unit.test_expectations_data import NLU, nlu_examples


def test_the_independent_files_load_whole():
    cases = load_cases()
    counts = {
        file: sum(c.file == file for c in cases) for file in ("faq", "states", "followups", "non_english")
    }
    assert counts == {"faq": 481, "states": 60, "followups": 60, "non_english": 20}


def test_the_committed_held_out_files_and_baseline_are_readable():
    questions, _ = read_heldout(ROOT / "tests" / "nlu")
    assert len(questions) >= 100
    baseline = json.loads((ROOT / "tests" / "nlu" / "check_answers_baseline.json").read_text())
    assert set(check_answers.DEFAULT_TOLERANCES) <= set(baseline)
    keys = {question.key for question in questions}
    assert set(baseline["correct"]) <= keys, "the baseline names questions that are no longer held out"


def test_no_example_is_duplicated_anywhere_in_the_nlu_data():
    mine = {line.lower() for lines in nlu_examples(NLU).values() for line in lines}
    counts: Counter[str] = Counter()
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for lines in nlu_examples(path).values():
            counts.update(line.lower() for line in lines)
    assert {line for line in mine if counts[line] > 1} == set()
