"""The licence CSV importer on a SQLite file: formats, rejections, all-or-nothing, idempotence, CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actions.settings import PROJECT_ROOT
from actions.store import licence_import
from actions.store.licence_csv import (
    ImportOptions,
    MalformedFile,
    Rejection,
    normalise_status,
    parse_date,
)
from actions.store.licence_import import (
    import_licences,
    load_demo_licences,
    main,
    remove_demo_licences,
)
from actions.store.licence_models import LicenceRow

TODAY = date(2026, 11, 21)
HEADER = (
    "state,license_number,license_type,first_name,last_name,city,status,issue_date,expiration_date,"
    "credentials,source,retrieved_on\n"
)
ROW = (
    "TX,AC-1001,Licensed Acupuncturist,Jane,Example,Austin,active,2015-03-01,2027-01-31,"
    "L.Ac.,Test export,2026-11-01\n"
)
TABLE = LicenceRow.__table__


def write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(engine) -> list[dict]:
    with engine.connect() as connection:
        result = connection.execute(select(TABLE).order_by(TABLE.c.state, TABLE.c.number_key))
        return [dict(row._mapping) for row in result]


def count(engine) -> int:
    licence_import.create_schema(engine)
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(TABLE)).scalar_one())


def test_canonical_file_imports_and_reimport_changes_nothing(tmp_path, sqlite_engine):
    path = write(tmp_path, HEADER + ROW + ROW.replace("AC-1001", "AC-1002").replace("Jane", "Rosa"))

    first = import_licences(path, sqlite_engine, today=TODAY)
    stored = rows(sqlite_engine)
    second = import_licences(path, sqlite_engine, today=TODAY)

    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (2, 0, 0, [])
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 2, [])
    assert rows(sqlite_engine) == stored
    jane = stored[0]
    assert {
        k: jane[k] for k in ("state", "license_number", "number_key", "first_key", "last_key", "city_key")
    } == {
        "state": "TX",
        "license_number": "AC-1001",
        "number_key": "AC1001",
        "first_key": "jane",
        "last_key": "example",
        "city_key": "austin",
    }
    assert (jane["status"], jane["profession"], jane["expiration_date"], jane["retrieved_on"]) == (
        "active",
        "acupuncture",
        date(2027, 1, 31),
        date(2026, 11, 1),
    )


def test_a_changed_row_is_updated_in_place(tmp_path, sqlite_engine):
    import_licences(write(tmp_path, HEADER + ROW), sqlite_engine, today=TODAY)
    changed = ROW.replace("active", "suspended").replace("AC-1001", "ac 1001")

    report = import_licences(write(tmp_path, HEADER + changed, "second.csv"), sqlite_engine, today=TODAY)

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    (stored,) = rows(sqlite_engine)
    assert (stored["status"], stored["license_number"]) == ("suspended", "ac 1001")


def test_board_column_names_and_whole_file_options(tmp_path, sqlite_engine):
    text = (
        "License State;Lic #;License Type;Licensee Name;City;License Status;"
        "Expiration Date;Issue Date;Ignored\n"
        'tx;AC 555;Licensed Acupuncturist;"Doe, John A";Houston;Current;01/31/2027;Mar 1, 2015;x\n'
        "Texas;AC 556;Licensed Acupuncturist;Mary Ann Roe;Dallas;Lapsed;2024-08-31 00:00:00;;\n"
    )
    options = ImportOptions(source="Texas board export", retrieved_on=date(2026, 11, 2))

    report = import_licences(write(tmp_path, text), sqlite_engine, options, today=TODAY)

    assert (report.inserted, report.rejected, report.ignored_columns) == (2, [], ("Ignored",))
    doe, roe = rows(sqlite_engine)
    assert (doe["first_name"], doe["last_name"], doe["status"], doe["issue_date"]) == (
        "John A",
        "Doe",
        "active",
        date(2015, 3, 1),
    )
    assert (roe["first_name"], roe["last_name"], roe["status"], roe["expiration_date"]) == (
        "Mary Ann",
        "Roe",
        "expired",
        date(2024, 8, 31),
    )
    assert doe["source"] == "Texas board export" and doe["retrieved_on"] == date(2026, 11, 2)


def test_every_rejected_row_has_its_line_and_reason(tmp_path, sqlite_engine):
    text = HEADER + (
        ROW  # line 2: fine
        + ROW.replace("TX,", "XX,", 1)  # 3
        + ROW.replace("AC-1001", "").replace("Jane", "Ann")  # 4
        + ROW.replace("AC-1001", "AC-1003").replace("2027-01-31", "2027-13-01")  # 5
        + ROW.replace("AC-1001", "ac1001")  # 6: same licence as line 2
        + ROW.replace("AC-1001", "AC-1004").replace("active", "pending")  # 7
        + "\n"  # 8: blank, skipped silently
        + ROW.replace("AC-1001", "AC-1005").replace("2026-11-01", "2027-01-01")  # 9
        + ROW.replace("AC-1001", "AC-1006").replace("2015-03-01", "2028-01-01")  # 10
        + ROW.replace("AC-1001", "AC-1007").replace("Example", "")  # 11
        + ROW.replace("AC-1001", "AC-1008").replace("Austin", "A" * 81)  # 12
        + ROW.replace("AC-1001", "AC-1009").rstrip("\n")
        + ",extra\n"  # 13
        + ROW.replace("AC-1001", '"AC-1010"').replace("Austin", '"Austin\nTX"')  # 14-15: one record
        + ROW.replace("TX,", "CA,", 1).replace("AC-1001", "AC-1011").replace("active", "Revocation")  # 16
    )

    report = import_licences(write(tmp_path, text), sqlite_engine, today=TODAY)

    assert report.rejected == [
        Rejection(3, "bad state 'XX'"),
        Rejection(4, "missing licence number"),
        Rejection(5, "bad date '2027-13-01' in expiration_date"),
        Rejection(6, "same licence as line 2 (ac1001)"),
        Rejection(
            7,
            "unknown status 'pending' "
            "(expected active, probation, inactive, expired, suspended, revoked, surrendered)",
        ),
        Rejection(9, "retrieved_on 2027-01-01 is in the future"),
        Rejection(10, "issue_date 2028-01-01 is after expiration_date 2027-01-31"),
        Rejection(11, "missing last name"),
        Rejection(12, "city is longer than 80 characters"),
        Rejection(13, "has 13 fields but the header has 12 (check the quoting)"),
    ]
    assert (report.rows, report.inserted) == (13, 3)
    assert {r["number_key"]: r["status"] for r in rows(sqlite_engine)} == {
        "AC1001": "active",
        "AC1010": "active",
        "AC1011": "revoked",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "state,first_name,last_name,status,license_type,source,retrieved_on\nTX,A,B,active,L,S,2026-01-01\n",
            "no licence-number column",
        ),
        (HEADER.replace(",status", ",state_of_mind") + ROW, "no status column"),
        (HEADER.replace(",source,retrieved_on", "") + ROW, "no source column: add one or give --source"),
        (HEADER.replace("license_type", "license") + ROW, "both look like license_number"),
        ("", "the file is empty"),
        ("\n" + HEADER + ROW, "the file is empty"),
    ],
)
def test_an_unusable_header_refuses_the_whole_file(tmp_path, sqlite_engine, text, message):
    with pytest.raises(MalformedFile, match=message):
        import_licences(write(tmp_path, text), sqlite_engine, today=TODAY)
    assert count(sqlite_engine) == 0


def test_bad_bytes_half_way_leave_nothing_behind(tmp_path, sqlite_engine):
    """The first rows are written in batches before the broken line is read: all are rolled back."""
    good = "".join(ROW.replace("AC-1001", f"AC-{i}") for i in range(licence_import.BATCH_SIZE + 10))
    path = tmp_path / "broken.csv"
    path.write_bytes(
        (HEADER + good).encode()
        + b"TX,AC-X,Licensed Acupuncturist,Jos\xe9,Ex,Austin,active,,,,S,2026-11-01\n"
    )

    with pytest.raises(MalformedFile, match="not valid utf-8-sig text"):
        import_licences(path, sqlite_engine, today=TODAY)

    assert count(sqlite_engine) == 0


def test_windows_encoding_on_request(tmp_path, sqlite_engine):
    path = write(tmp_path, HEADER + ROW.replace("Jane", "José"), encoding="cp1252")
    report = import_licences(path, sqlite_engine, ImportOptions(encoding="cp1252"), today=TODAY)
    assert report.inserted == 1 and rows(sqlite_engine)[0]["first_key"] == "jose"


def test_a_database_error_rolls_back_everything(tmp_path, sqlite_engine, monkeypatch):
    path = write(tmp_path, HEADER + "".join(ROW.replace("AC-1001", f"AC-{i}") for i in range(20)))
    original = licence_import._Writer.flush

    def failing_flush(self):
        original(self)
        raise RuntimeError("disk full")

    monkeypatch.setattr(licence_import._Writer, "flush", failing_flush)
    with pytest.raises(RuntimeError):
        import_licences(path, sqlite_engine, today=TODAY)
    assert count(sqlite_engine) == 0


def test_dry_run_counts_and_writes_nothing(tmp_path, sqlite_engine):
    report = import_licences(
        write(tmp_path, HEADER + ROW), sqlite_engine, ImportOptions(dry_run=True), today=TODAY
    )
    assert report.inserted == 1 and report.dry_run
    assert count(sqlite_engine) == 0


def test_strict_imports_nothing_when_a_row_is_rejected(tmp_path, sqlite_engine):
    text = HEADER + ROW + ROW.replace("TX,", "XX,", 1).replace("AC-1001", "AC-2")
    with pytest.raises(MalformedFile, match="1 rejected row"):
        import_licences(write(tmp_path, text), sqlite_engine, ImportOptions(strict=True), today=TODAY)
    assert count(sqlite_engine) == 0


def test_new_and_changed_rows_in_one_file(tmp_path, sqlite_engine):
    import_licences(write(tmp_path, HEADER + ROW), sqlite_engine, today=TODAY)
    text = HEADER + ROW.replace("active", "expired") + ROW.replace("AC-1001", "AC-1002")

    report = import_licences(write(tmp_path, text, "second.csv"), sqlite_engine, today=TODAY)

    assert (report.inserted, report.updated) == (1, 1)
    assert {r["number_key"]: r["status"] for r in rows(sqlite_engine)} == {
        "AC1001": "expired",
        "AC1002": "active",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", date(2026, 1, 31)),
        ("1/5/2026", date(2026, 1, 5)),
        ("01/31/2026", date(2026, 1, 31)),
        ("2026/01/31", date(2026, 1, 31)),
        ("Jan 31, 2026", date(2026, 1, 31)),
        ("January 31 2026", date(2026, 1, 31)),
        ("31-Jan-2026", date(2026, 1, 31)),
        ("2026-01-31T00:00:00", date(2026, 1, 31)),
        ("", None),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/01/2026", "1/5/26", "soon", "2026-02-30"])
def test_bad_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Active", "active"),
        ("ACTIVE - CLEAR", "active"),
        ("Current", "active"),
        ("Active on Probation", "probation"),
        ("Lapsed", "expired"),
        ("Delinquent", "expired"),
        ("Summary Suspension", "suspended"),
        ("Revoked", "revoked"),
        ("Voluntarily Surrendered", "surrendered"),
        ("Retired", "inactive"),
        ("Pending", None),
    ],
)
def test_status_words(text, status):
    assert normalise_status(text) == status


def test_cli_prints_counts_and_rejections(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = write(tmp_path, HEADER + ROW + ROW.replace("TX,", "XX,", 1))
    lines: list[str] = []

    status = main([str(path), "--database-url", url], out=lines.append)

    assert status == 0
    assert lines[0] == f"importing {path} into {url}"
    assert lines[1:6] == [
        "inserted:  1",
        "updated:   0",
        "unchanged: 0",
        "rejected:  1",
        "  line 3: bad state 'XX'",
    ]
    assert lines[6].startswith("2 rows read in ")


def test_cli_refuses_a_malformed_file_with_status_1(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = write(tmp_path, "name,city\nJane,Austin\n")

    status = main([str(path), "--database-url", url], out=lambda line: None)

    assert status == 1
    assert "refused, nothing imported: no licence-number column" in capsys.readouterr().err


def test_cli_missing_file_and_bad_options(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main([str(tmp_path / "nope.csv"), "--database-url", url], out=lambda line: None) == 1
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "x.csv"), "--retrieved-on", "yesterday"])
    assert exit_info.value.code == 2


def test_cli_options_fill_missing_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = write(tmp_path, "Lic #,Last Name,First Name,Status\n12345,Example,Jane,Active\n")
    argv = [
        str(path),
        "--database-url",
        url,
        "--state",
        "Texas",
        "--license-type",
        "Licensed Acupuncturist",
        "--source",
        "TX export",
        "--retrieved-on",
        "2026-11-01",
    ]
    lines: list[str] = []
    assert main(argv, out=lines.append) == 0
    assert "inserted:  1" in lines


def test_demo_data_loads_once_and_steps_aside_for_real_data(tmp_path, sqlite_engine):
    data_dir = PROJECT_ROOT / "data"

    first = load_demo_licences(data_dir, sqlite_engine)
    second = load_demo_licences(data_dir, sqlite_engine)

    assert first.startswith("24 FICTIONAL demo licences (inserted 24, updated 0, unchanged 0, rejected 0)")
    assert second.endswith("(inserted 0, updated 0, unchanged 24, rejected 0)")
    assert all(r["license_number"].startswith("DEMO-") for r in rows(sqlite_engine))
    assert all(r["source"].startswith("FICTIONAL") for r in rows(sqlite_engine))

    import_licences(write(tmp_path, HEADER + ROW), sqlite_engine, today=TODAY)
    assert (
        load_demo_licences(data_dir, sqlite_engine) == "demo licences skipped (1 imported licences present)"
    )
    assert remove_demo_licences(sqlite_engine) == 24
    assert [r["license_number"] for r in rows(sqlite_engine)] == ["AC-1001"]


def test_the_demo_file_is_clean_and_clearly_fictional():
    text = (PROJECT_ROOT / "data" / "licences" / "demo_licences.csv").read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0] + "\n" == HEADER
    for line in lines[1:]:
        assert ",DEMO-" in line and "FICTIONAL demo data" in line
    readme = (PROJECT_ROOT / "data" / "licences" / "README.md").read_text(encoding="utf-8")
    assert "FICTIONAL" in readme
