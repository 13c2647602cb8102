"""Recall and false-alarm rate of the red-flag detector on data/safety's test sets.

    .venv/bin/python bench/red_flag_recall.py                 # detector alone (deterministic)
    .venv/bin/python bench/red_flag_recall.py --held-out      # the held-out set as well
    .venv/bin/python bench/red_flag_recall.py --model models/headache-faq.tar.gz
        # also the whole trained NLU (detector + classifier = what the bot does)

Prints one line per set and every miss / false alarm; exits 1 when recall is
below 100% or false alarms above 2% on the main test set (the issue-4 targets).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp_pipeline.red_flags import RedFlagMatcher  # noqa: E402

TEST_SET = ROOT / "data" / "safety" / "red_flag_test_set.yml"
HELD_OUT = ROOT / "data" / "safety" / "red_flag_held_out.yml"
MAX_FALSE_ALARM_RATE = 0.02


def load_set(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    flags = [(str(item["text"]), str(item["category"])) for item in data["red_flag"]]
    ordinary = [str(text) for text in data["ordinary"]]
    return flags, ordinary


def evaluate(name: str, path: Path, flagged: Callable[[str], str | None]) -> tuple[float, float]:
    flags, ordinary = load_set(path)
    misses = [(text, category) for text, category in flags if not flagged(text)]
    alarms = [(text, flagged(text)) for text in ordinary if flagged(text)]
    recall = 1 - len(misses) / len(flags)
    false_alarm_rate = len(alarms) / len(ordinary)
    print(
        f"{name}: recall {recall:.1%} ({len(flags) - len(misses)}/{len(flags)} red flags), "
        f"false alarms {false_alarm_rate:.1%} ({len(alarms)}/{len(ordinary)} ordinary questions)"
    )
    for text, category in misses:
        print(f"  MISSED [{category}] {text}")
    for text, rule in alarms:
        print(f"  FALSE ALARM [{rule}] {text}")
    return recall, false_alarm_rate


def model_flagger(model: Path) -> Callable[[str], str | None]:
    """What the trained bot's NLU decides (intent red_flag, from the detector or the classifier)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    cache: dict[str, str | None] = {}

    def flagged(text: str) -> str | None:
        if text not in cache:
            parsed = loop.run_until_complete(agent.parse_message(text))
            intent = (parsed.get("intent") or {}).get("name")
            source = "detector" if parsed.get("red_flag") else "classifier"
            cache[text] = source if intent == "red_flag" else None
        return cache[text]

    return flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", action="store_true", help="also measure the held-out set")
    parser.add_argument("--model", type=Path, help="also measure the trained NLU of this model")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    detector = RedFlagMatcher.from_files()
    print(f"detector loaded in {time.perf_counter() - started:.1f} s")

    def by_detector(text: str) -> str | None:
        match = detector.detect(text)
        return match.rule if match else None

    sets = [("test set", TEST_SET)] + ([("held-out set", HELD_OUT)] if args.held_out else [])
    recall, false_alarms = evaluate("detector, test set", TEST_SET, by_detector)
    for name, path in sets[1:]:
        evaluate(f"detector, {name}", path, by_detector)
    texts = [t for t, _ in load_set(TEST_SET)[0]] + load_set(TEST_SET)[1]
    started = time.perf_counter()
    for text in texts:
        detector.detect(text)
    per_message_ms = (time.perf_counter() - started) * 1000 / len(texts)
    print(f"detector speed: {per_message_ms:.2f} ms per message")
    if args.model:
        flagged = model_flagger(args.model)
        for name, path in sets:
            evaluate(f"trained NLU ({args.model.name}), {name}", path, flagged)
    ok = recall == 1.0 and false_alarms <= MAX_FALSE_ALARM_RATE
    print("targets (100% recall, <= 2% false alarms):", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
