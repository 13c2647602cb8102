"""Every English message of the project (each NLU example, each message of the safety sets)
stays English for the language detector (issue 18): a consistency check of data/nlu and
data/safety, run by `make test` and `make test-fast` (the detector's behaviour is in
tests/unit/test_languages.py)."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from actions.settings import PROJECT_ROOT
from nlp_pipeline.language import detect_language


def english_messages() -> list[str]:
    """Every NLU example and every message of the safety sets not labelled with another language."""
    annotation = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]*\}")
    yaml = YAML(typ="safe", pure=True)
    texts: list[str] = []
    for path in sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml")):
        for block in yaml.load(path.read_text(encoding="utf-8")).get("nlu") or []:
            lines = str(block.get("examples") or "").splitlines()
            texts += [annotation.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:]) for line in lines]
    for path in sorted((PROJECT_ROOT / "data" / "safety").glob("*set*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        # A message labelled with another language (the other-language set) is not English.
        texts += [
            str(item["text"])
            for item in data.get("messages") or data.get("red_flag") or []
            if item.get("language", "en") == "en"
        ]
        texts += [str(text) for text in data.get("ordinary") or []]
    return texts


def test_no_english_message_of_the_project_is_taken_for_another_language():
    texts = english_messages()
    assert len(texts) > 3000
    assert [text for text in texts if detect_language(text)] == []
