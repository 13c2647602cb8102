"""Red flags written in another language: does a message need urgent care, and how urgent?

The English detector (``nlp_pipeline.red_flags``) reads lemmas of English words; a message in
Spanish or Chinese passes it unread, and before this module "tengo el peor dolor de cabeza de
mi vida" got only the language reply. ``data/safety/red_flags_other_languages.yml`` holds, per
language, rules of regular expressions; the guidance of each tier in that language is content
(``data/content/other_languages.yml``, read by ``actions/triage.py``).

Matching is deliberately simple and deterministic:

- the text and every pattern lose their combining marks the same way (``fold``,
  ``fold_pattern``): Unicode compatibility form, no accents, case ignored, so "cabeza",
  "CABEZA" and "cabéza" are one word and writers who drop accents are read;
- a rule fires when, for every group in its ``all`` list, one of the group's patterns is
  found (``re.search``), and none of the rule's or its language's ``unless`` patterns is (a
  general question, a denial, history);
- rules are tried in tier order (crisis, poisoning, emergency, same_day), the first wins.

Nothing runs at import time; ``OtherLanguageRedFlags.from_yaml()`` loads and compiles.
``python -m nlp_pipeline.red_flags_languages es "message"`` explains a decision.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexicon import PROJECT_ROOT
from nlp_pipeline.red_flags import TIERS

DEFAULT_PATTERNS = PROJECT_ROOT / "data" / "safety" / "red_flags_other_languages.yml"


def _without_marks(text: str) -> str:
    """Compatibility form without combining marks. Hangul and kana survive: decomposing and
    recomposing gives the same syllables back, and only marks (category Mn) are dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFKC", kept)


def fold(text: str) -> str:
    """A message as the patterns read it: without combining marks, case-folded. Not
    ``lexicon.fold``, which also turns punctuation into spaces and leaves Hangul decomposed."""
    return _without_marks(text).casefold()


def fold_pattern(pattern: str) -> str:
    """A pattern without combining marks. Its case is kept (an upper-case escape such as "not a
    space" must not become its lower-case opposite) and it is compiled case-insensitively; "ß"
    is written as casefold writes it ("ss")."""
    return _without_marks(pattern).replace("ß", "ss")


class OtherLanguageSpecError(ValueError):
    """The patterns file is malformed; every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("red_flags_other_languages.yml: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class LanguageRule:
    rule_id: str
    tier: str
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None

    def fires(self, folded: str) -> bool:
        if self.unless is not None and self.unless.search(folded):
            return False
        return all(group.search(folded) for group in self.groups)


@dataclass(frozen=True)
class LanguageMatch:
    rule: str
    tier: str
    language: str


@dataclass(frozen=True)
class LanguageRedFlags:
    language: str
    rules: tuple[LanguageRule, ...]
    unless: re.Pattern[str] | None

    def detect(self, folded: str) -> LanguageMatch | None:
        """The first rule that fires on ``folded`` (a message already passed through ``fold``)."""
        if self.unless is not None and self.unless.search(folded):
            return None
        for rule in self.rules:
            if rule.fires(folded):
                return LanguageMatch(rule.rule_id, rule.tier, self.language)
        return None


def _alternation(patterns: Sequence[Any], where: str, problems: list[str]) -> re.Pattern[str] | None:
    """One compiled alternation of folded patterns; problems are collected, not raised."""
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        problems.append(f"{where}: expected a non-empty list of patterns")
        return None
    parts = []
    for pattern in patterns:
        folded = fold_pattern(pattern)
        try:
            re.compile(folded)
        except re.error as error:
            problems.append(f"{where}: {pattern!r}: {error}")
            continue
        parts.append(f"(?:{folded})")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class OtherLanguageRedFlags:
    """Every language's rules; ``detect(text, language)``."""

    def __init__(self, languages: Mapping[str, LanguageRedFlags]) -> None:
        self._languages = dict(languages)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._languages)

    @classmethod
    def from_yaml(cls, path: Path = DEFAULT_PATTERNS) -> OtherLanguageRedFlags:
        from ruamel.yaml import YAML

        return cls.from_dict(YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: Any) -> OtherLanguageRedFlags:
        problems: list[str] = []
        languages: dict[str, LanguageRedFlags] = {}
        entries = data.get("languages") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or not entries:
            raise OtherLanguageSpecError(["expected a mapping 'languages'"])
        seen: set[str] = set()
        for code, entry in entries.items():
            where = f"languages.{code}"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected a mapping")
                continue
            unless = entry.get("unless")
            language_unless = _alternation(unless, f"{where}.unless", problems) if unless else None
            rules: list[LanguageRule] = []
            for index, raw in enumerate(entry.get("rules") or []):
                rule_where = f"{where}.rules[{index}]"
                rule_id = raw.get("id") if isinstance(raw, dict) else None
                if not isinstance(rule_id, str) or not rule_id:
                    problems.append(f"{rule_where}: missing id")
                    continue
                if rule_id in seen:
                    problems.append(f"{rule_where}: duplicate id {rule_id}")
                seen.add(rule_id)
                tier = raw.get("tier")
                if tier not in TIERS:
                    problems.append(f"{rule_where} ({rule_id}): tier must be one of {', '.join(TIERS)}")
                    continue
                groups_raw = raw.get("all")
                if not isinstance(groups_raw, list) or not groups_raw:
                    problems.append(f"{rule_where} ({rule_id}): 'all' must be a non-empty list of groups")
                    continue
                groups = [_alternation(g, f"{rule_where} ({rule_id}).all", problems) for g in groups_raw]
                rule_unless = (
                    _alternation(raw["unless"], f"{rule_where} ({rule_id}).unless", problems)
                    if raw.get("unless")
                    else None
                )
                if all(group is not None for group in groups):
                    rules.append(LanguageRule(rule_id, tier, tuple(g for g in groups if g), rule_unless))
            if not rules:
                problems.append(f"{where}: no rules")
            rules.sort(key=lambda rule: TIERS.index(rule.tier))
            languages[str(code)] = LanguageRedFlags(str(code), tuple(rules), language_unless)
        if problems:
            raise OtherLanguageSpecError(problems)
        return cls(languages)

    def rules(self, language: str) -> tuple[LanguageRule, ...]:
        """The rules of ``language``, most urgent tier first (none for a language without rules)."""
        found = self._languages.get(language)
        return found.rules if found else ()

    def detect(self, text: str, language: str) -> LanguageMatch | None:
        """The first rule of ``language`` that fires, or None (also for a language with no rules)."""
        rules = self._languages.get(language)
        return rules.detect(fold(text)) if rules else None

    def detect_any(self, text: str, languages: Iterable[str] | None = None) -> LanguageMatch | None:
        """The most urgent match over ``languages`` (default: every language), for a message
        whose language was not told."""
        codes = self._languages if languages is None else [c for c in languages if c in self._languages]
        folded = fold(text)  # once, not once per language
        matches = [m for code in codes if (m := self._languages[code].detect(folded))]
        return min(matches, key=lambda m: TIERS.index(m.tier)) if matches else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", help="ISO 639-1 code, or 'any'")
    parser.add_argument("text")
    args = parser.parse_args(argv)
    flags = OtherLanguageRedFlags.from_yaml()
    match = flags.detect_any(args.text) if args.language == "any" else flags.detect(args.text, args.language)
    sys.stdout.write(f"folded: {fold(args.text)}\nmatch: {match}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
