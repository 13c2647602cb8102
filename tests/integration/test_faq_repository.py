"""The SQL repository and the content loader against real databases."""

from __future__ import annotations

import re

from sqlalchemy import delete, event

from actions.faq import ActionAnswerFaq, RankedTopic
from actions.settings import PROJECT_ROOT
from actions.store.content import load_faq_content
from actions.store.database import session_scope
from actions.store.faq_repository import (
    FaqContentCache,
    SqlFaqRepository,
    cached_faq_repository_factory,
)
from actions.store.models import ContentLoadRow
from tests.conftest import copied_content, faq_message, make_tracker, run_action

CONTENT = PROJECT_ROOT / "data" / "content"


def test_load_and_read_back(any_engine):
    content = load_faq_content(CONTENT, any_engine)

    with session_scope(any_engine) as session:
        repository = SqlFaqRepository(session)
        assert set(repository.all_keys()) == content.keys()
        answer = repository.get("dry_needling_what_is")
        assert answer is not None and answer.treatment == "dry_needling"
        assert answer.sources and answer.sources[0].url.startswith("https://")
        assert repository.titles(["tui_na_what_is", "missing"]) == {"tui_na_what_is": "What Tui Na is"}
        assert repository.key_for("acupuncture", "side_effects") == "acupuncture_side_effects"
        assert repository.key_for("acupuncture", "no_such_aspect") is None
        assert repository.get("missing") is None


def test_reloading_is_idempotent(any_engine):
    load_faq_content(CONTENT, any_engine)
    load_faq_content(CONTENT, any_engine)
    with session_scope(any_engine) as session:
        answer = SqlFaqRepository(session).get("acupuncture_what_is")
    assert answer is not None and len(answer.sources) == 2


def test_edited_wording_is_answered_after_reload_without_retraining(any_engine, tmp_path, settings):
    """Staff change an answer in data/content and reload: the bot says the new text."""
    with copied_content(tmp_path) as content_dir:
        load_faq_content(content_dir, any_engine)
        # The factory the action server uses: answers come from its in-memory copy.
        repository_factory = cached_faq_repository_factory(any_engine)
        action = ActionAnswerFaq(repository_factory=repository_factory, settings=settings)
        tracker = make_tracker(faq_message([("tui_na_what_is", 0.95)]), slots={"disclaimer_shown": True})
        before, _ = run_action(action, tracker)
        assert before[0]["text"].startswith("Tui Na (also written")

        path = content_dir / "faq" / "core.yml"
        text = path.read_text(encoding="utf-8")
        edited = re.sub(
            r"Tui Na \(also written \"tuina\"\) is a form of Chinese therapeutic massage",
            "EDITED: Tui Na is a Chinese massage method",
            text,
        )
        assert edited != text
        path.write_text(edited, encoding="utf-8")
        load_faq_content(content_dir, any_engine)

        after, _ = run_action(action, tracker)
        assert after[0]["text"].startswith("EDITED: Tui Na is a Chinese massage method")


def _count_statements(engine):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


def test_a_follow_up_turn_reads_one_row_once_the_answers_are_cached(any_engine, settings):
    """Re-targeting ten ranked topics to the treatment in context used to read each
    of them; with the cached copy a turn reads only the content fingerprint."""
    load_faq_content(CONTENT, any_engine)
    action = ActionAnswerFaq(repository_factory=cached_faq_repository_factory(any_engine), settings=settings)
    with session_scope(any_engine) as session:
        keys = SqlFaqRepository(session).all_keys()[:10]
    ranking = [RankedTopic(key, 0.9 if i == 0 else 0.01) for i, key in enumerate(keys)]
    expected = action._plan(None, ranking, set(), "dry_needling")  # fills the cache

    statements, stop = _count_statements(any_engine)
    try:
        plan = action._plan(None, ranking, set(), "dry_needling")
    finally:
        stop()
    assert plan == expected
    assert len(statements) == 1 and "content_loads" in statements[0]


def test_the_cache_reads_through_when_the_content_has_no_fingerprint(any_engine):
    """A database loaded before fingerprints existed is read row by row, never stale."""
    load_faq_content(CONTENT, any_engine)
    with session_scope(any_engine) as session, session.begin():
        session.execute(delete(ContentLoadRow))
    cache = FaqContentCache()
    with session_scope(any_engine) as session:
        repository = cache.repository(session)
        assert isinstance(repository, SqlFaqRepository)
        assert repository.get("tui_na_what_is") is not None


def test_every_load_stamps_a_fingerprint_that_follows_the_content(any_engine, tmp_path):
    with copied_content(tmp_path) as content_dir:
        load_faq_content(content_dir, any_engine)
        with session_scope(any_engine) as session:
            first = SqlFaqRepository(session).fingerprint()
        load_faq_content(content_dir, any_engine)
        with session_scope(any_engine) as session:
            assert SqlFaqRepository(session).fingerprint() == first

        path = content_dir / "faq" / "core.yml"
        path.write_text(path.read_text(encoding="utf-8").replace("Tui Na", "Tuina", 1), encoding="utf-8")
        load_faq_content(content_dir, any_engine)
        with session_scope(any_engine) as session:
            second = SqlFaqRepository(session).fingerprint()
    assert first and second and first != second
