"""`make check-answers` against the running test bot: every held-out FAQ
question is asked; no regression against tests/nlu/check_answers_baseline.json."""

from __future__ import annotations

import csv

import pytest

from scripts import check_answers

pytestmark = pytest.mark.e2e


def test_held_out_questions_have_no_regression(bot, tmp_path, capsys):
    report = tmp_path / "check_answers.csv"
    status = check_answers.main(["--url", bot.rasa_url, "--report", str(report)])
    output = capsys.readouterr().out
    assert status == 0, output[-6000:]
    questions, _ = check_answers.read_heldout(check_answers.ROOT / "tests" / "nlu")
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(questions)
    assert {row["outcome"] for row in rows} <= {"correct", "wrong", "unsure", "none"}
    assert "no regression against the baseline" in output
