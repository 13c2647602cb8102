"""scripts/check_independent.py: what a turn's tracker events say the bot did, and the verdict."""

from __future__ import annotations

import csv

import pytest

from scripts.check_independent import Case, Turn, expected, outcome_of, verdict, write_csv


def events(*actions: str, **slots: str) -> list[dict]:
    return [{"event": "action", "name": a} for a in actions] + [
        {"event": "slot", "name": k, "value": v} for k, v in slots.items()
    ]


@pytest.mark.parametrize(
    ("turn_events", "replies", "outcome"),
    [
        (events("action_answer_faq", last_topic="cost"), [], "faq:cost"),
        (
            events("action_answer_faq"),
            [{"buttons": [{"payload": '/choose_topic{"topic_key": "cost"}'}]}],
            "unsure",
        ),
        (events("action_answer_faq"), [], "none"),
        (
            events("state_form", "action_answer_legal", legal_question="dry_needling", us_state="OH"),
            [],
            "legal:dry_needling:OH",
        ),
        (events("state_form"), [], "ask_state"),
        (events("expectations_form"), [], "expectations"),
        (events("action_red_flag_triage"), [], "safety"),
        (events("action_reply_other_language"), [], "other:action_reply_other_language"),
        (events("utter_ask_rephrase"), [], "none"),
        # An unclear short follow-up answered from the conversation, or asked again.
        (events("action_answer_unclear", last_topic="cost"), [], "faq:cost"),
        (events("action_answer_unclear"), [], "none"),
        (
            events("action_answer_unclear", legal_question="acupuncture", us_state="WY"),
            [],
            "legal:acupuncture:WY",
        ),
        # "how long has that been the law" the classifier was sure of as an FAQ question.
        (
            events("action_answer_faq", legal_question="acupuncture", us_state="WY"),
            [],
            "legal:acupuncture:WY",
        ),
    ],
)
def test_outcome_of_a_turn(turn_events, replies, outcome):
    assert outcome_of(turn_events, replies) == outcome


def test_a_theme_not_covered_yet_is_its_own_outcome_and_no_wrong_answer():
    outcome = outcome_of(events("action_handoff"), [], "ask_not_covered_yet")
    assert outcome == "not_covered"
    assert outcome_of(events("action_handoff"), [], "request_human") == "other:action_handoff"
    assert verdict(Turn("how much is it", "cost"), outcome) == "none"
    assert verdict(Turn("what should i wear", None), outcome) == "uncovered_not_answered"


def test_verdicts():
    faq = Turn("how much is it", "cost")
    assert expected(faq) == "faq:cost"
    assert [verdict(faq, o) for o in ("faq:cost", "faq:insurance_coverage", "unsure", "ask_state")] == [
        "right",
        "wrong",
        "unsure",
        "none",
    ]
    legal = Turn("dn in ohio?", "dry_needling_legality", "dry_needling", "OH")
    assert verdict(legal, "legal:dry_needling:OH") == "right" and verdict(legal, "legal:?:OH") == "wrong"
    uncovered = Turn("what should i wear", None)
    assert verdict(uncovered, "faq:cost") == "uncovered_answered"
    assert verdict(uncovered, "none") == "uncovered_not_answered"


def test_the_csv_quotes_cells_a_spreadsheet_would_run(tmp_path):
    case = Case("faq", "q1", [Turn("=1+1", "cost")], outcomes=["faq:cost"], replies=["+ a reply"])
    write_csv(tmp_path / "independent.csv", [case])
    with (tmp_path / "independent.csv").open(newline="", encoding="utf-8") as handle:
        _, row = list(csv.reader(handle))
    assert row == ["faq", "q1", "1", "'=1+1", "faq:cost", "faq:cost", "right", "'+ a reply"]
