"""Deterministic safety triage: does a message describe something that needs urgent care, and how urgent?

The concept lexicon and the rules live in ``data/safety/red_flags.yml``. The
message is lower-cased, run through the project's spaCy pipeline
(``build/spacy_en_headache``: tokenizer + lookup lemmatizer) and every token gets
a *key*: its lemma, after number folding ("62" -> ``<n50>``), the ``typos``
table and a one-edit correction of unknown words towards the words the patterns
use ("hedache" -> "headache"). A spaCy ``Matcher`` then finds the concepts over
those keys; readings that need arithmetic (a temperature, a blood pressure, an
age, how long ago a baby was born) become concepts too (``readings``).

A rule fires when all concepts of one of its alternatives are present and not
negated. Rules have a tier (crisis, poisoning, emergency, same_day) and are
tried in that order. Context lowers a rule only where no current, personal
symptom is described: a general question ("can dry needling puncture a lung?")
or history ("years ago") suppresses a ``gated`` rule. A suppressed rule whose
message still speaks of a person ("my", "i", "my dad") becomes a *check-in*:
the bot asks whether it is happening now instead of answering an FAQ.

Nothing here runs at import time. ``RedFlagMatcher.from_files()`` loads the
spaCy pipeline and the patterns; ``detect(text)`` returns the match (rule and
tier), or None. ``python -m nlp_pipeline.red_flags "message"`` explains a decision.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexicon import PROJECT_ROOT, one_edit_variants

DEFAULT_PATTERNS = PROJECT_ROOT / "data" / "safety" / "red_flags.yml"
DEFAULT_MODEL = PROJECT_ROOT / "build" / "spacy_en_headache"
# English words never "corrected" towards a pattern word ("west" is not a typo of "welt").
COMMON_WORDS = PROJECT_ROOT / "data" / "lexicon" / "common_english.txt"

# Concepts that describe the context of a message rather than a symptom.
CUE_CONCEPTS = (
    "negation",
    "general_question",
    "general_question_weak",
    "acute",
    "personal",
    "chronic",
    "long_ago",
    "resolved",
)
# A message that opens with one of these is a question ("can a needle break off inside you?").
QUESTION_OPENERS = frozenset({"can", "could", "do", "be", "will", "would", "how", "what", "why", "should"})
# Tiers, most urgent first: rules are tried in this order.
TIERS = ("crisis", "poisoning", "emergency", "same_day")
CHECK_IN = "check_in"
# Concepts computed from numbers in the text (see ``readings``), usable in rules.
READING_CONCEPTS = (
    "fever_reading",
    "bp_severe",
    "bp_raised",
    "age_50_plus",
    "recent_birth",
    "older_birth",
    "many_pills",
    "pain_max",
)
GAP_TOKENS = 4
SENTENCE_ENDS = [".", "!", "?", ";"]
SPECIAL_KEYS = ("<n50>", "<num>", "<age50>", "<decade50>", "<year>")
_YEAR = re.compile(r"^(?:19[5-9]\d|20[0-2]\d)$")
_NUMBER = re.compile(r"^\d{1,3}(?:\.\d+)?$")
_AGE_TOKEN = re.compile(r"^(\d{2,3})(?:yo|y/o|yrs?|years?|yr/o)$")
_DECADE = re.compile(r"^(\d)0'?s$")
_GAP = re.compile(r"^\.\.\.(\d)?$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


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
    tier: str = "emergency"
    # History does not hold it back: a past cancer is itself the flag.
    history_counts: bool = False
    # Which flag of which published list, in words, and the ids of those lists in
    # data/safety/sources.yml (docs/safety.md, the clinician review sheet).
    reference: str = ""
    sources: tuple[str, ...] = ()


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
    # Concepts that say who, where or what treatment, not which symptom (a general
    # question's framing must come before the symptom, not before these).
    context_concepts: frozenset[str] = frozenset()

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
                for item in (part for word in phrase.split() for part in word.split("|")):
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
            tier = str(item.get("tier", "emergency"))
            if tier not in TIERS:
                problems.append(f"rule {rule_id!r}: unknown tier {tier!r} (one of {', '.join(TIERS)})")
            for concept in {c for alt in alternatives for c in alt} | set(unless):
                if concept not in concepts and concept not in READING_CONCEPTS:
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
                    tier=tier,
                    history_counts=bool(item.get("history_counts", False)),
                    reference=str(item.get("reference") or ""),
                    sources=tuple(str(source) for source in item.get("sources") or ()),
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
            rules=tuple(sorted(rules, key=lambda rule: TIERS.index(rule.tier))),
            negation_window=int(negation.get("window", 3)),
            negation_breakers=frozenset(str(w) for w in negation.get("breakers") or ()),
            context_concepts=frozenset(str(c) for c in data.get("context_concepts") or ()),
        )


@dataclass(frozen=True)
class RedFlagMatch:
    """Why a message was flagged: the rule, its tier and the concepts that satisfied it.

    ``tier`` is ``check_in`` when the rule matched but context (a general question,
    history) held it back; ``candidate_tier`` is then the rule's own tier.
    """

    rule: str
    description: str
    concepts: tuple[str, ...]
    tier: str = "emergency"
    candidate_tier: str | None = None

    @property
    def urgent(self) -> bool:
        """Guidance is given at once (not a check-in question)."""
        return self.tier != CHECK_IN


@dataclass
class Analysis:
    """Everything the detector saw in one message (for explanations and tests)."""

    keys: list[str]
    present: dict[str, list[str]] = field(default_factory=dict)
    negated: dict[str, list[str]] = field(default_factory=dict)
    general_question: bool = False
    history: bool = False
    match: RedFlagMatch | None = None


# ------------------------------------------------------------ readings
# Temperatures: a number with a unit, or near a word that says it is a temperature.
_TEMPERATURE = re.compile(
    r"(?<![\d/.])(\d{2,3}(?:[.,]\d{1,2})?)\s*(°\s*[cf]?|degrees?(?:\s*(?:c|f|celsius|fahrenheit)\b)?|deg\b|c\b|f\b)?"
)
_TEMPERATURE_WORDS = re.compile(
    r"\b(?:temp\w*|fever\w*|thermometer|febrile|feverish|burning up|spiking|spiked)\b"
)
# Blood pressure "165/112", "160 over 105" (pain scores such as 10/10 and dates fall outside the ranges).
_BLOOD_PRESSURE = re.compile(r"(?<![\d/.])(\d{2,3})\s*(?:/|\bover\b)\s*(\d{2,3})(?![\d/])")
_AGE_PATTERNS = (
    re.compile(
        r"\b(?:i'?m|i am|im|he'?s|she'?s|hes|shes|is|age|aged|turned|turning|turn)\s+(\d{2,3})\b"
        r"(?!\s*(?:%|weeks?|wks?|months?|days?|hours?|hrs?|mins?|minutes?|lbs?|kg|pounds|times|x|/|\.\d))"
    ),
    re.compile(r"\b(\d{2,3})\s*-?\s*(?:yo|y/o|y\.o\.?|yrs?|years?|yr)\b(?:\s*-?\s*old)?(?!\s*ago)"),
    re.compile(r"\b(\d{2,3})\s*(?:year|yr)s?\s*-?\s*old\b"),
)
_AGE_DECADE = re.compile(r"\bin (?:my|his|her|their|your) (?:early |mid |late |mid-|late-)?([5-9])0'?s\b")
_AGE_WORDS = re.compile(
    r"\b(?:fifty|sixty|seventy|eighty|ninety)(?:[- ]\w+)?[- ](?:year|yr)s?[- ]old\b"
    r"|\b(?:sixties|seventies|eighties|nineties)\b"
)
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "couple": 2,
    "few": 3,
}
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "month": 30, "mo": 30}
_BIRTH = (
    r"(?:had (?:my|the|a|our) (?:baby|son|daughter|twins|little one)|gave birth|given birth|giving birth"
    r"|delivered|delivery|deliver|c-?section|cesarean|caesarean|born|postpartum|post-partum|post partum|pp"
    r"|newborn|baby)"
)
_AMOUNT = r"(\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple|few)\s*(?:of\s+)?"
_AFTER_BIRTH = (
    r"(?:postpartum|post-partum|post partum|pp"
    r"|after (?:giving birth|birth|delivery|(?:my|the) (?:baby|c-?section)))"
)
_SINCE_BIRTH = re.compile(
    _BIRTH + r"\D{0,40}?\b" + _AMOUNT + r"(day|week|wk|month|mo)s?\b"
    r"|\b" + _AMOUNT + r"(day|week|wk|month|mo)s?\s*(?:ago\s*)?" + _AFTER_BIRTH
)
# "took 8 advil", "4000 mg": more than a day's safe amount of most headache medicines.
_PILL_COUNT = re.compile(
    r"\b(?:took|taken|take|had|swallowed|downed|ate|popped)\s+"
    r"(?:like\s+|about\s+|around\s+|maybe\s+|over\s+|almost\s+)?(\d{1,3})\s+"
    r"(?!mg|milligram|min|minute|hour|hr|day|week|month|year|time|glass|drink|beer|shot|cup)"
)
# "like 10 pills in an hour", "8 tablets at once": many at once, whoever took them.
_PILLS_AT_ONCE = re.compile(
    r"\b(\d{1,3})\s+(?:pills|tablets|capsules|caplets|of them)\b[^.?!]{0,12}?"
    r"(?:\b(?:in|within)\s+(?:an?|one|\d+)\s+(?:hour|hours|hr|hrs|minutes?|mins?)\b"
    r"|\bat once\b|\bin one go\b)"
)
_MILLIGRAMS = re.compile(r"\b(\d{1,2}[,.]?\d{3})\s*(?:mg|milligrams?)\b")
_PAIN_SCORE = re.compile(r"(?<![\d/.])(9|10|11|12|15|20|100)\s*(?:/|out of)\s*10\b")
_BIRTH_RECENT_WORDS = re.compile(
    _BIRTH + r"\D{0,25}?\b(?:yesterday|last night|last week|this week"
    r"|on (?:mon|tues|wednes|thurs|fri|satur|sun)day|few days ago|couple (?:of )?days ago|days ago)"
)


def _number(word: str) -> float | None:
    try:
        return float(word.replace(",", "."))
    except ValueError:
        return None


def readings(text: str) -> set[str]:
    """Concepts that need arithmetic: a fever, a high blood pressure, an age of 50+, a recent birth."""
    lowered = text.lower().translate(_APOSTROPHES)
    found: set[str] = set()
    temperature_context = bool(_TEMPERATURE_WORDS.search(lowered))
    for match in _TEMPERATURE.finditer(lowered):
        value = _number(match.group(1))
        unit = (match.group(2) or "").replace(" ", "")
        if value is None or (not unit and not temperature_context):
            continue
        celsius = unit.endswith("c") or unit.endswith("celsius")
        fahrenheit = unit.endswith("f") or unit.endswith("fahrenheit")
        if (38.0 <= value <= 43.5 and not fahrenheit) or (100.4 <= value <= 108 and not celsius):
            found.add("fever_reading")
    for match in _BLOOD_PRESSURE.finditer(lowered):
        systolic, diastolic = int(match.group(1)), int(match.group(2))
        if 80 <= systolic <= 260 and 40 <= diastolic <= 160 and systolic > diastolic:
            if systolic >= 160 or diastolic >= 110:
                found |= {"bp_severe", "bp_raised"}
            elif systolic >= 140 or diastolic >= 90:
                found.add("bp_raised")
    ages = [int(m.group(1)) for pattern in _AGE_PATTERNS for m in pattern.finditer(lowered)]
    if any(50 <= age <= 110 for age in ages) or _AGE_DECADE.search(lowered) or _AGE_WORDS.search(lowered):
        found.add("age_50_plus")
    for match in _SINCE_BIRTH.finditer(lowered):
        amount, unit = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        )
        count = _NUMBER_WORDS.get(amount) or _number(amount) or 0
        days = count * _UNIT_DAYS.get(unit, 30)
        found.add("recent_birth" if days <= 42 else "older_birth")
    if _BIRTH_RECENT_WORDS.search(lowered):
        found.add("recent_birth")
    if any(int(m.group(1)) >= 6 for m in _PILL_COUNT.finditer(lowered)):
        found.add("many_pills")
    if any(int(m.group(1)) >= 5 for m in _PILLS_AT_ONCE.finditer(lowered)):
        found.add("many_pills")
    if any(int(re.sub(r"[,.]", "", m.group(1))) >= 4000 for m in _MILLIGRAMS.finditer(lowered)):
        found.add("many_pills")
    if _PAIN_SCORE.search(lowered):
        found.add("pain_max")
    return found


def read_common_words(path: Path = COMMON_WORDS) -> frozenset[str]:
    """The common English words of ``path`` (one per line; # comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


class RedFlagMatcher:
    """Matches the red-flag rules against one message at a time."""

    def __init__(self, spec: RedFlagSpec, nlp: Any, common_words: frozenset[str] | None = None) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS
        from spacy.matcher import Matcher

        self.spec = spec
        self._common_words = common_words if common_words is not None else read_common_words()
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
            or word in self._common_words
            or word in self._known_lemmas
            or word in self._vocabulary
            or (self._table is not None and word in self._table)
        )

    def key(self, word: str, lemma: str | None = None, correct: bool = True) -> str:
        """The matching key of one lower-case token."""
        if _NUMBER.match(word):
            return "<n50>" if 50 <= float(word) <= 120 else "<num>"
        if _YEAR.match(word):
            return "<year>"
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
        # The whole word first, then without an ending ("swallowd" -> "swallowed", not
        # "swallow" -> "shallow"); among equals, a word with the same first letter.
        forms = [word, *(word[: -len(s)] for s in ("s", "es", "ed", "d", "ing") if word.endswith(s))]
        for form in forms:
            if len(form) < self.spec.min_autocorrect_length:
                continue
            near = {e for e in one_edit_variants(form) if e in self._vocabulary}
            if near:
                best = min(near, key=lambda e: (e[0] != word[0], abs(len(e) - len(word)), e))
                return self._vocabulary[best]
        return None

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
            elif "|" in item or item.startswith("@"):
                # Any of: words, @lists, special keys; or exact surface forms (all =text).
                choices = [w for w in item.split("|") if w]
                if all(w.startswith("=") for w in choices):
                    pattern.append({"LOWER": {"IN": sorted(w[1:] for w in choices)}})
                    continue
                words = [
                    word
                    for choice in choices
                    for word in (self.spec.lists[choice[1:]] if choice.startswith("@") else (choice,))
                ]
                keys = {w if w in SPECIAL_KEYS else self._single_key(w, phrase) for w in words}
                pattern.append({"LEMMA": {"IN": sorted(keys)}})
            elif item.startswith("="):
                pattern.append({"LOWER": item[1:]})
            elif item in SPECIAL_KEYS:
                pattern.append({"LEMMA": item})
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
        present = set(analysis.present) | readings(text)
        # Readings that stand for a concept the rules already use.
        if present & {"age50", "older_person"}:
            present.add("age_50_plus")
        if "recent_birth" in present:
            present.add("pregnant")
        if "pain_max" in present:
            present.add("severe")
        if "different" in present:
            # "not my usual aura": the usual pattern is broken.
            present.discard("usual_pattern")
        analysis.present.update({name: [name] for name in present & set(READING_CONCEPTS)})
        # "can acupuncture help ...?" frames a general question only when it comes before the
        # symptom and nobody is described: appended ("my face is drooping, can acupuncture
        # help?", "fever and a stiff neck, is it safe?") it never cancels the emergency.
        symptom_starts = [
            start
            for concept in self._symptom_concepts
            if concept not in self.spec.context_concepts
            for start, _ in spans.get(concept, [])
        ]
        first_symptom = min(symptom_starts, default=len(keys))
        weak_starts = [start for start, _ in spans.get("general_question_weak", [])]
        if keys and keys[0] in QUESTION_OPENERS:
            weak_starts.append(0)
        framed = "general_question" in present or (
            "personal" not in present and any(start < first_symptom for start in weak_starts)
        )
        analysis.general_question = (
            framed and "acute" not in present and not {"personal", "headache"} <= present
        ) or "hypothetical" in present
        analysis.history = "long_ago" in present and "acute" not in present
        held_back: RedFlagMatch | None = None
        for rule in self.spec.rules:
            if any(concept in present for concept in rule.unless):
                continue
            alternative = next(
                (alt for alt in rule.alternatives if all(concept in present for concept in alt)), None
            )
            if alternative is None:
                continue
            history = analysis.history and not rule.history_counts
            if rule.gated and (analysis.general_question or history):
                # Context lowers the rule; a question about someone gets the check-in.
                if held_back is None and not history and "personal" in present:
                    held_back = RedFlagMatch(
                        rule.id, rule.description, alternative, tier=CHECK_IN, candidate_tier=rule.tier
                    )
                continue
            analysis.match = RedFlagMatch(rule.id, rule.description, alternative, tier=rule.tier)
            return analysis
        analysis.match = held_back
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
                    "tier": analysis.match.tier if analysis.match else None,
                    "history": analysis.history,
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
