"""Share of held-out questions answered with the right topic (run on demand).

Loads the trained model in-process, parses every held-out question in
tests/nlu/*.yml and applies the same answer gate as action_answer_faq:

- answered right:  the gate passes and the topic is the expected one
- asked "did you mean" with the right topic among the choices
- asked to rephrase / wrong intent
- answered WRONG:  the gate passes with another topic (the costly case)

Usage: python bench/heldout_accuracy.py [--model models/headache-faq.tar.gz] [--csv results/heldout.csv]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.faq import RankedTopic, ranked_topics  # noqa: E402
from actions.settings import get_settings  # noqa: E402


def load_heldout(folder: Path) -> list[tuple[str, str]]:
    """(expected intent, question) for every example in the held-out files."""
    pairs = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    pairs.append((str(block["intent"]), line.strip()[2:].strip()))
    return pairs


def outcome(expected: str, parse: dict) -> tuple[str, str]:
    """Classify one parse result the way the bot would act on it."""
    intent = (parse.get("intent") or {}).get("name")
    if not expected.startswith("faq/"):
        return ("right" if intent == expected else "wrong", intent or "")
    key = expected[4:]
    if intent != "faq":
        return ("rephrase" if intent in (None, "nlu_fallback") else "wrong_intent", intent or "")
    settings = get_settings()
    ranking: list[RankedTopic] = ranked_topics(parse)
    if not ranking or ranking[0].confidence < settings.answer_reject_below:
        return ("rephrase", "")
    best = ranking[0]
    runner_up = ranking[1].confidence if len(ranking) > 1 else 0.0
    if best.confidence >= settings.answer_min_confidence and best.confidence - runner_up >= (
        settings.answer_min_margin
    ):
        return ("right" if best.key == key else "wrong", best.key)
    choices = [topic.key for topic in ranking[:3]]
    return ("did_you_mean_right" if key in choices else "did_you_mean_wrong", ",".join(choices))


async def evaluate(model: Path, pairs: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    rows = []
    for expected, question in pairs:
        parse = await agent.parse_message(question)
        result, detail = outcome(expected, parse)
        rows.append((expected, question, result, detail))
    return rows


def main() -> int:
    """Print the summary table; write a CSV of every question."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "headache-faq.tar.gz"))
    parser.add_argument("--heldout", default=str(ROOT / "tests" / "nlu"))
    parser.add_argument("--csv", default=str(ROOT / "results" / "heldout.csv"))
    args = parser.parse_args()
    pairs = load_heldout(Path(args.heldout))
    rows = asyncio.run(evaluate(Path(args.model), pairs))

    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["expected", "question", "outcome", "detail"])
        writer.writerows(rows)

    totals = Counter(result for _, _, result, _ in rows)
    per_topic: dict[str, Counter] = defaultdict(Counter)
    for expected, _, result, _ in rows:
        per_topic[expected][result] += 1
    print(f"held-out questions: {len(rows)}")
    for name in ("right", "did_you_mean_right", "rephrase", "did_you_mean_wrong", "wrong_intent", "wrong"):
        print(f"  {name:20s} {totals[name]:4d}  ({totals[name] / len(rows):.1%})")
    print(f"answered with the right topic: {totals['right'] / len(rows):.1%}")
    print(
        f"right topic answered or offered: {(totals['right'] + totals['did_you_mean_right']) / len(rows):.1%}"
    )
    print(f"answered with a WRONG topic: {totals['wrong'] / len(rows):.1%}")
    weak = sorted(
        ((topic, c) for topic, c in per_topic.items() if c["right"] < sum(c.values())),
        key=lambda item: item[1]["right"] / sum(item[1].values()),
    )
    if weak:
        print("topics with misses (right/total):")
        for topic, counts in weak:
            print(f"  {topic:45s} {counts['right']}/{sum(counts.values())}  {dict(counts)}")
    print(f"per-question details: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
