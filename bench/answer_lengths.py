"""How long is the first message of every answer? (issue 20: short answer first)

Runs the real answer actions on in-memory copies of the content files (no Rasa server,
no database) and counts the words of the first message each one sends:

- every FAQ topic (data/content/faq), as if its "Did you mean" button was clicked;
- every state x {dry needling for physical therapists, dry needling for chiropractors,
  acupuncture licensing}, and the five state-list answers (data/legal);
- every treatment x condition expectations answer (data/evidence).

The "first message" is the ``text`` of the first message the action dispatches (what the
REST channel returns first and what the widget, SMS and Telegram show before anything else).

    PYTHONPATH=$PWD python bench/answer_lengths.py            # table of medians and p90
    PYTHONPATH=$PWD python bench/answer_lengths.py --json     # the same as JSON
    PYTHONPATH=$PWD python bench/answer_lengths.py --longest 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import statistics
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.expectations import ActionAnswerExpectations
from actions.faq import ActionAnswerFaq
from actions.legal import ActionAnswerLegal, ActionListLegalStates
from actions.rendering import CHOOSE_TOPIC_INTENT
from actions.settings import PROJECT_ROOT, SafetySettings, get_settings
from actions.store.content import read_faq_content
from actions.store.evidence_data import read_evidence_table
from actions.store.evidence_repository import InMemoryEvidenceRepository
from actions.store.faq_repository import InMemoryFaqRepository
from actions.store.legal_data import read_legal_data
from actions.store.legal_repository import InMemoryLegalRepository

DATA = PROJECT_ROOT / "data"
TODAY = date(2026, 12, 6)
SAFETY = SafetySettings(tracker_store_url="sqlite://", retention_days=30)
LIST_QUESTIONS = {
    "dry needling: where banned": ("which states ban dry needling", "dry needling"),
    "dry needling: not addressed": ("where is dry needling not regulated", "dry needling"),
    "dry needling: allowed": ("where is dry needling allowed", "dry needling"),
    "dry needling: overview": ("dry needling by state", "dry needling"),
    "acupuncture: unlicensed states": ("which states license acupuncturists", "acupuncture"),
}


@dataclass(frozen=True)
class Measured:
    family: str
    key: str
    words: int


def word_count(text: str | None) -> int:
    return len((text or "").split())


def percentile(values: list[int], share: float) -> float:
    """Nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def tracker(latest: dict[str, Any], slots: dict[str, Any] | None = None) -> Tracker:
    return Tracker(
        sender_id="answer-lengths",
        slots=slots or {},
        latest_message={"entities": [], **latest},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def first_text(action: Action, state: Tracker) -> str | None:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages[0].get("text") if dispatcher.messages else None


def measure_faq() -> Iterator[Measured]:
    answers = read_faq_content(DATA / "content").answers
    repository = InMemoryFaqRepository(answers)
    settings = dataclasses.replace(get_settings(), staff_inspector=False)

    @contextmanager
    def factory() -> Iterator[InMemoryFaqRepository]:
        yield repository

    action = ActionAnswerFaq(repository_factory=factory, settings=settings, safety_settings=SAFETY)
    for answer in answers:
        latest = {
            "text": f"/{CHOOSE_TOPIC_INTENT}",
            "intent": {"name": CHOOSE_TOPIC_INTENT, "confidence": 1.0},
            "entities": [{"entity": "topic_key", "value": answer.key}],
        }
        yield Measured("faq", answer.key, word_count(first_text(action, tracker(latest))))


def measure_legal() -> Iterator[Measured]:
    dataset = read_legal_data(DATA, today=TODAY)
    repository = InMemoryLegalRepository.from_dataset(dataset)
    answer = ActionAnswerLegal(
        repository_factory=lambda: nullcontext(repository),
        today=lambda: TODAY,
        max_age=12,
        safety_settings=SAFETY,
    )
    latest = {"text": "", "intent": {"name": "inform_state", "confidence": 1.0}}
    for rule in dataset.dry_needling:
        for practitioner in (None, "chiropractor"):
            slots = {
                "us_state": rule.state_code,
                "legal_question": "dry_needling",
                "legal_practitioner": practitioner,
            }
            who = practitioner or "physical_therapist"
            text = first_text(answer, tracker(latest, slots))
            yield Measured("legal", f"dry_needling:{rule.state_code}:{who}", word_count(text))
    for row in dataset.acupuncture:
        slots = {"us_state": row.state_code, "legal_question": "acupuncture"}
        text = first_text(answer, tracker(latest, slots))
        yield Measured("legal", f"acupuncture:{row.state_code}", word_count(text))
    lists = ActionListLegalStates(repository_factory=lambda: nullcontext(repository))
    for name, (question, treatment) in LIST_QUESTIONS.items():
        state = tracker(
            {
                "text": question,
                "intent": {"name": "ask_legal_state_list", "confidence": 1.0},
                "entities": [{"entity": "treatment", "value": treatment}],
            }
        )
        yield Measured("legal", f"list:{name}", word_count(first_text(lists, state)))


def measure_expectations() -> Iterator[Measured]:
    table = read_evidence_table(DATA / "evidence")
    repository = InMemoryEvidenceRepository(table.rows)
    action = ActionAnswerExpectations(
        repository_factory=lambda: nullcontext(repository), safety_settings=SAFETY
    )
    latest = {"text": "/inform_condition", "intent": {"name": "inform_condition", "confidence": 1.0}}
    for row in table.rows:
        slots = {"expect_treatment": row.treatment, "expect_condition": row.condition}
        text = first_text(action, tracker(latest, slots))
        yield Measured("expectations", f"{row.treatment}:{row.condition}", word_count(text))


def summary(measured: list[Measured]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[int]] = {"all": [m.words for m in measured]}
    for item in measured:
        groups.setdefault(item.family, []).append(item.words)
    return {
        name: {
            "answers": len(values),
            "median": float(statistics.median(values)),
            "p90": percentile(values, 0.9),
            "max": float(max(values)),
        }
        for name, values in groups.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--longest", type=int, default=0, help="also list the N longest first messages")
    args = parser.parse_args(argv)
    measured = [*measure_faq(), *measure_legal(), *measure_expectations()]
    figures = summary(measured)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{'answers':<14}{'n':>5}{'median':>9}{'p90':>7}{'max':>7}")
        for name, row in figures.items():
            print(f"{name:<14}{row['answers']:>5}{row['median']:>9.1f}{row['p90']:>7.0f}{row['max']:>7.0f}")
    for item in sorted(measured, key=lambda m: m.words, reverse=True)[: args.longest]:
        print(f"{item.words:>5}  {item.family}  {item.key}")


if __name__ == "__main__":
    main()
