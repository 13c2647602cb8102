"""The SQL repository and the content loader against real databases."""

from __future__ import annotations

import re

from actions.faq import ActionAnswerFaq
from actions.settings import PROJECT_ROOT
from actions.store.content import load_faq_content
from actions.store.database import session_scope
from actions.store.faq_repository import SqlFaqRepository
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

        def repository_factory():
            from contextlib import contextmanager

            @contextmanager
            def scope():
                with session_scope(any_engine) as session:
                    yield SqlFaqRepository(session)

            return scope()

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
