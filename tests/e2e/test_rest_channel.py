"""Drive the running servers through the REST channel, as a website or app would."""

from __future__ import annotations

import re
import uuid

import pytest
import yaml

from actions.settings import PROJECT_ROOT
from actions.store.content import load_faq_content, read_faq_content
from actions.store.database import build_engine

pytestmark = pytest.mark.e2e


def new_user() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_greeting_says_what_the_bot_is(bot):
    reply = bot.say(new_user(), "hello")
    assert "acupuncture, dry needling and Tui Na" in reply
    assert "not medical advice" in reply


@pytest.mark.parametrize(
    ("question", "expected_start", "source_fragment"),
    [
        ("what is acupuncture?", "Acupuncture is a treatment", "cochranelibrary.com"),
        ("what is dry needling", "Dry needling is a technique", "pubmed.ncbi.nlm.nih.gov/33609358"),
        ("what's tuina?", "Tui Na (also written", "ctcp.2020.101293"),
        ("is dry needling the same as acupuncture?", "Both use the same thin needles", "33609358"),
        ("what are the side effects of acupuncture", "Acupuncture is generally safe", "aafp.org"),
    ],
)
def test_core_topics_answer_with_source_and_review_date(bot, question, expected_start, source_fragment):
    reply = bot.say(new_user(), question)
    assert reply.startswith(expected_start), reply[:200]
    assert source_fragment in reply
    assert re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", reply)


def test_disclaimer_once_per_conversation(bot):
    user = new_user()
    first = bot.say(user, "what is acupuncture?")
    second = bot.say(user, "what is dry needling?")
    assert "not medical advice" in first
    assert "not medical advice" not in second


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("are you a bot?", "automated assistant"),
        ("thanks", "You're welcome"),
        ("bye", "Goodbye"),
        ("what's the weather like in paris today", "outside what I can help with"),
        ("asdkjh qwpoeiru zxmcnv", "Could you say it another way"),
    ],
)
def test_small_talk_out_of_scope_and_nonsense(bot, message, expected):
    assert expected in bot.say(new_user(), message)


def test_changed_answer_is_live_after_reload_without_retraining(bot):
    path = bot.content_dir / "faq" / "core.yml"
    original = path.read_text(encoding="utf-8")
    edited = original.replace(
        "Dry needling is a technique, usually done by physical therapists,",
        "Dry needling (edited by staff) is a technique, usually done by physical therapists,",
    )
    assert edited != original
    engine = build_engine(bot.database_url)
    try:
        path.write_text(edited, encoding="utf-8")
        load_faq_content(bot.content_dir, engine)
        assert bot.say(new_user(), "what is dry needling").startswith("Dry needling (edited by staff)")
    finally:
        path.write_text(original, encoding="utf-8")
        load_faq_content(bot.content_dir, engine)
        engine.dispose()
    assert bot.say(new_user(), "what is dry needling").startswith("Dry needling is a technique")


def _first_example_per_topic() -> list[tuple[str, str]]:
    """(topic key, its first training example) for every FAQ topic in data/nlu/faq."""
    first: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu" / "faq").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = str(block.get("intent", ""))
            examples = [
                line.strip()[2:].strip()
                for line in str(block.get("examples", "")).splitlines()
                if line.strip().startswith("- ")
            ]
            if intent.startswith("faq/") and examples:
                first.setdefault(intent[4:], examples[0])
    return sorted(first.items())


@pytest.mark.parametrize(("topic", "question"), _first_example_per_topic())
def test_every_topic_answers_through_rest(bot, topic, question):
    """Each topic's plainest question gets that topic's answer, with source and date."""
    answer = next(a for a in read_faq_content(bot.content_dir).answers if a.key == topic)
    reply = bot.say(new_user(), question)
    # The short answer first (issue 20), then the detail with its sources.
    assert reply.startswith(answer.short + "\n"), f"{question!r} -> {reply[:160]!r}"
    assert answer.text.split(". ")[0] in reply
    assert answer.sources[0].url in reply
    assert re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", reply)
