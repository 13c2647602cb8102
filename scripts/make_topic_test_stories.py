"""Write tests/stories/test_faq_topics.yml: one test story per FAQ topic.

Each story asks the topic's first training question (entities annotated with the
project's spaCy pipeline, which the test story checks too) and expects
action_answer_faq. Run again after adding topics; review the diff.
"""

from __future__ import annotations

from pathlib import Path

import spacy
import yaml

ROOT = Path(__file__).resolve().parent.parent


def annotate(nlp: spacy.language.Language, text: str) -> str:
    doc = nlp(text)
    out, last = [], 0
    for ent in doc.ents:
        out.append(text[last : ent.start_char])
        out.append(f"[{ent.text}]({ent.label_})")
        last = ent.end_char
    out.append(text[last:])
    return "".join(out)


def main() -> None:
    nlp = spacy.load(ROOT / "build" / "spacy_en_headache")
    lines = ['version: "3.1"', "stories:"]
    for path in sorted((ROOT / "data" / "nlu" / "faq").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            intent = block["intent"]
            first = next(
                line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")
            )
            lines += [
                f"- story: {intent}",
                "  steps:",
                "  - user: |",
                f"      {annotate(nlp, first)}",
                f"    intent: {intent}",
                "  - action: action_answer_faq",
            ]
    (ROOT / "tests" / "stories" / "test_faq_topics.yml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
