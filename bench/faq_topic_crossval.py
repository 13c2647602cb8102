"""5-fold cross-validation of the FAQ topic classifier (nlp_pipeline.faq_topics) on the
training data (data/nlu/faq): macro F1, accuracy, and what the FAQ action's confidence gate
would do with the held-out folds (answer right, answer wrong, or "Did you mean").

    .venv/bin/python bench/faq_topic_crossval.py [--gate 0.3 0.1] [--question-type-weight 0.5]

Also prints the question types' macro F1 (the answers' ``aspect``: what is asked, whatever
the treatment).

Run on demand (about a minute); the figures go in docs/understanding.md.
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

from nlp_pipeline.faq_topics import (  # noqa: E402
    FaqTopicClassifier,
    TopicModels,
    question_types,
    topic_examples,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gate", nargs=2, type=float, default=(0.3, 0.1), metavar=("MIN_CONFIDENCE", "MIN_MARGIN")
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--worst", type=int, default=0, help="also list the N weakest answer keys and confusions"
    )
    config = FaqTopicClassifier.get_default_config()
    parser.add_argument("--question-type-weight", type=float, default=float(config["question_type_weight"]))
    args = parser.parse_args(argv)
    texts, labels = topic_examples(
        load_data(str(ROOT / "data" / "nlu" / "faq")), str(config["retrieval_intent"])
    )
    type_of = question_types()
    predicted = [""] * len(texts)
    outcomes: Counter[str] = Counter()
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    for train, test in folds.split(texts, labels):
        model = TopicModels.fit(
            [texts[i] for i in train],
            [labels[i] for i in train],
            type_of,
            float(config["regularisation"]),
            int(config["random_seed"]),
        )
        for index in test:
            ranked = model.ranking(texts[index], args.question_type_weight)
            (best, confidence), runner_up = ranked[0], ranked[1][1]
            predicted[index] = str(best)
            if confidence >= args.gate[0] and confidence - runner_up >= args.gate[1]:
                outcomes["right" if best == labels[index] else "wrong"] += 1
            else:
                outcomes["did you mean"] += 1
    total = len(texts)
    accuracy = sum(p == gold for p, gold in zip(predicted, labels, strict=True)) / total
    print(f"{total} examples, {len(set(labels))} answer keys, {args.folds}-fold cross-validation")
    print(f"question-type weight {args.question_type_weight}")
    print(f"macro F1 {f1_score(labels, predicted, average='macro'):.3f}, accuracy {accuracy:.3f}")
    kind = model.question_type
    kinds = [kind(label) for label in labels]
    kinds_f1 = f1_score(kinds, [kind(key) for key in predicted], average="macro")
    print(f"question types ({len(set(kinds))}): macro F1 {kinds_f1:.3f}")
    if args.worst:
        keys = sorted(set(labels))
        scores = f1_score(labels, predicted, labels=keys, average=None)
        print("weakest answer keys (F1):")
        for key, score in sorted(zip(keys, scores, strict=True), key=lambda pair: pair[1])[: args.worst]:
            print(f"  {score:.3f}  {key}")
        confusions = Counter(
            (gold, guess) for gold, guess in zip(labels, predicted, strict=True) if gold != guess
        )
        print("most frequent confusions (asked -> answered):")
        for (gold, guess), count in confusions.most_common(args.worst):
            print(f"  {count:4d}  {gold} -> {guess}")
    gate = f"gate {args.gate[0]} / {args.gate[1]}"
    print(
        f"{gate}: " + ", ".join(f"{k} {outcomes[k] / total:.1%}" for k in ("right", "wrong", "did you mean"))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
