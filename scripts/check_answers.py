"""Ask the running bot every held-out question and report, per topic, which
ones got a wrong answer or none (`make check-answers`).

Each question in tests/nlu/*.yml (``intent: faq/<topic>``) is sent through the
bot's REST channel as a new conversation, exactly as a visitor would ask it.
The reply is matched to the topic whose answer text it contains (or read from
the staff inspector's "[staff] topic=..." line when that is on). Outcomes:

  correct   the expected topic's answer
  wrong     another topic's answer (the worst case: a confident wrong answer)
  unsure    "Did you mean" offered choices (``offered`` says if the right one was among them)
  none      no FAQ answer (asked to rephrase, out of scope, another feature answered...)

Prints the wrong/unsure/none questions per topic, writes a CSV for staff
(default results/check_answers.csv) and compares with the committed baseline
tests/nlu/check_answers_baseline.json. Exit status 1 (a regression) when:

- more than ``allowed_regressions`` questions the baseline answered correctly no
  longer are (training is not bit-for-bit reproducible, hence a small allowance);
- the share of correct answers falls below ``min_correct_share``;
- the share of wrong answers rises above ``max_wrong_share``.

Exit status 2: the bot could not be reached or the input files are invalid.
After a deliberate change (new questions, retrained model) staff run
``make check-answers ARGS=--update-baseline`` and commit the baseline.

With --start-if-down, a bot that is not running at --url is started for the
check (action server + Rasa server on free ports, --model, conversations kept
in memory only) and stopped afterwards.

Usage: python scripts/check_answers.py [--url http://localhost:5005] [--start-if-down]
       [--model models/headache-faq.tar.gz] [--report PATH] [--baseline PATH]
       [--update-baseline] [--workers 4]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.store.content import ContentError, read_faq_content  # noqa: E402
from insights.spreadsheet import spreadsheet_cell, spreadsheet_row  # noqa: E402, F401  (re-exported)
from scripts.servers import SERVER_ENV, start_bot  # noqa: E402

DEFAULT_BASELINE = ROOT / "tests" / "nlu" / "check_answers_baseline.json"
DEFAULT_REPORT = ROOT / "results" / "check_answers.csv"
DEFAULT_MODEL = ROOT / "models" / "headache-faq.tar.gz"
DEFAULT_TOLERANCES = {"allowed_regressions": 10, "min_correct_share": 0.55, "max_wrong_share": 0.1}
START_TIMEOUT_S = 300
ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]*\}")
STAFF_TOPIC = re.compile(r"\[staff\] topic=([a-z0-9_]+)")
CHOICE_PAYLOAD = re.compile(r'"topic_key"\s*:\s*"([a-z0-9_]+)"')


@dataclass(frozen=True)
class Question:
    """One held-out question and the topic it should get."""

    topic: str
    text: str
    source: str

    @property
    def key(self) -> str:
        return f"{self.topic}|{self.text}"


@dataclass
class Result:
    """What the bot did with one question."""

    question: Question
    outcome: str
    answered: str = ""
    offered: list[str] = field(default_factory=list)
    reply: str = ""


class BotUnreachable(RuntimeError):
    """The Rasa server did not answer."""


def read_heldout(directory: Path) -> tuple[list[Question], Counter[str]]:
    """FAQ questions from every tests/nlu/*.yml, and how many other examples were skipped per intent."""
    questions: list[Question] = []
    skipped: Counter[str] = Counter()
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise ValueError(f"no held-out files in {directory}")
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent = str(block.get("intent") or "")
            examples = [
                ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:]).strip()
                for line in str(block.get("examples") or "").splitlines()
                if line.strip().startswith("- ")
            ]
            if intent.startswith("faq/"):
                questions.extend(Question(intent[4:], text, path.name) for text in examples if text)
            elif intent:
                skipped[intent] += len(examples)
    return questions, skipped


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/", timeout=3):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def private_bot(model: Path, api_token: str | None = None) -> Iterator[str]:
    """Start an action server and a Rasa server for this check; yield the Rasa URL.

    Conversations are kept in memory only (no tracker store in its endpoints). With
    ``api_token`` the Rasa server's HTTP API is on (trackers can be read with the token)."""
    if not model.exists():
        raise BotUnreachable(f"{model} is missing: run `make train`")
    env = {**os.environ, **SERVER_ENV}
    with tempfile.TemporaryDirectory(prefix="check-answers-") as workdir:
        print(f"starting a bot for the check ({model.name}; about a minute)...", flush=True)
        try:
            bot = start_bot(
                Path(workdir),
                model,
                env,
                rasa_args=["--enable-api", f"--auth-token={api_token}"] if api_token else [],
                endpoints_source=None,
                timeout=START_TIMEOUT_S,
                interval=1,
            )
        except RuntimeError as error:
            raise BotUnreachable(f"the bot did not start:\n{error}") from error
        try:
            yield bot.rasa_url
        finally:
            bot.stop()


def ask(url: str, sender: str, text: str, timeout: float = 60) -> list[dict[str, Any]]:
    """One REST turn; the bot's messages."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            replies = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise BotUnreachable(f"{url}: {error}") from error
    return replies if isinstance(replies, list) else []


def classify(question: Question, replies: Sequence[dict[str, Any]], answers: dict[str, str]) -> Result:
    """Which topic the bot answered (if any) for ``question``."""
    texts = [str(reply.get("text") or "") for reply in replies]
    joined = "\n\n".join(texts)
    reply_start = " ".join(joined.split())[:160]
    staff = next((m.group(1) for t in texts if (m := STAFF_TOPIC.search(t))), None)
    answered = staff
    if answered is None:
        # REST splits a message at blank lines; joined again, an answer's text is whole.
        matches = [key for key, text in answers.items() if text and text in joined]
        answered = max(matches, key=lambda key: len(answers[key])) if matches else None
    if answered is not None:
        outcome = "correct" if answered == question.topic else "wrong"
        return Result(question, outcome, answered=answered, reply=reply_start)
    offered = [
        match.group(1)
        for reply in replies
        for button in reply.get("buttons") or []
        if (match := CHOICE_PAYLOAD.search(str(button.get("payload") or "")))
    ]
    if offered:
        return Result(question, "unsure", offered=offered, reply=reply_start)
    return Result(question, "none", reply=reply_start)


def run(url: str, questions: Sequence[Question], answers: dict[str, str], workers: int) -> list[Result]:
    """Every question in a new conversation of its own."""
    run_id = time.strftime("%Y%m%d%H%M%S")

    def one(item: tuple[int, Question]) -> Result:
        index, question = item
        return classify(question, ask(url, f"check-answers-{run_id}-{index}", question.text), answers)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, enumerate(questions)))


# spreadsheet_cell / spreadsheet_row (formula-safe CSV cells) live in insights.spreadsheet.


def write_report(path: Path, results: Iterable[Result]) -> None:
    """The staff CSV: one row per question."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["topic", "question", "outcome", "answered_topic", "offered_topics", "reply_start", "file"]
        )
        for result in sorted(results, key=lambda r: (r.question.topic, r.question.text)):
            writer.writerow(
                spreadsheet_row(
                    [
                        result.question.topic,
                        result.question.text,
                        result.outcome,
                        result.answered,
                        " ".join(result.offered),
                        result.reply,
                        result.question.source,
                    ]
                )
            )


def describe(result: Result) -> str:
    if result.outcome == "wrong":
        return f"WRONG -> {result.answered}"
    if result.outcome == "unsure":
        hit = "right topic offered" if result.question.topic in result.offered else "right topic NOT offered"
        return f"did you mean ({hit}: {', '.join(result.offered)})"
    return f"no answer: {result.reply[:70]!r}"


def print_summary(results: Sequence[Result], skipped: Counter[str]) -> dict[str, float]:
    by_topic: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_topic[result.question.topic].append(result)
    for topic in sorted(by_topic):
        items = by_topic[topic]
        correct = sum(r.outcome == "correct" for r in items)
        problems = [r for r in items if r.outcome != "correct"]
        print(f"{topic}: {correct}/{len(items)} correct")
        for result in problems:
            print(f"    {result.question.text!r}: {describe(result)}")
    counts = Counter(result.outcome for result in results)
    total = max(1, len(results))
    shares = {outcome: counts[outcome] / total for outcome in ("correct", "wrong", "unsure", "none")}
    print(
        f"\n{len(results)} questions: {counts['correct']} correct ({shares['correct']:.0%}), "
        f"{counts['wrong']} wrong ({shares['wrong']:.0%}), {counts['unsure']} did-you-mean, "
        f"{counts['none']} no answer"
    )
    if skipped:
        listed = ", ".join(f"{intent} ({count})" for intent, count in sorted(skipped.items()))
        print(f"not checked here (not FAQ topics): {listed}")
    return shares


def compare(results: Sequence[Result], shares: dict[str, float], baseline: dict[str, Any]) -> list[str]:
    """The reasons this run is a regression (empty when it is not)."""
    tolerances = {**DEFAULT_TOLERANCES, **{k: v for k, v in baseline.items() if k in DEFAULT_TOLERANCES}}
    now_correct = {r.question.key for r in results if r.outcome == "correct"}
    asked = {r.question.key for r in results}
    lost = sorted(key for key in baseline.get("correct", []) if key in asked and key not in now_correct)
    problems = []
    if len(lost) > tolerances["allowed_regressions"]:
        problems.append(
            f"{len(lost)} questions answered correctly in the baseline no longer are "
            f"(allowed: {tolerances['allowed_regressions']}):\n"
            + "\n".join(f"    {key.replace('|', ': ', 1)}" for key in lost)
        )
    elif lost:
        print(f"note: {len(lost)} baseline question(s) no longer correct (within the allowance):")
        for key in lost:
            print(f"    {key.replace('|', ': ', 1)}")
    if shares["correct"] < tolerances["min_correct_share"]:
        problems.append(f"correct share {shares['correct']:.1%} < {tolerances['min_correct_share']:.0%}")
    if shares["wrong"] > tolerances["max_wrong_share"]:
        problems.append(f"wrong share {shares['wrong']:.1%} > {tolerances['max_wrong_share']:.0%}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5005", help="the running Rasa server")
    parser.add_argument("--start-if-down", action="store_true", help="start a bot if none answers at --url")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model for --start-if-down")
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests" / "nlu")
    parser.add_argument("--content", type=Path, default=ROOT / "data" / "content")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--update-baseline", action="store_true", help="record this run as the new baseline")
    parser.add_argument("--workers", type=int, default=4, help="questions asked at the same time")
    args = parser.parse_args(argv)

    try:
        questions, skipped = read_heldout(args.heldout)
        content = read_faq_content(args.content)
    except (ValueError, ContentError, yaml.YAMLError) as error:
        print(f"check-answers: cannot read the inputs: {error}", file=sys.stderr)
        return 2
    answers = {answer.key: answer.text for answer in content.answers}
    unknown = sorted({q.topic for q in questions} - set(answers))
    if unknown:
        print(
            f"check-answers: held-out topics with no answer in {args.content}: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 2

    try:
        with contextlib.ExitStack() as stack:
            url = args.url
            if args.start_if_down and not is_up(url):
                url = stack.enter_context(private_bot(args.model))
            started = time.monotonic()
            results = run(url, questions, answers, args.workers)
    except BotUnreachable as error:
        print(f"check-answers: the bot is not reachable ({error}); start it with `make run`", file=sys.stderr)
        return 2
    shares = print_summary(results, skipped)
    write_report(args.report, results)
    print(f"report: {args.report} ({time.monotonic() - started:.0f} s)")

    if args.update_baseline:
        old = json.loads(args.baseline.read_text()) if args.baseline.exists() else {}
        baseline = {
            **DEFAULT_TOLERANCES,
            **{k: v for k, v in old.items() if k in DEFAULT_TOLERANCES},
            "questions": len(results),
            "correct_share": round(shares["correct"], 3),
            "correct": sorted(r.question.key for r in results if r.outcome == "correct"),
        }
        args.baseline.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"baseline updated: {args.baseline}")
        return 0
    if not args.baseline.exists():
        print(f"check-answers: no baseline at {args.baseline}; run with --update-baseline", file=sys.stderr)
        return 2
    problems = compare(results, shares, json.loads(args.baseline.read_text(encoding="utf-8")))
    if problems:
        print("\nREGRESSION:\n" + "\n".join(f"- {problem}" for problem in problems))
        return 1
    print("no regression against the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
