"""Unanswered questions grouped by similarity, with a suggested question type and treatment.

Grouping: identical wordings are merged first; the most frequent distinct wordings (at most
``MAX_DISTINCT``) are then grouped greedily: in order of frequency, a wording joins the group
whose leading wording is closest, if at least ``SIMILARITY`` close (cosine over TF-IDF of words and
character 3-5-grams, so typos still meet), else it starts a group. Simple, deterministic,
and fast enough for a month of a busy clinic.

Suggestion (a draft for staff to correct, never used by the bot): the nearest training
example in ``data/nlu`` (same TF-IDF) gives the intent, e.g. ``faq/acupuncture_side_effects``,
whose content file gives the question type; the treatment is the one the wording names
(``data/lexicon/treatments.yml``), else the suggested answer's. No Rasa model is loaded.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from actions.settings import PROJECT_ROOT
from insights.analysis import GENERAL, Topic, UnansweredTurn
from lexicon import load_treatments

MAX_DISTINCT = 5_000
BLOCK = 512
SIMILARITY = 0.5
EXAMPLES_SHOWN = 3
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


@dataclass(frozen=True)
class Suggestion:
    """What the group probably asks: an intent to file it under, its topic, how close."""

    intent: str
    topic: Topic
    similarity: float


@dataclass
class QuestionGroup:
    """Similar unanswered wordings: how many messages, which categories, the wordings."""

    messages: int
    wordings: list[tuple[str, int]]
    categories: Counter[str]
    languages: Counter[str]
    suggestion: Suggestion | None = None

    @property
    def label(self) -> str:
        return self.wordings[0][0]

    @property
    def examples(self) -> list[str]:
        return [text for text, _ in self.wordings[:EXAMPLES_SHOWN]]


def _vectorizer_pair() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    return (
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
    )


def _fit(texts: list[str]) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    words, chars = _vectorizer_pair()
    words.fit(texts)
    chars.fit(texts)
    return words, chars


def _vectors(texts: list[str], fitted: tuple[TfidfVectorizer, TfidfVectorizer]):
    words, chars = fitted
    return normalize(hstack([words.transform(texts), chars.transform(texts)]).tocsr())


@lru_cache(maxsize=2)
def training_examples(nlu_dir: Path = NLU_DIR) -> tuple[tuple[str, str], ...]:
    """(text, intent) of every NLU training example, entity markup removed."""
    examples: list[tuple[str, str]] = []
    yaml = YAML(typ="safe", pure=True)
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()
                if text.startswith("- "):
                    text = _ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), text[2:]).strip()
                    if text:
                        examples.append((text, str(intent)))
    return tuple(examples)


def named_treatment(text: str) -> str | None:
    """The treatment a wording names ("dry needling", "tuina", "acupunture" -> key), if one."""
    folded = f" {re.sub(r'[^a-z0-9]+', ' ', text.lower())} "
    found = {
        term.key
        for term in load_treatments()
        for phrase in term.phrases
        if f" {re.sub(r'[^a-z0-9]+', ' ', phrase.lower()).strip()} " in folded
    }
    return found.pop() if len(found) == 1 else None


def group_questions(
    questions: Iterable[UnansweredTurn],
    topics: Mapping[str, Topic],
    similarity: float = SIMILARITY,
    nlu_dir: Path = NLU_DIR,
) -> list[QuestionGroup]:
    """Groups of similar unanswered wordings, largest first, each with a suggestion."""
    counts: Counter[str] = Counter()
    categories: dict[str, Counter[str]] = {}
    languages: dict[str, Counter[str]] = {}
    for question in questions:
        text = " ".join(question.text.split())
        if not text:
            continue
        counts[text] += 1
        categories.setdefault(text, Counter())[question.category] += 1
        if question.language:
            languages.setdefault(text, Counter())[question.language] += 1
    if not counts:
        return []
    distinct = [text for text, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    distinct = distinct[:MAX_DISTINCT]
    examples = training_examples(nlu_dir)
    fitted = _fit(distinct + [text for text, _ in examples])
    vectors = _vectors(distinct, fitted)
    members = _greedy_groups(vectors, similarity)
    groups: list[QuestionGroup] = []
    for indices in members:
        texts = [distinct[i] for i in indices]
        group = QuestionGroup(
            messages=sum(counts[t] for t in texts),
            wordings=[(t, counts[t]) for t in texts],
            categories=sum((categories[t] for t in texts), Counter()),
            languages=sum((languages.get(t, Counter()) for t in texts), Counter()),
        )
        groups.append(group)
    if examples:
        example_vectors = _vectors([text for text, _ in examples], fitted)
        for group, indices in zip(groups, members, strict=False):
            centroid = normalize(vectors[indices].sum(axis=0).A)
            scores = example_vectors @ centroid.ravel()
            best = int(scores.argmax())
            intent = examples[best][1]
            group.suggestion = Suggestion(intent, _topic_of(intent, group, topics), float(scores[best]))
    groups.sort(key=lambda g: (-g.messages, g.label))
    return groups


def _greedy_groups(vectors, similarity: float) -> list[list[int]]:
    """Row indices grouped: each row joins the closest earlier group leader if it is at least
    ``similarity`` close, else leads a group of its own (similarities computed in blocks)."""
    count = vectors.shape[0]
    leader = np.zeros(count, dtype=bool)
    group_of = np.full(count, -1)
    members: list[list[int]] = []
    for start in range(0, count, BLOCK):
        stop = min(start + BLOCK, count)
        block = (vectors[start:stop] @ vectors[:stop].T).toarray()
        for index in range(start, stop):
            candidates = np.flatnonzero(leader[:index])
            if candidates.size:
                scores = block[index - start, candidates]
                best = int(scores.argmax())
                if scores[best] >= similarity:
                    group = int(group_of[candidates[best]])
                    members[group].append(index)
                    continue
            leader[index] = True
            group_of[index] = len(members)
            members.append([index])
    return members


def _topic_of(intent: str, group: QuestionGroup, topics: Mapping[str, Topic]) -> Topic:
    named = next((t for t in (named_treatment(w) for w, _ in group.wordings) if t), None)
    if intent.startswith("faq/"):
        topic = topics.get(intent[4:]) or Topic(intent[4:], GENERAL)
        return Topic(topic.question_type, named or topic.treatment)
    return Topic(intent, named or GENERAL)
