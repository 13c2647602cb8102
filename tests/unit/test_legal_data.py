"""data/legal: the shipped tables, validation with file and line, dates and staleness."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from actions.settings import PROJECT_ROOT
from actions.store.legal_data import (
    LegalDataError,
    is_stale,
    max_age_months,
    months_before,
    read_legal_data,
    stale_rows,
)
from actions.store.legal_repository import ALLOWED, NOT_ADDRESSED, PROHIBITED, UNCLEAR
from lexicon import load_states

DATA = PROJECT_ROOT / "data"
CODES = {state.code for state in load_states()}


@pytest.fixture(scope="module")
def dataset():
    return read_legal_data(DATA)


def copied_data(tmp_path: Path) -> Path:
    """A writable copy of data/legal (and the lexicon it checks state names against)."""
    shutil.copytree(DATA / "legal", tmp_path / "legal")
    shutil.copytree(DATA / "lexicon", tmp_path / "lexicon")
    return tmp_path


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, fragment: str, start_after: str | None = None) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    begin = next(i for i, line in enumerate(lines) if start_after in line) if start_after else 0
    return next(i for i, line in enumerate(lines) if i >= begin and fragment in line) + 1


def test_every_jurisdiction_has_one_row_in_each_table(dataset):
    assert [rule.state_code for rule in dataset.dry_needling] == sorted(
        (rule.state_code for rule in dataset.dry_needling),
        key=lambda code: next(r.state_name for r in dataset.dry_needling if r.state_code == code),
    )
    assert {rule.state_code for rule in dataset.dry_needling} == CODES
    assert {row.state_code for row in dataset.acupuncture} == CODES
    assert len(dataset.dry_needling) == len(dataset.acupuncture) == 51


def test_every_row_has_a_source_and_both_dates(dataset):
    for row in (*dataset.dry_needling, *dataset.acupuncture):
        assert row.sources, row.state_code
        assert row.verified_on <= date.today(), row.state_code
        if row.source_date_precision == "undated":
            assert row.source_date is None, row.state_code
        else:
            assert row.source_date is not None and row.source_date <= row.verified_on, row.state_code


def test_statuses_match_the_fact_sheets(dataset):
    """Spot checks of the facts the issue names."""
    dn = {rule.state_code: rule for rule in dataset.dry_needling}
    assert {code for code, rule in dn.items() if rule.status == PROHIBITED} == {"CA", "HI", "NY", "OR"}
    assert {code for code, rule in dn.items() if rule.status == UNCLEAR} == {"AR", "CT"}
    assert {code for code, rule in dn.items() if rule.status == NOT_ADDRESSED} == {
        "MA",
        "MI",
        "MN",
        "MO",
        "OK",
        "PA",
    }
    assert dn["OH"].status == ALLOWED
    assert any("HB 3824" in change for change in dn["OR"].pending)
    assert dn["AR"].conflict and dn["CT"].conflict
    assert dn["AL"].other("chiropractor") is not None
    assert dn["WA"].source_date == date(2024, 6, 22)

    acu = {row.state_code: row for row in dataset.acupuncture}
    assert {code for code, row in acu.items() if not row.licensed} == {"AL", "OK", "SD"}
    assert "CALE" in acu["CA"].exam
    assert acu["NM"].licensed_title == "Doctor of Oriental Medicine (DOM)"
    assert acu["NV"].caveats, "Nevada's O.M.D. title is unverified in the credentials sheet"


def test_summary_counts(dataset):
    assert dataset.oldest_verified_on() == date(2026, 11, 21)
    assert dataset.oldest_source_date() == date(2008, 1, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected", "fragment"),
    [
        ("    status: allowed\n", "    status: legal\n", "status must be one of", "status: legal"),
        ("  - state: AL\n", "  - state: XX\n", "state must be a USPS code", "state: XX"),
        ("    name: Alabama\n", "    name: Alabamaa\n", "name must be 'Alabama' for AL", "name: Alabamaa"),
        (
            "    source_date: 2026-01-01\n",
            "    source_date: 2026-01-15\n",
            "month-precision source_date must be the first day",
            "source_date: 2026-01-15",
        ),
        (
            "    verified_on: 2026-11-21\n",
            "    verified_on: 2999-01-01\n",
            "verified_on 2999-01-01 is in the future",
            "verified_on: 2999-01-01",
        ),
        (
            "    sources: [pphc_2026, apta_2023, al_chiro_rule]\n",
            "    sources: [pphc_2026, no_such_source, al_chiro_rule]\n",
            "unknown source key 'no_such_source'",
            "no_such_source",
        ),
        (
            "    board_url: null\n",
            "    board_url: www.example.org\n",
            "board_url must be null",
            "board_url: www",
        ),
        (
            "    conflict: null\n",
            "    conflict: null\n    colour: red\n",
            "unknown field(s) colour",
            "colour: red",
        ),
    ],
)
def test_each_problem_names_file_line_and_state(tmp_path, old, new, expected, fragment):
    data_dir = copied_data(tmp_path)
    path = data_dir / "legal" / "dry_needling.yml"
    replace_in(path, old, new)

    with pytest.raises(LegalDataError) as raised:
        read_legal_data(data_dir, today=date(2026, 11, 21))

    line = line_of(path, fragment)
    matching = [p for p in raised.value.problems if expected in p]
    assert matching, raised.value.problems
    assert matching[0].startswith(f"dry_needling.yml:{line}: "), matching[0]


def test_every_bad_row_is_reported_at_once(tmp_path):
    data_dir = copied_data(tmp_path)
    dn = data_dir / "legal" / "dry_needling.yml"
    acu = data_dir / "legal" / "acupuncture_licensure.yml"
    replace_in(dn, "    status: prohibited\n", "    status: banned\n")  # California
    replace_in(dn, "    status: unclear\n", "    status: maybe\n")  # Arkansas
    replace_in(acu, "    licensed: true\n", "    licensed: yes please\n")  # Alaska

    with pytest.raises(LegalDataError) as raised:
        read_legal_data(data_dir, today=date(2026, 11, 21))

    problems = raised.value.problems
    assert any(p.startswith("dry_needling.yml:") and ": CA: status must be one of" in p for p in problems)
    assert any(p.startswith("dry_needling.yml:") and ": AR: status must be one of" in p for p in problems)
    assert any(p.startswith("acupuncture_licensure.yml:") and ": AK: licensed must be" in p for p in problems)


def test_missing_and_duplicated_states_are_reported(tmp_path):
    data_dir = copied_data(tmp_path)
    path = data_dir / "legal" / "acupuncture_licensure.yml"
    replace_in(path, "  - state: WY\n    name: Wyoming\n", "  - state: WV\n    name: West Virginia\n")

    with pytest.raises(LegalDataError) as raised:
        read_legal_data(data_dir, today=date(2026, 11, 21))

    assert "acupuncture_licensure.yml: WV appears 2 times" in raised.value.problems
    assert "acupuncture_licensure.yml: no row for WY" in raised.value.problems


def test_unclear_needs_an_explanation_and_licensing_states_need_a_board(tmp_path):
    data_dir = copied_data(tmp_path)
    dn = data_dir / "legal" / "dry_needling.yml"
    text = dn.read_text(encoding="utf-8")
    start = text.index("  - state: CT")
    end = text.index("  - state: DE")
    block = text[start:end]
    block = block.replace(
        block[block.index("    conflict: >-") : block.index("    board:")], "    conflict: null\n"
    )
    dn.write_text(text[:start] + block + text[end:], encoding="utf-8")
    acu = data_dir / "legal" / "acupuncture_licensure.yml"
    replace_in(acu, '    board: "Arizona Acupuncture Board of Examiners"\n', "    board: null\n")

    with pytest.raises(LegalDataError) as raised:
        read_legal_data(data_dir, today=date(2026, 11, 21))

    assert any(": CT: an unclear status needs a conflict or caveats" in p for p in raised.value.problems)
    assert any(": AZ: a licensing state needs a title and a board" in p for p in raised.value.problems)


def test_check_first_is_optional_and_must_be_a_sentence(dataset, tmp_path):
    dn = {rule.state_code: rule for rule in dataset.dry_needling}
    # Illinois: the statute section was due to be repealed on 1 January 2026 (facts: IL row).
    assert dn["IL"].check_first and "repealed on 1 January 2026" in dn["IL"].check_first
    assert dn["IL"].status == ALLOWED
    assert [code for code, rule in dn.items() if rule.check_first] == ["IL"]
    # Alabama: the dry needling and acupuncture tables' sources disagree about PTs.
    assert dn["AL"].conflict and "physicians and chiropractors" in dn["AL"].conflict

    data_dir = copied_data(tmp_path)
    path = data_dir / "legal" / "dry_needling.yml"
    replace_in(
        path, "    check_first: >-\n", "    check_first: >-\n      lower case and no full stop\n      "
    )
    with pytest.raises(LegalDataError) as raised:
        read_legal_data(data_dir, today=date(2026, 11, 21))
    assert any(
        ": IL: check_first must be a sentence" in p for p in raised.value.problems
    ), raised.value.problems


def test_unused_sources_and_broken_yaml_are_reported(tmp_path):
    data_dir = copied_data(tmp_path)
    sources = data_dir / "legal" / "sources.yml"
    sources.write_text(
        sources.read_text(encoding="utf-8")
        + '  - key: orphan\n    title: "Nobody cites me"\n    url: null\n    dated: "undated"\n',
        encoding="utf-8",
    )
    with pytest.raises(LegalDataError, match="cited by no row: orphan"):
        read_legal_data(data_dir, today=date(2026, 11, 21))

    (data_dir / "legal" / "dry_needling.yml").write_text("states: [unclosed", encoding="utf-8")
    with pytest.raises(LegalDataError, match="dry_needling.yml: not valid YAML"):
        read_legal_data(data_dir, today=date(2026, 11, 21))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 21), 12, date(2025, 11, 21)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 15), 13, date(2024, 12, 15)),
    ],
)
def test_months_before(day, months, expected):
    assert months_before(day, months) == expected


def test_staleness_boundary():
    today = date(2026, 11, 21)
    assert not is_stale(date(2025, 11, 21), today, 12)
    assert is_stale(date(2025, 11, 20), today, 12)


def test_stale_rows_lists_each_table_and_state(dataset):
    assert stale_rows(dataset, date(2026, 11, 21), 12) == []
    stale = stale_rows(dataset, date(2028, 1, 1), 12)
    assert len(stale) == 102
    assert {row.table for row in stale} == {"dry_needling", "acupuncture"}
    assert stale[0].state_name == "Alabama" and stale[0].verified_on == date(2026, 11, 21)


@pytest.mark.parametrize(("raw", "expected"), [(None, 12), ("", 12), ("6", 6), (" 24 ", 24)])
def test_max_age_from_the_environment(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("LEGAL_MAX_AGE_MONTHS", raising=False)
    else:
        monkeypatch.setenv("LEGAL_MAX_AGE_MONTHS", raw)
    assert max_age_months() == expected


@pytest.mark.parametrize("raw", ["twelve", "0", "-3"])
def test_bad_max_age_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("LEGAL_MAX_AGE_MONTHS", raw)
    with pytest.raises(ValueError, match="LEGAL_MAX_AGE_MONTHS"):
        max_age_months()
