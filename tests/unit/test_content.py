"""Content files: every problem reported at once, with file, position and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.settings import PROJECT_ROOT
from actions.store.content import ContentError, read_faq_content


def write(directory: Path, text: str) -> Path:
    (directory / "faq").mkdir(parents=True, exist_ok=True)
    (directory / "faq" / "topics.yml").write_text(text, encoding="utf-8")
    return directory


VALID_TOPIC = """
  - key: {key}
    title: A title
    treatment: {treatment}
    aspect: {aspect}
    answer: Some answer.
    sources:
      - title: A source
        url: https://example.org/a
    reviewed: "2026-11-01"
"""


def test_the_shipped_content_is_valid():
    content = read_faq_content(PROJECT_ROOT / "data" / "content")
    assert len(content.answers) >= 5
    for answer in content.answers:
        assert answer.sources, answer.key
        assert answer.text.split("\n")[0].strip(), answer.key


def test_valid_file_parses(tmp_path):
    directory = write(
        tmp_path, "version: '1'\ntopics:" + VALID_TOPIC.format(key="abc", treatment="general", aspect="x")
    )
    content = read_faq_content(directory)
    assert content.keys() == {"abc"} and content.version == "1"


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ("\n  - key: abc\n    title: t\n", "topic 1: missing treatment, aspect, answer, sources, reviewed"),
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
