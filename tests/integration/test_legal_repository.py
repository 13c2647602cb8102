"""The legality tables against real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import date

import pytest

from actions.legal import ActionAnswerLegal
from actions.settings import PROJECT_ROOT
from actions.store.database import session_scope
from actions.store.legal_data import LegalDataError, load_legal_data, read_legal_data
from actions.store.legal_repository import SqlLegalRepository
from tests.conftest import make_tracker, run_action

DATA = PROJECT_ROOT / "data"


def test_load_and_read_back_every_row(any_engine):
    summary = load_legal_data(DATA, any_engine)
    dataset = read_legal_data(DATA)

    assert summary.startswith("51 dry needling rows, 51 acupuncture licensure rows, ")
    assert f"oldest verification {dataset.oldest_verified_on().isoformat()}" in summary
    with session_scope(any_engine) as session:
        repository = SqlLegalRepository(session)
        assert repository.dry_needling_all() == list(dataset.dry_needling)
        assert repository.acupuncture_all() == list(dataset.acupuncture)
        oregon = repository.dry_needling("OR")
        assert oregon is not None and oregon.status == "prohibited" and oregon.pending
        assert repository.dry_needling("XX") is None


def test_acupuncture_board_for_the_credential_check(any_engine):
    load_legal_data(DATA, any_engine)
    with session_scope(any_engine) as session:
        repository = SqlLegalRepository(session)
        california = repository.acupuncture_board("CA")
        alabama = repository.acupuncture_board("AL")
        assert repository.acupuncture_board("XX") is None
    assert california is not None
    assert (california.state_code, california.state_name) == ("CA", "California")
    assert california.board_name == "California Acupuncture Board (Department of Consumer Affairs)"
    assert california.lookup_url == "https://search.dca.ca.gov"
    assert "CALE" in california.exam and california.verified_on == date(2026, 11, 21)
    assert alabama is not None and not alabama.licensed and alabama.board_name is None


def test_reloading_is_idempotent(any_engine):
    load_legal_data(DATA, any_engine)
    load_legal_data(DATA, any_engine)
    with session_scope(any_engine) as session:
        assert len(SqlLegalRepository(session).dry_needling_all()) == 51


def test_an_invalid_file_leaves_the_database_as_it_was(any_engine, tmp_path):
    load_legal_data(DATA, any_engine)
    shutil.copytree(DATA / "legal", tmp_path / "legal")
    shutil.copytree(DATA / "lexicon", tmp_path / "lexicon")
    path = tmp_path / "legal" / "dry_needling.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: prohibited", "status: banned"), "utf-8")

    with pytest.raises(LegalDataError):
        load_legal_data(tmp_path, any_engine)

    with session_scope(any_engine) as session:
        california = SqlLegalRepository(session).dry_needling("CA")
    assert california is not None and california.status == "prohibited"


def test_edited_row_is_answered_after_reload_without_retraining(any_engine, tmp_path):
    shutil.copytree(DATA / "legal", tmp_path / "legal")
    shutil.copytree(DATA / "lexicon", tmp_path / "lexicon")
    load_legal_data(tmp_path, any_engine)

    @contextmanager
    def repository():
        with session_scope(any_engine) as session:
            yield SqlLegalRepository(session)

    action = ActionAnswerLegal(repository_factory=repository, today=lambda: date(2026, 11, 21), max_age=12)
    tracker = make_tracker(
        slots={"us_state": "OH", "legal_question": "dry_needling", "legal_note_shown": True}
    )
    before, _ = run_action(action, tracker)
    # The short answer (status and dates) first, then the detail that carries the row's summary.
    assert before[0]["text"].startswith("Yes — physical therapists in Ohio may dry needle")
    assert before[1]["text"].startswith("Both national summaries (APTA 2023, PPHC 2026) list Ohio")

    path = tmp_path / "legal" / "dry_needling.yml"
    ohio = "summary: Both national summaries (APTA 2023, PPHC 2026) list Ohio as allowing PTs to dry needle."
    path.write_text(path.read_text(encoding="utf-8").replace(ohio, "summary: Staff edit for Ohio."), "utf-8")
    load_legal_data(tmp_path, any_engine)
    after, _ = run_action(action, tracker)
    assert after[1]["text"].split("\n")[0] == "Staff edit for Ohio."
