"""Summarise `rasa test nlu --cross-validation` output into a committed Markdown report.

Usage: python scripts/nlu_report.py results/crossval docs/nlu_report.md
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path


def section(title: str, report: dict) -> list[str]:
    lines = [f"## {title}", ""]
    for average in ("weighted avg", "macro avg", "micro avg"):
        if average in report:
            values = report[average]
            lines.append(
                f"- {average}: precision {values['precision']:.3f}, recall {values['recall']:.3f}, "
                f"**F1 {values['f1-score']:.3f}** (support {values['support']})"
            )
    if "accuracy" in report:
        lines.append(f"- accuracy: {report['accuracy']:.3f}")
    lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    labels = sorted(
        (k for k, v in report.items() if isinstance(v, dict) and "f1-score" in v and not k.endswith("avg")),
        key=lambda k: report[k]["f1-score"],
    )
    for label in labels:
        v = report[label]
        lines.append(
            f"| {label} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1-score']:.2f} | {v['support']} |"
        )
    return [*lines, ""]


def main(results: Path, output: Path) -> int:
    """Write the report; exit 1 if no report files are found."""
    lines = [
        "# NLU cross-validation report",
        "",
        f"Generated {date.today().isoformat()} by `make crossval` (5 folds over data/nlu, config.yml).",
        "Labels with the lowest F1 first.",
        "",
    ]
    found = False
    for filename, title in (
        ("intent_report.json", "Intent classification"),
        ("response_selection_report.json", "Response selection (FAQ topic)"),
    ):
        path = results / filename
        if path.exists():
            found = True
            lines += section(title, json.loads(path.read_text()))
    if not found:
        print(f"no report files in {results}", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
