"""The one validation style every content loader uses (actions/store/validation.py)."""

from __future__ import annotations

from datetime import date

from actions.store.validation import Checker, SourceFormat, ValidationError, item_lines, parse_sources

TODAY = date(2026, 11, 21)


def test_a_problem_names_its_place_and_with_a_file_its_line():
    problems: list[str] = []
    Checker(problems, {}, "row 2").problem("grade must be one of a, b", "grade")
    check = Checker(problems, {}, "AL", filename="dry_needling.yml", lines={"": 7, "board": 9})
    check.problem("board must be non-empty text", "board")
    check.child({}, "others 1", lines={"": 12}).problem("who listed twice", "who")
    assert problems == [
        "row 2: grade must be one of a, b",
        "dry_needling.yml:9: AL: board must be non-empty text",
        "dry_needling.yml:12: AL others 1: who listed twice",
    ]


def test_one_error_lists_every_problem():
    class ExampleError(ValidationError):
        heading = "invalid example"

    error = ExampleError(["a: first", "b: second"])
    assert str(error) == "invalid example:\n  - a: first\n  - b: second"
    assert error.problems == ["a: first", "b: second"]


def test_fields_unknown_missing_and_dates():
    problems: list[str] = []
    check = Checker(
        problems, {"state": "AL", "colour": "red", "verified_on": "2027-01-01"}, "AL", today=TODAY
    )
    assert not check.fields(("state", "name", "verified_on"), ("state", "name"))
    assert check.date_value("verified_on") == date(2027, 1, 1)
    assert check.date_value("name", label="reviewed date") is None
    assert problems == [
        "AL: unknown field(s) colour",
        "AL: missing name",
        "AL: verified_on 2027-01-01 is in the future",
        "AL: name must be a date YYYY-MM-DD, got None",
    ]


def test_one_sources_parser_for_every_format():
    problems: list[str] = []
    form = SourceFormat(key="key", key_lengths=(2, 80), dated="dated", url_optional=True)
    items = [
        {"key": "ok_source", "title": "A  title", "url": None, "dated": "undated"},
        {"key": "ok_source", "title": "Again", "url": None, "dated": "undated"},
        {"key": "Bad", "title": "T", "url": "ftp://x", "dated": "2020"},
        {"title": "T", "dated": "2020"},
        "not a mapping",
    ]
    sources = parse_sources(items, form, lambda index, item: Checker(problems, item, f"source {index + 1}"))
    assert list(sources) == ["ok_source"]
    assert sources["ok_source"].title == "A title" and sources["ok_source"].url is None
    assert problems == [
        "source 2 (ok_source): duplicate key",
        "source 3 (Bad): key must be lower_snake_case, 2-80 characters",
        "source 3 (Bad): url must be null or an address starting with http(s)://",
        "source 4: missing key, url",
        "source 5: must be a mapping",
    ]

    problems.clear()
    in_place = parse_sources(
        [{"title": "T", "url": "https://example.org/a"}, {"title": "T", "url": "example.org"}],
        SourceFormat(),
        lambda index, item: Checker(problems, item, f"topic 1 source {index + 1}"),
    )
    assert list(in_place) == ["1", "2"]
    assert problems == ["topic 1 source 2: url must start with http(s)://"]


def test_item_lines_finds_each_item_and_field():
    text = "version: '1'\nstates:\n  - state: AL\n    sources:\n      - a\n      - b\n  - state: AK\n"
    assert item_lines(text, "states") == [
        {"": 3, "state": 3, "sources": 4, "sources#1": 5, "sources#2": 6},
        {"": 7, "state": 7},
    ]
