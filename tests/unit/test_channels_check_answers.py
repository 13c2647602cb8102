"""scripts/check_answers.py without a server: reading held-out files, telling
which topic a reply answered, and deciding what is a regression."""

from __future__ import annotations

import csv

import pytest

from scripts.check_answers import (
    Question,
    Result,
    classify,
    compare,
    read_heldout,
    spreadsheet_cell,
    spreadsheet_row,
    write_report,
)

ANSWERS = {
    "dry_needling_what_is": "Dry needling is a technique.\nSecond line.",
    "acupuncture_what_is": "Acupuncture is a treatment.",
}
QUESTION = Question("dry_needling_what_is", "what is DN", "x.yml")


def test_held_out_files_give_faq_questions_and_skip_other_intents(tmp_path):
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/cost\n  examples: |\n    - how much is it\n'
        "    - is [acupuncture](treatment) cheap\n- intent: ask_legality\n  examples: |\n    - is it legal\n"
    )
    questions, skipped = read_heldout(tmp_path)
    assert questions == [
        Question("cost", "how much is it", "a.yml"),
        Question("cost", "is acupuncture cheap", "a.yml"),
    ]
    assert skipped == {"ask_legality": 1}


@pytest.mark.parametrize(
    ("replies", "outcome", "answered", "offered"),
    [
        ([{"text": "Dry needling is a technique."}, {"text": "Second line."}], "none", "", []),
        ([{"text": "Dry needling is a technique.\nSecond line."}, {"text": "Sources: ..."}], "correct",
         "dry_needling_what_is", []),
        ([{"text": "Acupuncture is a treatment."}], "wrong", "acupuncture_what_is", []),
        ([{"text": "Anything"}, {"text": "[staff] topic=dry_needling_what_is | confidence=0.91"}], "correct",
         "dry_needling_what_is", []),
        ([{"text": "Did you mean:", "buttons": [
            {"title": "A", "payload": '/choose_topic{"topic_key": "acupuncture_what_is"}'},
            {"title": "Something else", "payload": "/something_else"}]}],
         "unsure", "", ["acupuncture_what_is"]),
        ([{"text": "Sorry, I didn't quite understand that."}], "none", "", []),
        ([], "none", "", []),
    ],
)  # fmt: skip
def test_classify(replies, outcome, answered, offered):
    result = classify(QUESTION, replies, ANSWERS)
    assert (result.outcome, result.answered, result.offered) == (outcome, answered, offered)


def results(outcomes: dict[str, str]) -> list[Result]:
    return [Result(Question("t", text, "x.yml"), outcome) for text, outcome in outcomes.items()]


def shares(items: list[Result]) -> dict[str, float]:
    return {
        o: sum(r.outcome == o for r in items) / len(items) for o in ("correct", "wrong", "unsure", "none")
    }


def test_compare_allows_a_few_changes_but_not_regressions():
    baseline = {"allowed_regressions": 1, "min_correct_share": 0.5, "max_wrong_share": 0.3,
                "correct": ["t|q1", "t|q2", "t|q3", "t|gone"]}  # fmt: skip
    one_lost = results({"q1": "correct", "q2": "correct", "q3": "unsure", "q4": "correct"})
    assert compare(one_lost, shares(one_lost), baseline) == []
    two_lost = results({"q1": "correct", "q2": "none", "q3": "wrong", "q4": "correct"})
    problems = compare(two_lost, shares(two_lost), baseline)
    assert len(problems) == 1 and problems[0].startswith("2 questions answered correctly in the baseline")
    many_wrong = results({"q1": "correct", "q2": "correct", "q3": "correct", "q4": "wrong", "q5": "wrong"})
    assert compare(many_wrong, shares(many_wrong), baseline) == ["wrong share 40.0% > 30%"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("what is dry needling?", "what is dry needling?"),
        ("a = b - c", "a = b - c"),  # only the first character counts
        ("", ""),
        ("'=already quoted", "'=already quoted"),
        (3, 3),  # numbers and other values are the program's own: left as they are
        (None, None),
    ],
)
def test_spreadsheet_cell_quotes_what_a_spreadsheet_would_run(value, cell):
    assert spreadsheet_cell(value) == cell
    assert spreadsheet_row([value, "ok"]) == [cell, "ok"]


def test_the_report_csv_has_no_formula_cells(tmp_path):
    question = Question("cost", "=cmd|' /C calc'!A0", "-held_out.yml")
    result = Result(question, "none", answered="@x", offered=["+a", "b"], reply="-1 reply")
    write_report(tmp_path / "report.csv", [result])
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    assert header[0] == "topic"
    assert row == ["cost", "'=cmd|' /C calc'!A0", "none", "'@x", "'+a b", "'-1 reply", "'-held_out.yml"]
