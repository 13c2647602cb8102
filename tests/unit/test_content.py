"""Content files: every problem reported at once, with file, position and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.rendering import faq_short_first
from actions.settings import PROJECT_ROOT
from actions.store.content import SHORT_MAX_WORDS, ContentError, read_faq_content


def write(directory: Path, text: str) -> Path:
    (directory / "faq").mkdir(parents=True, exist_ok=True)
    (directory / "faq" / "topics.yml").write_text(text, encoding="utf-8")
    return directory


VALID_TOPIC = """
  - key: {key}
    title: A title
    treatment: {treatment}
    aspect: {aspect}
    short: The short answer.
    answer: Some answer.
    sources:
      - title: A source
        url: https://example.org/a
    reviewed: "2026-11-01"
"""


SHIPPED = read_faq_content(PROJECT_ROOT / "data" / "content")


def test_the_shipped_content_is_valid():
    assert len(SHIPPED.answers) >= 5
    for answer in SHIPPED.answers:
        assert answer.sources, answer.key
        assert answer.text.split("\n")[0].strip(), answer.key


@pytest.mark.parametrize("answer", SHIPPED.answers, ids=lambda answer: answer.key)
def test_every_answer_starts_with_a_short_answer(answer):
    """Issue 20: one or two sentences (at most 40 words) that answer the question come first;
    the detail does not repeat them."""
    assert answer.short and len(answer.short.split()) <= SHORT_MAX_WORDS
    assert answer.short.rstrip().endswith((".", "?", "!", ")", '"')), answer.short
    assert not answer.text.startswith(answer.short)


def test_the_short_answer_comes_first_in_the_message():
    answer = SHIPPED.answers[0]
    first, detail = faq_short_first(answer).messages()
    assert first["text"] == answer.short
    assert answer.text in detail["text"] and answer.sources[0].url in detail["text"]


def test_valid_file_parses(tmp_path):
    directory = write(
        tmp_path, "version: '1'\ntopics:" + VALID_TOPIC.format(key="abc", treatment="general", aspect="x")
    )
    content = read_faq_content(directory)
    assert content.keys() == {"abc"} and content.version == "1"


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        (
            "\n  - key: abc\n    title: t\n",
            "topic 1: missing treatment, aspect, short, answer, sources, reviewed",
        ),
        (
            VALID_TOPIC.format(key="abc", treatment="general", aspect="x").replace(
                "The short answer.", "word " * 41
            ),
            "short has 41 words; at most 40",
        ),
        (
            VALID_TOPIC.format(key="abc", treatment="general", aspect="x").replace(
                "short: The short answer.", "short: '- a list item'"
            ),
            "short must be a sentence",
        ),
        (VALID_TOPIC.format(key="Bad Key", treatment="general", aspect="x"), "lower_snake_case"),
        (VALID_TOPIC.format(key="abc", treatment="reiki", aspect="x"), "unknown treatment 'reiki'"),
        (
            VALID_TOPIC.format(key="abc", treatment="general", aspect="x").replace("2026-11-01", "yesterday"),
            "reviewed must be a date",
        ),
        (
            VALID_TOPIC.format(key="abc", treatment="general", aspect="x").replace("https://", "ftp://"),
            "url must start with http",
        ),
        (VALID_TOPIC.format(key="abc", treatment="general", aspect="x") * 2, "duplicate key 'abc'"),
        (
            VALID_TOPIC.format(key="abc", treatment="general", aspect="x")
            + VALID_TOPIC.format(key="abd", treatment="general", aspect="x"),
            "already used by abc",
        ),
    ],
)
def test_invalid_content_is_reported(tmp_path, topics, expected):
    directory = write(tmp_path, "version: '1'\ntopics:" + topics)
    with pytest.raises(ContentError) as raised:
        read_faq_content(directory)
    assert expected in str(raised.value)


def test_broken_yaml_is_reported_with_the_file_name(tmp_path):
    directory = write(tmp_path, "topics: [unclosed")
    with pytest.raises(ContentError, match="topics.yml: not valid YAML"):
        read_faq_content(directory)
