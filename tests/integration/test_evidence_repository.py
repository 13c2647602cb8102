"""The evidence table in real databases: SQLite always, PostgreSQL when it is running."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.expectations import ActionAnswerExpectations
from actions.expectations_text import render_answer
from actions.store.database import session_scope
from actions.store.evidence_data import EvidenceError, load_evidence_data, read_evidence_table
from actions.store.evidence_models import EvidencePairRow, EvidenceSourceRow
from actions.store.evidence_repository import EvidenceRepository, SqlEvidenceRepository
from tests.conftest import ROOT, make_tracker

TABLE = read_evidence_table(ROOT / "data" / "evidence")


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_load_stores_every_row_exactly_as_validated(any_engine):
    summary = load_evidence_data(ROOT / "data", any_engine)

    assert summary == "25 treatment x condition rows, 13 sources (version 2026-11-21)"
    with session_scope(any_engine) as session:
        repository = SqlEvidenceRepository(session)
        assert len(repository.pairs()) == 25
        for row in TABLE.rows:
            assert repository.get(row.treatment, row.condition) == row
        assert repository.get("moxibustion", "episodic_migraine") is None


def test_reloading_replaces_instead_of_duplicating(any_engine):
    load_evidence_data(ROOT / "data", any_engine)
    load_evidence_data(ROOT / "data", any_engine)

    assert count(any_engine, EvidencePairRow) == 25
    assert count(any_engine, EvidenceSourceRow) == 13


def test_an_invalid_file_leaves_the_loaded_table_untouched(any_engine, tmp_path: Path):
    load_evidence_data(ROOT / "data", any_engine)
    data_dir = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "evidence", data_dir / "evidence")
    path = data_dir / "evidence" / "expectations.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("It is not a cure", "It is a cure", 1), encoding="utf-8"
    )

    with pytest.raises(EvidenceError, match="promises a cure"):
        load_evidence_data(data_dir, any_engine)

    with session_scope(any_engine) as session:
        row = SqlEvidenceRepository(session).get("acupuncture", "episodic_migraine")
    assert row is not None and row.part("limits").text.startswith("It is not a cure")
    assert count(any_engine, EvidencePairRow) == 25


def test_the_answer_action_reads_through_sql(any_engine):
    load_evidence_data(ROOT / "data", any_engine)

    @contextmanager
    def repository() -> Iterator[EvidenceRepository]:
        with session_scope(any_engine) as session:
            yield SqlEvidenceRepository(session)

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"text": "8 a month", "intent": {"name": "inform_condition"}, "entities": []},
        slots={
            "expect_treatment": "acupuncture",
            "expect_condition": "episodic_migraine",
            "headache_days": 8.0,
        },
    )
    asyncio.run(ActionAnswerExpectations(repository_factory=repository).run(dispatcher, tracker, {}))

    expected = render_answer(
        next(r for r in TABLE.rows if r.treatment == "acupuncture" and r.condition == "episodic_migraine"),
        8.0,
    )
    assert [m["text"] for m in dispatcher.messages][:2] == [m["text"] for m in expected.messages()]
    assert "about 5 days with acupuncture, against about 7 days with usual care alone" in expected.detail
