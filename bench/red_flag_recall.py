"""Recall, right tier and false alarms of the safety triage, per tier and per category.

    .venv/bin/python bench/red_flag_recall.py                  # every set, detector alone
    .venv/bin/python bench/red_flag_recall.py --set independent --show-errors
    .venv/bin/python bench/red_flag_recall.py --file /path/to/fresh.yml
    .venv/bin/python bench/red_flag_recall.py --model models/headache-faq.tar.gz
        # also the whole trained NLU (detector + classifier = what the bot does)

Sets (data/safety/):
  independent   independent_set.yml: written by someone who never saw the rules (frozen)
  test          red_flag_test_set.yml, and held-out  red_flag_held_out.yml: the team's own
  fresh-...     fresh_set_2026-12-06.yml, fresh_set_2026-12-07.yml, fresh_set_5_2026-12-07.yml,
                fresh_set_7_2026-12-07.yml, fresh_set_9_2026-12-07.yml, fresh_set_6_ and
                fresh_set_8_other_languages_2026-12-07.yml
                (other languages): more independent writers', never tuned to; reported only (no target)

Definitions (issue 17):
  urgent        messages labelled emergency, crisis or poisoning
  recall        urgent messages that got urgent guidance (any of those three tiers)
  right tier    urgent and same-day messages that got exactly their tier
  false alarms  ordinary messages that got emergency, crisis or poisoning guidance
  check-ins     "is this happening now?" questions (reported; not counted as recall)

Exits 1 when a target is missed on a set that has targets (independent, test, held-out):
recall >= 99%, right tier >= 95%, false alarms <= 3%.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp_pipeline.language import detect_language  # noqa: E402
from nlp_pipeline.red_flags import RedFlagMatcher  # noqa: E402
from nlp_pipeline.red_flags_languages import OtherLanguageRedFlags  # noqa: E402

SAFETY = ROOT / "data" / "safety"
SETS = {
    "independent": SAFETY / "independent_set.yml",
    "test": SAFETY / "red_flag_test_set.yml",
    "held-out": SAFETY / "red_flag_held_out.yml",
}
# Reported, with no target: a second independent writer's set, run once untuned at the end
# of issue 17; the rules are never tuned to it.
REPORTED_SETS = {
    "fresh-2026-12-06": SAFETY / "fresh_set_2026-12-06.yml",
    # Issue 18's fresh set #4 (its red-flag part), run once untuned on 7 December 2026.
    "fresh-2026-12-07": SAFETY / "fresh_set_2026-12-07.yml",
    # Fresh set #5 (its red-flag part), committed before session 12 changed anything; run at
    # its start and end, figures only (the rules are never tuned to it).
    "fresh5-2026-12-07": SAFETY / "fresh_set_5_2026-12-07.yml",
    # Fresh set #6 (session 13), committed before anything changed: 40 English messages, and
    # 100 in 13 other languages (the first measure of the other-language rules).
    "fresh7-2026-12-07": SAFETY / "fresh_set_7_2026-12-07.yml",
    "fresh6-other-languages": SAFETY / "fresh_set_6_other_languages_2026-12-07.yml",
    # Written while the other-language rules were broadened (session 13); run once at the end.
    "fresh8-other-languages": SAFETY / "fresh_set_8_other_languages_2026-12-07.yml",
    # Fresh set #8's red-flag part (session 14, 36 English messages with near misses such as a
    # condition asked about ahead), written at the end of the session and run once.
    "fresh9-2026-12-07": SAFETY / "fresh_set_9_2026-12-07.yml",
}
URGENT = ("emergency", "crisis", "poisoning")
MIN_RECALL = 0.99
MIN_RIGHT_TIER = 0.95
MAX_FALSE_ALARMS = 0.03
# The team's older sets label a category, not a tier.
CATEGORY_TIERS = {"crisis": "crisis", "first_after_50": "same_day", "wakes_worsening": "same_day"}


@dataclass(frozen=True)
class Labelled:
    text: str
    tier: str
    category: str


@dataclass(frozen=True)
class Scores:
    recall: float
    right_tier: float
    false_alarms: float

    def met(self) -> bool:
        return (
            self.recall >= MIN_RECALL
            and self.right_tier >= MIN_RIGHT_TIER
            and self.false_alarms <= MAX_FALSE_ALARMS
        )


def load_set(path: Path) -> list[Labelled]:
    """Either format: ``messages`` with tiers, or the older ``red_flag`` / ``ordinary`` lists."""
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    if "messages" in data:
        return [
            Labelled(str(m["text"]), str(m["tier"]), str(m.get("category") or m["tier"]))
            for m in data["messages"]
        ]
    items = [
        Labelled(
            str(item["text"]),
            str(item.get("tier") or CATEGORY_TIERS.get(str(item["category"]), "emergency")),
            str(item["category"]),
        )
        for item in data["red_flag"]
    ]
    return items + [Labelled(str(text), "ordinary", "ordinary") for text in data["ordinary"]]


def share(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def evaluate(name: str, items: list[Labelled], triage: Callable[[str], str], show_errors: bool) -> Scores:
    """Print the figures for one set; ``triage`` returns a tier, ``check_in`` or ``ordinary``."""
    got = {item.text: triage(item.text) for item in items}
    urgent = [i for i in items if i.tier in URGENT]
    tiered = [i for i in items if i.tier != "ordinary"]
    ordinary = [i for i in items if i.tier == "ordinary"]
    recalled = [i for i in urgent if got[i.text] in URGENT]
    right = [i for i in tiered if got[i.text] == i.tier]
    alarms = [i for i in ordinary if got[i.text] in URGENT]
    scores = Scores(
        share(len(recalled), len(urgent)), share(len(right), len(tiered)), share(len(alarms), len(ordinary))
    )
    print(f"\n== {name}: {len(items)} messages")
    print(
        f"urgent recall {scores.recall:.1%} ({len(recalled)}/{len(urgent)}), "
        f"right tier {scores.right_tier:.1%} ({len(right)}/{len(tiered)}), "
        f"false alarms {scores.false_alarms:.1%} ({len(alarms)}/{len(ordinary)} ordinary)"
    )
    by_tier: dict[str, Counter[str]] = defaultdict(Counter)
    by_category: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for item in items:
        by_tier[item.tier][got[item.text]] += 1
        by_category[(item.tier, item.category)][got[item.text]] += 1
    outcomes = [*URGENT, "same_day", "check_in", "ordinary"]
    print(f"{'expected tier / category':<40}" + "".join(f"{o:>10}" for o in outcomes) + f"{'n':>6}")
    for tier in [*URGENT, "same_day", "ordinary"]:
        if tier not in by_tier:
            continue
        counts = by_tier[tier]
        print(f"{tier:<40}" + "".join(f"{counts[o]:>10}" for o in outcomes) + f"{sum(counts.values()):>6}")
        for (category_tier, category), counts in sorted(by_category.items()):
            if category_tier == tier and category != tier:
                print(
                    f"  {category:<38}"
                    + "".join(f"{counts[o]:>10}" for o in outcomes)
                    + f"{sum(counts.values()):>6}"
                )
    if show_errors:
        for item in items:
            outcome = got[item.text]
            wrong = outcome != item.tier and not (item.tier == "ordinary" and outcome == "check_in")
            if wrong:
                print(f"  [{item.tier}/{item.category} -> {outcome}] {item.text}")
    return scores


def detector_triage(
    detector: RedFlagMatcher, other_languages: OtherLanguageRedFlags | None = None
) -> Callable[[str], str]:
    """The English rules, then the rules of the message's language when one is told (the
    pipeline also reads every language when the classifier understood nothing: --model)."""

    def triage(text: str) -> str:
        match = detector.detect(text)
        if match is None and other_languages is not None and (language := detect_language(text)):
            other = other_languages.detect(text, language)
            return other.tier if other else "ordinary"
        if match is None:
            return "ordinary"
        # Before tiers (issue 17) every match was emergency guidance, crisis the only other.
        return getattr(match, "tier", "crisis" if match.rule == "crisis" else "emergency")

    return triage


def model_triage(model: Path) -> Callable[[str], str]:
    """What the trained bot's NLU decides (detector first, the classifier's red_flag as second net)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def triage(text: str) -> str:
        parsed = loop.run_until_complete(agent.parse_message(text))
        intent = (parsed.get("intent") or {}).get("name")
        if intent == "symptom_check_in":
            return "check_in"
        if intent != "red_flag":
            return "ordinary"
        return str((parsed.get("red_flag") or {}).get("tier") or "emergency")

    return triage


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        choices=sorted({**SETS, **REPORTED_SETS}),
        action="append",
        help="only these sets (repeatable)",
    )
    parser.add_argument("--file", type=Path, action="append", default=[], help="another set file")
    parser.add_argument("--model", type=Path, help="also measure the trained NLU of this model")
    parser.add_argument("--show-errors", action="store_true", help="list every message with a wrong outcome")
    args = parser.parse_args(list(argv) if argv is not None else None)

    started = time.perf_counter()
    detector = RedFlagMatcher.from_files()
    print(f"detector loaded in {time.perf_counter() - started:.1f} s")
    every = {**SETS, **REPORTED_SETS}
    chosen = [(name, every[name]) for name in (args.set or every)] + [(p.name, p) for p in args.file]
    loaded = [(name, load_set(path)) for name, path in chosen if path.exists()]
    all_met = True
    triage = detector_triage(detector, OtherLanguageRedFlags.from_yaml())
    for name, items in loaded:
        scores = evaluate(f"detector, {name}", items, triage, args.show_errors)
        if name in SETS:
            all_met &= scores.met()
    texts = [item.text for _, items in loaded for item in items]
    started = time.perf_counter()
    for text in texts:
        detector.detect(text)
    print(
        f"\ndetector speed: {(time.perf_counter() - started) * 1000 / max(1, len(texts)):.2f} ms per message"
    )
    if args.model:
        by_model = model_triage(args.model)
        for name, items in loaded:
            evaluate(f"trained NLU ({args.model.name}), {name}", items, by_model, args.show_errors)
    print(
        f"targets (recall >= {MIN_RECALL:.0%}, right tier >= {MIN_RIGHT_TIER:.0%}, "
        f"false alarms <= {MAX_FALSE_ALARMS:.0%}):",
        "MET" if all_met else "NOT MET",
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
