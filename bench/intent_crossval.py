"""5-fold cross-validation of the intent classifier (nlp_pipeline.intents) on the training
data (data/nlu): macro F1, accuracy, per-intent recall of the weakest intents, and how many
held-out examples the fallback classifier's gate (config.yml) would drop.

    .venv/bin/python bench/intent_crossval.py [--regularisation 20] [--balanced]

Run on demand (a few minutes); the figures go in docs/understanding.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from nlp_pipeline.faq_topics import topic_pipeline  # noqa: E402
from nlp_pipeline.intents import LinearIntentClassifier, intent_examples  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    defaults = LinearIntentClassifier.get_default_config()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regularisation", type=float, default=float(defaults["regularisation"]))
    parser.add_argument("--balanced", action="store_true", default=defaults["class_weight"] == "balanced")
    parser.add_argument("--gate", nargs=2, type=float, default=(0.6, 0.1), metavar=("THRESHOLD", "AMBIGUITY"))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    texts, labels = intent_examples(load_data(str(ROOT / "data" / "nlu")))
    predicted = [""] * len(texts)
    dropped = 0
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    for train, test in folds.split(texts, labels):
        model = topic_pipeline(args.regularisation, 42, "balanced" if args.balanced else None)
        model.fit([texts[i] for i in train], [labels[i] for i in train])
        for index, probabilities in zip(test, model.predict_proba([texts[i] for i in test]), strict=True):
            ranked = sorted(zip(model.classes_, probabilities, strict=True), key=lambda p: p[1], reverse=True)
            predicted[index] = str(ranked[0][0])
            dropped += ranked[0][1] < args.gate[0] or ranked[0][1] - ranked[1][1] < args.gate[1]
    total = len(texts)
    accuracy = sum(p == gold for p, gold in zip(predicted, labels, strict=True)) / total
    weighting = "balanced" if args.balanced else "unweighted"
    print(f"{total} examples, {len(set(labels))} intents, {args.folds} folds")
    print(f"C={args.regularisation}, {weighting}")
    print(f"macro F1 {f1_score(labels, predicted, average='macro'):.3f}, accuracy {accuracy:.3f}")
    print(f"below the fallback gate {args.gate[0]} / {args.gate[1]}: {dropped / total:.1%}")
    asked = Counter(labels)
    right = Counter(gold for p, gold in zip(predicted, labels, strict=True) if p == gold)
    weakest = sorted(asked, key=lambda intent: right[intent] / asked[intent])[:8]
    print("weakest recall: " + ", ".join(f"{i} {right[i]}/{asked[i]}" for i in weakest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
