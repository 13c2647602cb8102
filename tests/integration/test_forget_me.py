"""Forget-me and retention against Rasa's real SQLTrackerStore, on SQLite and on PostgreSQL.

The sequence is the one the Rasa server runs: earlier turns are saved; the
action server runs action_forget_me; Rasa applies its events and saves the turn
(after the action returned); the background eraser deletes the conversation.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from actions.safety import (
    FORGET_MARKER_SLOT,
    ActionForgetMe,
    ConversationEraser,
    SafetySettings,
    purge_expired_conversations,
    wait_for_erasures,
)
from actions.store.database import get_engine

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")

SECRET = "my private symptom description"


def make_domain() -> Domain:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Slot auto-fill has been removed", category=UserWarning)
        return Domain.from_dict(
            {
                "intents": ["greet", "forget_me", "affirm"],
                "slots": {
                    FORGET_MARKER_SLOT: {"type": "text", "mappings": [{"type": "custom"}]},
                    "disclaimer_shown": {"type": "bool", "mappings": [{"type": "custom"}]},
                },
                "responses": {"utter_ask_forget_me": [{"text": "Sure?"}]},
                "actions": ["action_forget_me"],
            }
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def rasa_store(url: str, domain: Domain) -> SQLTrackerStore:
    if url.startswith("sqlite:///"):
        return SQLTrackerStore(domain, dialect="sqlite", db=url[len("sqlite:///") :])
    return SQLTrackerStore(domain, host=url)  # a full URL in `host` is used as is


def settings(url: str) -> SafetySettings:
    return SafetySettings(
        tracker_store_url=url,
        retention_days=30,
        forget_wait_seconds=10.0,
        forget_watch_seconds=1.5,
        poll_seconds=0.05,
    )


def conversation(sender: str, domain: Domain) -> DialogueStateTracker:
    """Earlier turns, then "forget me" -> "Sure?" -> the user confirms."""
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered(SECRET, {"name": "greet"}),
            SlotSet("disclaimer_shown", True),
            BotUttered("Hello!"),
            ActionExecuted("action_listen"),
            UserUttered("forget me", {"name": "forget_me"}),
            ActionExecuted("utter_ask_forget_me"),
            BotUttered("Sure?"),
            ActionExecuted("action_listen"),
            UserUttered("yes", {"name": "affirm"}),
        ],
        slots=domain.slots,
    )


def rows(url: str, sender: str) -> int:
    with get_engine(url).connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
            ).scalar()
        )


async def run_forget_me(
    store: SQLTrackerStore, tracker: DialogueStateTracker, url: str, resave_stale: bool = False
) -> list[dict]:
    """What Rasa does for the confirming message, with the real action in the middle."""
    stale = tracker.copy()
    sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher = CollectingDispatcher()
    events = await ActionForgetMe(ConversationEraser(settings(url))).run(dispatcher, sdk_tracker, {})
    # Rasa logs the action and its events, predicts action_listen, then saves the turn.
    await asyncio.sleep(0.3)
    tracker.update(ActionExecuted("action_forget_me"))
    for event in events:
        tracker.update(SlotSet(event["name"], event["value"]))
    tracker.update(BotUttered("Done: this conversation ... is being deleted"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    if resave_stale:
        # Another message of the same user was processed from a copy read before the
        # deletion and saved after it: SQLTrackerStore writes the whole copy back.
        await asyncio.sleep(0.4)
        stale.update(ActionExecuted("action_forget_me"))
        for event in events:
            stale.update(SlotSet(event["name"], event["value"]))
        stale.update(ActionExecuted("action_listen"))
        await store.save(stale)
        assert rows(url, tracker.sender_id) > 0
    await wait_for_erasures(30)
    return dispatcher.messages


def test_forget_me_really_removes_the_conversation(tracker_store_url):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)

    async def scenario():
        await store.save(conversation("alice", domain))
        await store.save(conversation("bob", domain))
        assert rows(tracker_store_url, "alice") > 0

        messages = await run_forget_me(store, conversation("alice", domain), tracker_store_url)

        assert [m["response"] for m in messages] == ["utter_forget_me_done"]
        assert rows(tracker_store_url, "alice") == 0
        # Only the day and the channel stay, for the staff report's count.
        with get_engine(tracker_store_url).connect() as connection:
            kept = connection.execute(text("SELECT erased_at, channel FROM faqbot_erasures")).all()
        assert len(kept) == 1 and kept[0][1] == "other" and kept[0][0] % 86400 == 0
        assert await store.retrieve("alice") is None
        assert await store.retrieve_full_tracker("alice") is None
        # Other conversations are untouched.
        assert (await store.retrieve("bob")).get_slot("disclaimer_shown") is True

        # The next message starts a fresh conversation: Rasa saves it from scratch.
        fresh = DialogueStateTracker.from_events(
            "alice",
            [ActionExecuted("action_listen"), UserUttered("hello again", {"name": "greet"})],
            slots=domain.slots,
        )
        await store.save(fresh)
        stored = await store.retrieve_full_tracker("alice")
        assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["hello again"]
        assert stored.get_slot("disclaimer_shown") is None

    asyncio.run(scenario())
    with get_engine(tracker_store_url).connect() as connection:
        data = connection.execute(text("SELECT data FROM events")).scalars().all()
    assert not any(SECRET in row and "alice" in row for row in data)
    store.engine.dispose()


def test_a_stale_copy_saved_after_the_deletion_is_deleted_too(tracker_store_url):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)

    async def scenario():
        await store.save(conversation("alice", domain))
        await run_forget_me(store, conversation("alice", domain), tracker_store_url, resave_stale=True)
        assert rows(tracker_store_url, "alice") == 0

    asyncio.run(scenario())
    store.engine.dispose()


def test_retention_purge_deletes_only_inactive_conversations(tracker_store_url):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)
    now = time.time()

    async def scenario():
        for sender, age_days in (("old", 40), ("recent", 2)):
            tracker = DialogueStateTracker.from_events(
                sender,
                [UserUttered("hi", {"name": "greet"}, timestamp=now - age_days * 86400)],
                slots=domain.slots,
            )
            await store.save(tracker)

    asyncio.run(scenario())
    deleted = purge_expired_conversations(settings(tracker_store_url), now=now)

    assert deleted == 1
    assert rows(tracker_store_url, "old") == 0
    assert rows(tracker_store_url, "recent") == 1
    store.engine.dispose()


def run_manage(monkeypatch, url: str, *argv: str) -> int:
    from actions.safety import get_safety_settings
    from actions.store import manage

    monkeypatch.setenv("TRACKER_STORE_URL", url)
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "30")
    get_safety_settings.cache_clear()
    try:
        return manage.main(list(argv))
    finally:
        get_safety_settings.cache_clear()


def test_purge_command_applies_the_retention_period(tracker_store_url, monkeypatch, capsys):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)
    now = time.time()

    async def scenario():
        for sender, age_days in (("idle-for-31-days", 31), ("active-yesterday", 1)):
            tracker = DialogueStateTracker.from_events(
                sender,
                [UserUttered("hi", {"name": "greet"}, timestamp=now - age_days * 86400)],
                slots=domain.slots,
            )
            await store.save(tracker)

    asyncio.run(scenario())
    assert run_manage(monkeypatch, tracker_store_url, "purge-conversations") == 0

    assert "deleted 1 conversations idle for more than 30 days" in capsys.readouterr().out
    assert rows(tracker_store_url, "idle-for-31-days") == 0
    assert rows(tracker_store_url, "active-yesterday") == 1
    store.engine.dispose()


def test_purge_command_on_a_new_tracker_store_says_there_is_nothing(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'never-used.db'}"
    assert run_manage(monkeypatch, url, "purge-conversations") == 0
    assert "no conversations stored yet" in capsys.readouterr().out


def test_purge_command_reports_an_unreachable_store_without_the_password(monkeypatch, capsys):
    url = "postgresql://bot:dummy-password-123@127.0.0.1:1/tracker"
    assert run_manage(monkeypatch, url, "purge-conversations") == 2
    err = capsys.readouterr().err
    assert "could not purge conversations" in err
    assert "dummy-password-123" not in err
