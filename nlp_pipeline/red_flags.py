"""Deterministic red-flag detector: does a message describe a headache that needs urgent care?

The patterns live in ``data/safety/red_flags.yml`` (concepts made of phrases, and
rules that combine concepts). The message is lower-cased, run through the
project's spaCy pipeline (``build/spacy_en_headache``: tokenizer + lookup
lemmatizer) and every token gets a *key*: its lemma, after number folding
("62" -> ``<n50>``), the ``typos`` table and a one-edit correction of unknown
words towards the words the patterns use ("hedache" -> "headache"). A spaCy
``Matcher`` then finds the concepts over those keys; a rule fires when all
concepts of one of its alternatives are present and not negated.

Nothing here runs at import time. ``RedFlagMatcher.from_files()`` loads the
spaCy pipeline and the patterns; ``detect(text)`` returns the rule that fired,
or None. ``python -m nlp_pipeline.red_flags "message"`` explains a decision.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.settings import PROJECT_ROOT

DEFAULT_PATTERNS = PROJECT_ROOT / "data" / "safety" / "red_flags.yml"
DEFAULT_MODEL = PROJECT_ROOT / "build" / "spacy_en_headache"

# Concepts that describe the context of a message rather than a symptom.
CUE_CONCEPTS = ("negation", "general_question", "acute", "personal", "chronic", "long_ago")
GAP_TOKENS = 4
SENTENCE_ENDS = [".", "!", "?", ";"]
SPECIAL_KEYS = ("<n50>", "<num>", "<age50>", "<decade50>")
_NUMBER = re.compile(r"^\d{1,3}(?:\.\d+)?$")
_AGE_TOKEN = re.compile(r"^(\d{2,3})(?:yo|y/o|yrs?|years?|yr/o)$")
_DECADE = re.compile(r"^(\d)0'?s$")
_GAP = re.compile(r"^\.\.\.(\d)?$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_LETTERS = string.ascii_lowercase


class RedFlagSpecError(ValueError):
    """The pattern file is invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid red-flag patterns:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """Fires when every concept of any alternative is present (and none of ``unless``)."""

    id: str
    description: str
    alternatives: tuple[tuple[str, ...], ...]
    unless: tuple[str, ...] = ()
    gated: bool = False


@dataclass(frozen=True)
class RedFlagSpec:
    """The parsed pattern file."""

    keep_surface: frozenset[str]
    typos: Mapping[str, str]
    min_autocorrect_length: int
    lists: Mapping[str, tuple[str, ...]]
    concepts: Mapping[str, tuple[str, ...]]
    rules: tuple[Rule, ...]
    negation_window: int
    negation_breakers: frozenset[str]

    @classmethod
    def from_yaml(cls, path: Path = DEFAULT_PATTERNS) -> RedFlagSpec:
        """Read and validate ``path`` (every problem is reported at once)."""
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except YAMLError as error:
            raise RedFlagSpecError([f"{path.name}: not valid YAML: {error}"]) from error
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> RedFlagSpec:
        problems: list[str] = []
        if not isinstance(data, dict):
            raise RedFlagSpecError(["the file must be a mapping"])
        normalise = data.get("normalise") or {}
        lists = {str(k): tuple(str(w) for w in v or ()) for k, v in (data.get("lists") or {}).items()}
        concepts: dict[str, tuple[str, ...]] = {}
        for name, phrases in (data.get("concepts") or {}).items():
            if not phrases:
                problems.append(f"concept {name!r} has no phrases")
                continue
            concepts[str(name)] = tuple(str(p) for p in phrases)
        for cue in CUE_CONCEPTS:
            if cue not in concepts:
                problems.append(f"missing cue concept {cue!r}")
        for name, phrases in concepts.items():
            for phrase in phrases:
                for item in phrase.split():
                    if item.startswith("@") and item[1:] not in lists:
                        problems.append(f"concept {name!r}: unknown list {item!r} in {phrase!r}")
                    if item.startswith("<") and item not in SPECIAL_KEYS:
                        problems.append(f"concept {name!r}: unknown token {item!r} in {phrase!r}")
                if phrase.split()[0].startswith("...") or phrase.split()[-1].startswith("..."):
                    problems.append(f"concept {name!r}: {phrase!r} may not start or end with '...'")
        rules: list[Rule] = []
        seen: set[str] = set()
        for index, item in enumerate(data.get("rules") or []):
            where = f"rule {index + 1}"
            if not isinstance(item, dict) or not item.get("id") or not item.get("any"):
                problems.append(f"{where}: needs an id and an 'any' list")
                continue
            rule_id = str(item["id"])
            if rule_id in seen:
                problems.append(f"{where}: duplicate id {rule_id!r}")
            seen.add(rule_id)
            alternatives = tuple(tuple(str(c) for c in alt) for alt in item["any"])
            unless = tuple(str(c) for c in item.get("unless") or ())
            for concept in {c for alt in alternatives for c in alt} | set(unless):
                if concept not in concepts:
                    problems.append(f"rule {rule_id!r}: unknown concept {concept!r}")
            if any(not alt for alt in alternatives):
                problems.append(f"rule {rule_id!r}: empty alternative")
            rules.append(
                Rule(
                    id=rule_id,
                    description=str(item.get("description") or rule_id),
                    alternatives=alternatives,
                    unless=unless,
                    gated=bool(item.get("gated", False)),
                )
            )
        if not rules:
            problems.append("no rules")
        negation = data.get("negation") or {}
        typos = {str(k).lower(): str(v) for k, v in (normalise.get("typos") or {}).items()}
        for wrong, meant in typos.items():
            if meant.startswith("<") and meant not in SPECIAL_KEYS:
                problems.append(f"typo {wrong!r}: unknown token {meant!r}")
        if problems:
            raise RedFlagSpecError(problems)
        return cls(
            keep_surface=frozenset(str(w).lower() for w in normalise.get("keep_surface") or ()),
            typos=typos,
            min_autocorrect_length=int(normalise.get("min_autocorrect_length", 4)),
            lists=lists,
            concepts=concepts,
            rules=tuple(rules),
            negation_window=int(negation.get("window", 3)),
            negation_breakers=frozenset(str(w) for w in negation.get("breakers") or ()),
        )


@dataclass(frozen=True)
class RedFlagMatch:
    """Why a message was flagged: the rule and the concepts that satisfied it."""

    rule: str
    description: str
    concepts: tuple[str, ...]


@dataclass
class Analysis:
    """Everything the detector saw in one message (for explanations and tests)."""

    keys: list[str]
    present: dict[str, list[str]] = field(default_factory=dict)
    negated: dict[str, list[str]] = field(default_factory=dict)
    general_question: bool = False
    match: RedFlagMatch | None = None


def _edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | transposes | replaces | inserts


class RedFlagMatcher:
    """Matches the red-flag rules against one message at a time."""

    def __init__(self, spec: RedFlagSpec, nlp: Any) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS
        from spacy.matcher import Matcher

        self.spec = spec
        self._nlp = nlp
        self._lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        table = None
        if self._lemmatizer is not None:
            table = self._lemmatizer.lookups.get_table("lemma_lookup")
        self._table = table
        self._known_lemmas: set[str] = {str(v).lower() for v in table.values()} if table else set()
        self._stop_words = set(STOP_WORDS)
        # Words the patterns use: the targets of the one-edit correction.
        self._vocabulary: dict[str, str] = {}
        problems: list[str] = []
        self._matcher = Matcher(nlp.vocab)
        for concept, phrases in spec.concepts.items():
            patterns = []
            for phrase in phrases:
                try:
                    patterns.append(self._compile(phrase))
                except ValueError as error:
                    problems.append(f"concept {concept!r}: {error}")
            self._matcher.add(concept, patterns)
        if problems:
            raise RedFlagSpecError(problems)
        self._symptom_concepts = [c for c in spec.concepts if c not in CUE_CONCEPTS]

    @classmethod
    def from_files(
        cls,
        patterns: Path = DEFAULT_PATTERNS,
        model: Path = DEFAULT_MODEL,
        nlp: Any = None,
    ) -> RedFlagMatcher:
        """Load the patterns and the project's spaCy pipeline (or use ``nlp``)."""
        if nlp is None:
            import spacy

            if not Path(model).exists():
                raise FileNotFoundError(f"{model} is missing: run `make spacy`")
            nlp = spacy.load(model)
        return cls(RedFlagSpec.from_yaml(patterns), nlp)

    # ------------------------------------------------------------ keys
    def _lemma(self, word: str) -> str:
        if self._table is None:
            return word
        return str(self._table.get(word, word))

    def _is_known(self, word: str) -> bool:
        return (
            not word.isalpha()
            or word in self._stop_words
            or word in self._known_lemmas
            or word in self._vocabulary
            or (self._table is not None and word in self._table)
        )

    def key(self, word: str, lemma: str | None = None, correct: bool = True) -> str:
        """The matching key of one lower-case token."""
        if _NUMBER.match(word):
            return "<n50>" if 50 <= float(word) <= 120 else "<num>"
        age = _AGE_TOKEN.match(word)
        if age:
            return "<age50>" if int(age.group(1)) >= 50 else "<num>"
        decade = _DECADE.match(word)
        if decade:
            return "<decade50>" if int(decade.group(1)) >= 5 else "<num>"
        if word in self.spec.typos:
            meant = self.spec.typos[word]
            if meant in SPECIAL_KEYS:
                return meant
            word, lemma = meant, None
        if word in self.spec.keep_surface:
            return word
        if lemma is None:
            lemma = self._lemma(word)
        if not correct or self._is_known(word) or lemma != word:
            return lemma
        return self._correct(word) or lemma

    def _correct(self, word: str) -> str | None:
        """A pattern word one edit away from an unknown word, if there is one."""
        if len(word) < self.spec.min_autocorrect_length:
            return None
        candidates = set()
        for form in {word, *(word[: -len(s)] for s in ("s", "es", "ed", "d", "ing") if word.endswith(s))}:
            if len(form) < self.spec.min_autocorrect_length:
                continue
            candidates |= {self._vocabulary[e] for e in _edits1(form) if e in self._vocabulary}
        return min(candidates) if candidates else None

    def _tokens(self, text: str) -> Any:
        doc = self._nlp.make_doc(text.translate(_APOSTROPHES).lower())
        if self._lemmatizer is not None:
            doc = self._lemmatizer(doc)
        return doc

    def _word_key(self, word: str) -> list[str]:
        """Keys of a pattern word (a word may split into tokens: "can't" -> can, not)."""
        keys = []
        for token in self._tokens(word):
            key = self.key(token.lower_, token.lemma_ or None, correct=False)
            if token.is_alpha and len(token.lower_) >= self.spec.min_autocorrect_length:
                self._vocabulary.setdefault(token.lower_, key)
                if key.isalpha():
                    self._vocabulary.setdefault(key, key)
            keys.append(key)
        return keys

    def _single_key(self, word: str, phrase: str) -> str:
        keys = self._word_key(word)
        if len(keys) != 1:
            raise ValueError(f"{word!r} in {phrase!r} is more than one token; write it as words")
        return keys[0]

    def _compile(self, phrase: str) -> list[dict[str, Any]]:
        pattern: list[dict[str, Any]] = []
        for item in phrase.split():
            gap = _GAP.match(item)
            if gap:
                size = int(gap.group(1) or GAP_TOKENS)
                pattern += [{"LEMMA": {"NOT_IN": SENTENCE_ENDS}, "OP": "?"}] * size
            elif item.startswith("@"):
                words = self.spec.lists[item[1:]]
                pattern.append({"LEMMA": {"IN": sorted({self._single_key(w, phrase) for w in words})}})
            elif item.startswith("="):
                pattern.append({"LOWER": item[1:]})
            elif item in SPECIAL_KEYS:
                pattern.append({"LEMMA": item})
            elif "|" in item:
                choices = [w for w in item.split("|") if w]
                pattern.append({"LEMMA": {"IN": sorted({self._single_key(w, phrase) for w in choices})}})
            elif item.endswith("?") and len(item) > 1:
                pattern.append({"LEMMA": self._single_key(item[:-1], phrase), "OP": "?"})
            else:
                pattern += [{"LEMMA": key} for key in self._word_key(item)]
        return pattern

    # ------------------------------------------------------------ matching
    def analyse(self, text: str) -> Analysis:
        """Concepts found (and negated) in ``text``, and the rule that fired."""
        doc = self._tokens(text)
        for token in doc:
            token.lemma_ = self.key(token.lower_, token.lemma_ or None)
        keys = [token.lemma_ for token in doc]
        spans: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self._matcher(doc):
            spans.setdefault(self._nlp.vocab.strings[match_id], []).append((start, end))
        symptom_tokens = {
            i for concept in self._symptom_concepts for s, e in spans.get(concept, []) for i in range(s, e)
        }
        negators = {i for s, e in spans.get("negation", []) for i in range(s, e)} - symptom_tokens
        analysis = Analysis(keys=keys)
        for concept, found in spans.items():
            for start, end in sorted(set(found)):
                phrase = doc[start:end].text
                if concept not in CUE_CONCEPTS and self._negated(start, keys, negators):
                    analysis.negated.setdefault(concept, []).append(phrase)
                else:
                    analysis.present.setdefault(concept, []).append(phrase)
        present = set(analysis.present)
        analysis.general_question = (
            "general_question" in present
            and "acute" not in present
            and not {"personal", "headache"} <= present
        )
        for rule in self.spec.rules:
            if rule.gated and analysis.general_question:
                continue
            if any(concept in present for concept in rule.unless):
                continue
            for alternative in rule.alternatives:
                if all(concept in present for concept in alternative):
                    analysis.match = RedFlagMatch(rule.id, rule.description, alternative)
                    return analysis
        return analysis

    def _negated(self, start: int, keys: Sequence[str], negators: set[int]) -> bool:
        for index in range(start - 1, max(-1, start - 1 - self.spec.negation_window), -1):
            if keys[index] in self.spec.negation_breakers:
                return False
            if index in negators:
                return True
        return False

    def detect(self, text: str) -> RedFlagMatch | None:
        """The red-flag rule ``text`` matches, or None."""
        if not text or not text.strip():
            return None
        return self.analyse(text).match

    def detect_all(self, texts: Iterable[str]) -> list[RedFlagMatch | None]:
        """``detect`` for many messages."""
        return [self.detect(text) for text in texts]


def main(argv: list[str] | None = None) -> int:
    """Explain the decision for each message given on the command line."""
    parser = argparse.ArgumentParser(description="Explain red-flag decisions for messages")
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args(argv)
    detector = RedFlagMatcher.from_files()
    for message in args.messages:
        analysis = detector.analyse(message)
        sys.stdout.write(
            json.dumps(
                {
                    "message": message,
                    "red_flag": analysis.match.rule if analysis.match else None,
                    "concepts": analysis.present,
                    "negated": analysis.negated,
                    "general_question": analysis.general_question,
                    "keys": analysis.keys,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
