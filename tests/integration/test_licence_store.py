"""Licence import and lookups against real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actions.credentials import ActionCheckLicence, ActionFindPractitioners, StaticBoardDirectory
from actions.settings import PROJECT_ROOT
from actions.store.database import session_scope
from actions.store.licence_csv import ImportOptions, MalformedFile
from actions.store.licence_import import (
    BATCH_SIZE,
    import_licences,
    load_demo_licences,
)
from actions.store.licence_models import LicenceRow
from actions.store.licence_repository import (
    InMemoryLicenceRepository,
    LicenceRecord,
    SqlLicenceRepository,
)
from tests.conftest import make_tracker, run_action

TODAY = date(2026, 11, 21)
DATA_DIR = PROJECT_ROOT / "data"
DEMO = DATA_DIR / "licences" / "demo_licences.csv"
TABLE = LicenceRow.__table__
HEADER = (
    "state,license_number,license_type,first_name,last_name,city,status,issue_date,expiration_date,"
    "credentials,source,retrieved_on\n"
)


def licence_count(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(TABLE)).scalar_one())


@contextmanager
def repository(engine) -> Iterator[SqlLicenceRepository]:
    with session_scope(engine) as session:
        yield SqlLicenceRepository(session, today=TODAY)


@pytest.fixture
def demo_engine(any_engine):
    load_demo_licences(DATA_DIR, any_engine)
    return any_engine


def numbers(records: list[LicenceRecord]) -> list[str]:
    return [record.license_number for record in records]


def test_demo_import_is_idempotent(any_engine):
    first = import_licences(DEMO, any_engine, today=TODAY)
    second = import_licences(DEMO, any_engine, ImportOptions(), today=TODAY)
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (24, 0, 0, [])
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 24, [])
    assert licence_count(any_engine) == 24


@pytest.mark.parametrize("typed", ["DEMO-AC-00123", "demo ac 00123", "DEMOAC00123", "AC-00123", "00123"])
def test_find_by_number_tolerates_formats(demo_engine, typed):
    with repository(demo_engine) as repo:
        assert numbers(repo.find_by_number("TX", typed)) == ["DEMO-AC-00123"]


def test_find_by_number_is_per_state(demo_engine):
    with repository(demo_engine) as repo:
        assert repo.find_by_number("CA", "DEMO-AC-00123") == []
        assert repo.find_by_number("TX", "99999") == []


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("jane", "EXAMPLE", ["DEMO-AC-00123"]),
        ("Jane", "Example", ["DEMO-AC-00123"]),
        (None, "Madeup", ["DEMO-AC-00133"]),
        ("J", "Example", ["DEMO-AC-00123"]),
        ("Alex", "Sample", ["DEMO-AC-00132", "DEMO-AC-00131"]),  # Dallas, Houston
        ("Alex", "Sampel", ["DEMO-AC-00132", "DEMO-AC-00131"]),  # typo: closest spelling
        ("Nobody", "Example", []),
        ("Jane", "Doe", []),
    ],
)
def test_find_by_name(demo_engine, first, last, expected):
    with repository(demo_engine) as repo:
        assert numbers(repo.find_by_name("TX", first, last)) == expected


def test_names_with_accents_and_two_part_surnames(any_engine, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        HEADER
        + "NM,AC-1,Licensed Acupuncturist,José,García López,Santa Fe,active,,2027-01-01,,T,2026-11-01\n"
        + "NM,AC-2,Licensed Acupuncturist,Mary Ann,O'Neil-Smith,Taos,active,,2027-01-01,,T,2026-11-01\n",
        encoding="utf-8",
    )
    import_licences(path, any_engine, today=TODAY)
    with repository(any_engine) as repo:
        assert numbers(repo.find_by_name("NM", "jose", "garcia")) == ["AC-1"]
        assert numbers(repo.find_by_name("NM", "Jose", "Lopez")) == ["AC-1"]
        assert numbers(repo.find_by_name("NM", "mary", "o'neil-smith")) == ["AC-2"]
        assert numbers(repo.find_by_name("NM", "Mary", "Smith")) == ["AC-2"]


def test_find_active_near(demo_engine):
    with repository(demo_engine) as repo:
        austin = repo.find_active_near("austin", "TX", limit=10)
        assert [r.full_name for r in austin] == [
            "Avery Dummyfield",
            "Jane Example",
            "Morgan Mockworth",
            "Rosa Placeholder",
            "Sam Sample",
            "Lee Testcase",
        ]
        assert len(repo.find_active_near("Austin", "TX")) == 5
        assert numbers(repo.find_active_near("Austin", "TX", profession="physical_therapy")) == [
            "DEMO-PT-20001"
        ]
        assert repo.find_active_near("El Paso", "TX") == []
        assert repo.find_active_near("Austin", "CA") == []


def test_coverage(demo_engine):
    with repository(demo_engine) as repo:
        texas = repo.coverage("TX")
        assert texas is not None
        assert (texas.licences, texas.sources) == (15, ("FICTIONAL demo data (not real people or licences)",))
        assert texas.newest_retrieved_on == date(2026, 11, 1)
        assert repo.coverage("AK") is None


def test_the_fake_answers_like_the_sql_repository(demo_engine):
    """InMemoryLicenceRepository (used by the unit tests) follows the same matching rules."""
    with repository(demo_engine) as repo:
        everything = [
            r for state in ("TX", "CA", "OR", "NY", "FL", "NM", "WA", "CO") for r in _all(repo, state)
        ]
        fake = InMemoryLicenceRepository(everything, today=TODAY)
        queries = [
            ("find_by_number", ("TX", "ac-00123")),
            ("find_by_number", ("TX", "00131")),
            ("find_by_name", ("TX", "Alex", "Sample")),
            ("find_by_name", ("TX", None, "Sampel")),
            ("find_by_name", ("CA", "kim", "FAUXNAME")),
            ("find_active_near", ("Austin", "TX")),
            ("find_active_near", ("austin", "TX", 10, "physical_therapy")),
            ("coverage", ("TX",)),
            ("coverage", ("AK",)),
        ]
        for method, args in queries:
            assert getattr(fake, method)(*args) == getattr(repo, method)(*args), (method, args)


def _all(repo: SqlLicenceRepository, state: str) -> list[LicenceRecord]:
    from actions.store.licence_repository import _to_record

    rows = repo._session.execute(select(LicenceRow).where(LicenceRow.state == state)).scalars()
    return [_to_record(row) for row in rows]


def test_update_changes_only_changed_rows(demo_engine, tmp_path):
    text = DEMO.read_text(encoding="utf-8").replace(
        "TX,DEMO-AC-00123,Licensed Acupuncturist,Jane,Example,Austin,active",
        "TX,DEMO-AC-00123,Licensed Acupuncturist,Jane,Example,Austin,suspended",
    )
    path = tmp_path / "changed.csv"
    path.write_text(text, encoding="utf-8")

    report = import_licences(path, demo_engine, today=TODAY)

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 23)
    with repository(demo_engine) as repo:
        assert repo.find_by_number("TX", "DEMO-AC-00123")[0].status == "suspended"


def test_a_malformed_file_leaves_the_database_as_it_was(demo_engine, tmp_path):
    rows = "".join(
        f"TX,AC-{i},Licensed Acupuncturist,A{i},B,Austin,active,,2027-01-01,,T,2026-11-01\n"
        for i in range(BATCH_SIZE + 5)
    )
    path = tmp_path / "broken.csv"
    path.write_bytes(
        (HEADER + rows).encode() + b"TX,AC-X,Licensed Acupuncturist,Jos\xe9,B,Austin,active,,,,T,2026-11-01\n"
    )

    with pytest.raises(MalformedFile):
        import_licences(path, demo_engine, today=TODAY)

    assert licence_count(demo_engine) == 24


def test_actions_answer_from_the_real_database(demo_engine):
    @contextmanager
    def factory():
        with repository(demo_engine) as repo:
            yield repo

    check = ActionCheckLicence(factory, StaticBoardDirectory(), today=lambda: TODAY)
    messages, _ = run_action(
        check, make_tracker(slots={"us_state": "TX", "practitioner_name": "Taylor Madeup"})
    )
    assert (
        "Taylor Madeup: Licensed Acupuncturist, licence DEMO-AC-00133, Dallas, Texas." in messages[0]["text"]
    )
    assert "Status: REVOKED." in messages[0]["text"]

    find = ActionFindPractitioners(factory, StaticBoardDirectory(), today=lambda: TODAY)
    messages, _ = run_action(find, make_tracker(slots={"us_state": "TX", "search_city": "Austin"}))
    assert messages[0]["text"].startswith(
        "Active acupuncture licences in our data for Austin, Texas:\n1. Avery"
    )
    assert "There are more in our data; I list at most 5." in messages[0]["text"]


def test_postgres_and_sqlite_store_the_same_values(any_engine, tmp_path: Path):
    """Dates, long names and unicode survive the round trip on both databases."""
    path = tmp_path / "values.csv"
    path.write_text(
        HEADER + "WA,EA-00077,Acupuncture and Eastern Medicine Practitioner,Zoë,Nguyễn,Seattle,Probation,"
        '1/5/2010,Dec 31 2027,"AEMP, Dipl. O.M.",WA DOH export,2026-10-30\n',
        encoding="utf-8",
    )
    import_licences(path, any_engine, today=TODAY)
    with repository(any_engine) as repo:
        (record,) = repo.find_by_name("WA", "zoe", "nguyen")
    assert record == LicenceRecord(
        state="WA",
        license_number="EA-00077",
        license_type="Acupuncture and Eastern Medicine Practitioner",
        profession="acupuncture",
        first_name="Zoë",
        last_name="Nguyễn",
        city="Seattle",
        status="probation",
        issue_date=date(2010, 1, 5),
        expiration_date=date(2027, 12, 31),
        credentials="AEMP, Dipl. O.M.",
        national_certification=None,
        source="WA DOH export",
        retrieved_on=date(2026, 10, 30),
    )
