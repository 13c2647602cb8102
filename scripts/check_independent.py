"""Ask a private bot the independent NLU set (issue 18) and score what it did, turn by turn.

The set (tests/nlu/independent_*.yml) was written by someone who never saw the training
data or the answers, and is frozen. Every question (or conversation) goes through the
REST channel as a new visitor; after each turn the tracker (HTTP API, with a token) says
what the bot did:

  faq:<key>                 action_answer_faq (or action_answer_unclear) answered topic <key>
  unsure                    "Did you mean" choices
  legal:<question>:<state>  action_answer_legal, for dry_needling or acupuncture, in a state
  ask_state                 the bot asked which state
  expectations              the expectations feature answered or started asking
  safety                    triage guidance or the check-in
  other:<action>            another feature (credentials, handoff, ...)
  none                      a request to rephrase, or nothing

Expected outcomes come from the labels: ``topic`` is an FAQ key, ``expectations``,
``dry_needling_legality`` / ``acupuncture_licensure`` (with ``state``), or null (a theme
the bot does not cover yet: reported apart). Prints the shares per file, per topic and per
treatment, writes results/independent_check.csv and, with --json, a summary file.

Usage: python scripts/check_independent.py [--model models/headache-faq.tar.gz] [--workers 4]
       [--json results/independent_check.json] [--only faq|followups|states|non_english]
"""

from __future__ import annotations

import argparse
import csv
import json
import secrets
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.safety.texts import NOT_COVERED_INTENT  # noqa: E402
from channels.base import REST, conversation_id  # noqa: E402
from scripts.check_answers import (  # noqa: E402
    DEFAULT_MODEL,
    BotUnreachable,
    ask,
    private_bot,
    spreadsheet_row,
)

SET_DIR = ROOT / "tests" / "nlu"
DEFAULT_REPORT = ROOT / "results" / "independent_check.csv"
LEGAL_TOPICS = {"dry_needling_legality": "dry_needling", "acupuncture_licensure": "acupuncture"}
SAFETY_ACTIONS = {"action_red_flag_triage", "action_triage_check_in"}
EXPECTATION_ACTIONS = {
    "action_answer_expectations",
    "action_ask_expect_treatment",
    "action_ask_expect_condition",
}


@dataclass(frozen=True)
class Turn:
    text: str
    topic: str | None
    treatment: str | None = None
    state: str | None = None


@dataclass
class Case:
    """One independent question, or one conversation of several turns."""

    file: str
    id: str
    turns: list[Turn]
    language: str | None = None
    outcomes: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


def load_cases(directory: Path = SET_DIR) -> list[Case]:
    """Every item of the four independent files."""
    cases: list[Case] = []

    def turn(item: dict[str, Any]) -> Turn:
        return Turn(str(item["text"]), item.get("topic"), item.get("treatment"), item.get("state"))

    faq = yaml.safe_load((directory / "independent_faq.yml").read_text(encoding="utf-8"))
    cases += [Case("faq", str(i["id"]), [turn(i)]) for i in faq["questions"]]
    states = yaml.safe_load((directory / "independent_states.yml").read_text(encoding="utf-8"))
    cases += [Case("states", str(i["id"]), [turn(i)]) for i in states["questions"]]
    followups = yaml.safe_load((directory / "independent_followups.yml").read_text(encoding="utf-8"))
    cases += [
        Case("followups", str(c["id"]), [turn(t) for t in c["turns"]]) for c in followups["conversations"]
    ]
    other_path = directory / "independent_non_english.yml"
    other = (
        yaml.safe_load(other_path.read_text(encoding="utf-8")) if other_path.exists() else {"messages": []}
    )
    cases += [
        Case("non_english", str(i["id"]), [Turn(str(i["text"]), None)], language=str(i["language"]))
        for i in other["messages"]
    ]
    return cases


def tracker_events(url: str, token: str, sender: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"token": token})
    # The REST visitor ``sender`` is the conversation "rest:<sender>" (channels.base).
    conversation = urllib.parse.quote(conversation_id(REST, sender), safe=":")
    address = f"{url.rstrip('/')}/conversations/{conversation}/tracker?{query}"
    with urllib.request.urlopen(address, timeout=60) as response:
        return list(json.loads(response.read()).get("events") or [])


def outcome_of(
    events: Sequence[dict[str, Any]], replies: Sequence[dict[str, Any]], intent: str | None = None
) -> str:
    """What the bot did in one turn (the events after the turn's user message, whose intent
    is ``intent``)."""
    actions = [e.get("name") for e in events if e.get("event") == "action"]
    slots = {e.get("name"): e.get("value") for e in events if e.get("event") == "slot"}
    if SAFETY_ACTIONS & set(actions):
        return "safety"
    # "since when?" after a legal answer: action_answer_unclear (or action_answer_faq, when the
    # classifier was sure of an FAQ answer) gives that answer again.
    if "action_answer_legal" in actions or (
        {"action_answer_unclear", "action_answer_faq"} & set(actions) and slots.get("legal_question")
    ):
        return f"legal:{slots.get('legal_question') or '?'}:{slots.get('us_state') or '?'}"
    if "state_form" in actions:
        return "ask_state"
    if EXPECTATION_ACTIONS & set(actions) or "expectations_form" in actions:
        return "expectations"
    if {"action_answer_faq", "action_answer_unclear"} & set(actions):
        if slots.get("last_topic"):
            return f"faq:{slots['last_topic']}"
        if any("choose_topic" in str(b.get("payload")) for r in replies for b in r.get("buttons") or []):
            return "unsure"
        return "none"
    if intent == NOT_COVERED_INTENT and "action_handoff" in actions:
        return "not_covered"
    custom = [a for a in actions if a and a not in ("action_listen",) and not str(a).startswith("utter_")]
    if custom:
        return f"other:{custom[-1]}"
    return "none"


def expected(turn: Turn) -> str | None:
    """The outcome a right answer has, or None for a theme the bot does not cover."""
    if turn.topic is None:
        return None
    if turn.topic == "expectations":
        return "expectations"
    if turn.topic in LEGAL_TOPICS:
        return f"legal:{LEGAL_TOPICS[turn.topic]}:{turn.state}"
    return f"faq:{turn.topic}"


def verdict(turn: Turn, outcome: str) -> str:
    """right / wrong / unsure / none, for one turn."""
    want = expected(turn)
    if want is None:
        return "uncovered_answered" if outcome.startswith(("faq:", "legal:")) else "uncovered_not_answered"
    if outcome == want:
        return "right"
    if outcome == "unsure":
        return "unsure"
    # "No reviewed answer about that yet" is not a wrong answer: it answers nothing.
    if outcome in ("none", "ask_state", "not_covered"):
        return "none"
    return "wrong"


def run_case(url: str, token: str, run_id: str, case: Case) -> Case:
    sender = f"independent-{run_id}-{case.file}-{case.id}"
    seen = 0
    for turn in case.turns:
        replies = ask(url, sender, turn.text)
        events = tracker_events(url, token, sender)
        user_positions = [i for i, e in enumerate(events) if e.get("event") == "user"]
        this_turn = events[user_positions[-1] + 1 :] if user_positions else events[seen:]
        intent = (
            ((events[user_positions[-1]].get("parse_data") or {}).get("intent") or {}).get("name")
            if user_positions
            else None
        )
        seen = len(events)
        case.outcomes.append(outcome_of(this_turn, replies, intent))
        case.replies.append(" ".join(" ".join(str(r.get("text") or "") for r in replies).split())[:160])
    return case


def summarise(cases: Sequence[Case]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for file in ("faq", "states", "followups"):
        verdicts = Counter(
            verdict(turn, outcome)
            for case in cases
            if case.file == file
            for turn, outcome in zip(case.turns, case.outcomes, strict=True)
        )
        covered = sum(verdicts[v] for v in ("right", "wrong", "unsure", "none"))
        summary[file] = {
            "turns": sum(verdicts.values()),
            "covered_turns": covered,
            **{v: verdicts[v] for v in ("right", "wrong", "unsure", "none")},
            **{
                f"{v}_share": round(verdicts[v] / covered, 3) if covered else 0
                for v in ("right", "wrong", "unsure")
            },
            "uncovered_answered": verdicts["uncovered_answered"],
            "uncovered_not_answered": verdicts["uncovered_not_answered"],
            "uncovered_said_not_covered": sum(
                turn.topic is None and outcome == "not_covered"
                for case in cases
                if case.file == file
                for turn, outcome in zip(case.turns, case.outcomes, strict=True)
            ),
        }
    conversations = [c for c in cases if c.file == "followups"]
    whole = sum(
        all(
            verdict(t, o) in ("right", "uncovered_not_answered")
            for t, o in zip(c.turns, c.outcomes, strict=True)
        )
        for c in conversations
    )
    summary["followups"]["conversations_all_right"] = whole
    summary["followups"]["conversations"] = len(conversations)
    foreign = [c for c in cases if c.file == "non_english"]
    summary["non_english"] = {
        "messages": len(foreign),
        "replied_in_their_language": sum(
            c.outcomes[0] == "other:action_reply_other_language" for c in foreign
        ),
        "did_you_mean": sum(c.outcomes[0] == "unsure" for c in foreign),
        "answered_in_english": sum(c.outcomes[0].startswith(("faq:", "legal:")) for c in foreign),
        "other": sum(
            not c.outcomes[0].startswith(("faq:", "legal:", "unsure", "other:action_reply_other_language"))
            for c in foreign
        ),
    }
    return summary


def print_report(cases: Sequence[Case], summary: dict[str, Any]) -> None:
    for file in ("faq", "states", "followups"):
        s = summary[file]
        print(
            f"{file}: {s['covered_turns']} turns with an answer today: "
            f"right {s['right']} ({s['right_share']:.1%}), wrong {s['wrong']} ({s['wrong_share']:.1%}), "
            f"did-you-mean {s['unsure']} ({s['unsure_share']:.1%}), "
            f"no answer {s['none']}; themes not covered yet: {s['uncovered_answered']} got some answer, "
            f"{s['uncovered_not_answered']} none "
            f"({s['uncovered_said_not_covered']} told it is not covered yet)"
        )
    f = summary["followups"]
    print(f"followups: {f['conversations_all_right']}/{f['conversations']} conversations right in every turn")
    n = summary["non_english"]
    print(
        f"non_english: {n['messages']} messages: told in their language {n['replied_in_their_language']}, "
        f"did-you-mean {n['did_you_mean']}, "
        f"an English answer {n['answered_in_english']}, other {n['other']}"
    )
    by_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        if case.file == "faq":
            turn = case.turns[0]
            by_topic[str(turn.topic)][verdict(turn, case.outcomes[0])] += 1
    print("\nFAQ set per topic (right / asked):")
    for topic, counts in sorted(
        by_topic.items(), key=lambda kv: kv[1]["right"] / max(1, sum(kv[1].values()))
    ):
        if topic != "None":
            print(f"  {topic:<34} {counts['right']:>3} / {sum(counts.values())}")


def write_csv(path: Path, cases: Sequence[Case]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "id", "turn", "text", "expected", "outcome", "verdict", "reply_start"])
        for case in cases:
            for index, (turn, outcome, reply) in enumerate(
                zip(case.turns, case.outcomes, case.replies, strict=True)
            ):
                row = [
                    case.file,
                    case.id,
                    index + 1,
                    turn.text,
                    expected(turn) or "",
                    outcome,
                    verdict(turn, outcome),
                ]
                writer.writerow(spreadsheet_row([*row, reply]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--json", type=Path, help="also write the summary as JSON")
    parser.add_argument("--only", choices=["faq", "states", "followups", "non_english"], action="append")
    parser.add_argument(
        "--set-dir", type=Path, default=SET_DIR, help="a folder with the same four files (e.g. a fresh set)"
    )
    args = parser.parse_args(argv)
    cases = [c for c in load_cases(args.set_dir) if not args.only or c.file in args.only]
    token = secrets.token_urlsafe(24)
    run_id = time.strftime("%Y%m%d%H%M%S")
    started = time.monotonic()
    try:
        with (
            private_bot(args.model, api_token=token) as url,
            ThreadPoolExecutor(max(1, args.workers)) as pool,
        ):
            cases = list(pool.map(lambda case: run_case(url, token, run_id, case), cases))
    except BotUnreachable as error:
        print(f"check-independent: {error}", file=sys.stderr)
        return 2
    summary = summarise(cases)
    print_report(cases, summary)
    write_csv(args.report, cases)
    print(f"\nreport: {args.report} ({time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
