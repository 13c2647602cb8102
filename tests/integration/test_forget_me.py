"""Forget-me and retention against Rasa's real SQLTrackerStore, on SQLite and on PostgreSQL.

The sequence is the one the Rasa server runs: earlier turns are saved; the
action server runs action_forget_me (which records the request in
``forget_requests``); Rasa applies its events and saves the turn (after the
action returned); the background eraser deletes the conversation and marks the
request done. Also: a store that fails, and an action server restarted mid-way.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from actions.safety.actions import ActionForgetMe
from actions.safety.eraser import FORGET_MARKER_SLOT, ConversationEraser, wait_for_erasures
from actions.safety.retention import purge_expired_conversations
from actions.safety.texts import FORGET_ME_PENDING_TEXT
from actions.settings import SafetySettings
from actions.store.conversations import SqlConversationStore, sql_conversation_store
from actions.store.database import get_engine
from actions.store.forget_requests import sql_forget_request_store, utc_now

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
        forget_retry_seconds=0.05,
        forget_retry_max_seconds=0.2,
    )


def eraser(url: str, store_factory=None) -> ConversationEraser:
    """The eraser as the action server builds it; the deletion requests are kept in the
    same database here (in production: DATABASE_URL)."""
    return ConversationEraser(settings(url), store_factory, lambda: sql_forget_request_store(url))


def requests_table(url: str) -> list[dict]:
    with get_engine(url).connect() as connection:
        return [
            dict(row._mapping)
            for row in connection.execute(
                text(
                    "SELECT conversation_id, marker, attempts, last_error, requested_at, done_at "
                    "FROM forget_requests ORDER BY id"
                )
            )
        ]


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
    store: SQLTrackerStore,
    tracker: DialogueStateTracker,
    url: str,
    resave_stale: bool = False,
    eraser_: ConversationEraser | None = None,
    wait: bool = True,
) -> list[dict]:
    """What Rasa does for the confirming message, with the real action in the middle."""
    stale = tracker.copy()
    sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher = CollectingDispatcher()
    events = await ActionForgetMe(eraser_ or eraser(url)).run(dispatcher, sdk_tracker, {})
    # Rasa logs the action and its events, predicts action_listen, then saves the turn.
    await asyncio.sleep(0.3)
    tracker.update(ActionExecuted("action_forget_me"))
    for event in events:
        tracker.update(SlotSet(event["name"], event["value"]))
    tracker.update(BotUttered(FORGET_ME_PENDING_TEXT))
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
    if wait:
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

        assert [m["text"] for m in messages] == [FORGET_ME_PENDING_TEXT]
        assert rows(tracker_store_url, "alice") == 0
        [request] = requests_table(tracker_store_url)
        assert request["conversation_id"] == "alice" and request["attempts"] == 1
        assert request["last_error"] is None and request["done_at"] is not None
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


class FailingDeletes(SqlConversationStore):
    """The real tracker store, whose deletes fail while ``failures`` lasts; each delete
    first reads the request as the table holds it."""

    def __init__(self, session, url: str, failures: list[int], seen: list[dict]) -> None:
        super().__init__(session)
        self._url, self._failures, self._seen = url, failures, seen

    def delete_conversation(self, sender_id: str) -> int:
        self._seen.append(requests_table(self._url)[-1])
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise OperationalError("DELETE FROM events", {}, Exception("server closed the connection"))
        return super().delete_conversation(sender_id)


def test_a_failing_store_is_retried_until_the_conversation_is_deleted(tracker_store_url):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)
    failures, seen = [3], []

    @contextmanager
    def failing(url):
        with sql_conversation_store(url) as real:
            yield FailingDeletes(real._session, url, failures, seen)

    async def scenario():
        await store.save(conversation("alice", domain))
        return await run_forget_me(
            store,
            conversation("alice", domain),
            tracker_store_url,
            eraser_=eraser(tracker_store_url, failing),
        )

    messages = asyncio.run(scenario())

    # The visitor was told "being deleted" (never "done"); the request stayed pending,
    # counting each failure, until the deletion worked.
    assert [m["text"] for m in messages] == [FORGET_ME_PENDING_TEXT]
    assert [(r["attempts"], r["last_error"], r["done_at"]) for r in seen[:4]] == [
        (0, None, None),
        (1, "OperationalError", None),
        (2, "OperationalError", None),
        (3, "OperationalError", None),
    ]
    assert rows(tracker_store_url, "alice") == 0
    [request] = requests_table(tracker_store_url)
    assert request["attempts"] == 4 and request["done_at"] is not None
    store.engine.dispose()


def test_a_request_left_pending_by_a_restart_is_completed_by_a_new_eraser(tracker_store_url):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)

    @contextmanager
    def deletes_fail(url):
        with sql_conversation_store(url) as real:
            yield FailingDeletes(real._session, url, [1_000_000], [])

    async def before_the_restart():
        await store.save(conversation("alice", domain))
        await store.save(conversation("bob", domain))
        # Deletes fail while the first action server runs; it stops before one works.
        first = eraser(tracker_store_url, deletes_fail)
        messages = await run_forget_me(
            store, conversation("alice", domain), tracker_store_url, eraser_=first, wait=False
        )
        await asyncio.sleep(0.5)
        from actions.safety.eraser import _ERASURES

        for task in list(_ERASURES):
            task.cancel()  # the process stops
        await asyncio.gather(*_ERASURES, return_exceptions=True)
        return messages

    messages = asyncio.run(before_the_restart())
    assert [m["text"] for m in messages] == [FORGET_ME_PENDING_TEXT]
    assert rows(tracker_store_url, "alice") > 0
    [pending] = requests_table(tracker_store_url)
    assert (
        pending["done_at"] is None
        and pending["attempts"] >= 1
        and pending["last_error"] == "OperationalError"
    )

    async def after_the_restart():
        started = await eraser(tracker_store_url).resume_pending()
        await wait_for_erasures(30)
        return started

    assert asyncio.run(after_the_restart()) == 1
    assert rows(tracker_store_url, "alice") == 0 and rows(tracker_store_url, "bob") > 0
    [done] = requests_table(tracker_store_url)
    assert done["done_at"] is not None and done["attempts"] == pending["attempts"] + 1
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
    from actions.settings import get_safety_settings, get_settings
    from actions.store import manage

    monkeypatch.setenv("TRACKER_STORE_URL", url)
    monkeypatch.setenv("DATABASE_URL", url)  # deletion requests: the same database here
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "30")
    get_safety_settings.cache_clear()
    get_settings.cache_clear()
    try:
        return manage.main(list(argv))
    finally:
        get_safety_settings.cache_clear()
        get_settings.cache_clear()


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


def test_purge_command_completes_a_pending_forget_me(tracker_store_url, monkeypatch, capsys):
    domain = make_domain()
    store = rasa_store(tracker_store_url, domain)

    async def scenario():
        await store.save(conversation("alice", domain))

    asyncio.run(scenario())
    with sql_forget_request_store(tracker_store_url) as requests:
        requests.record("alice", "e" * 32, utc_now() - timedelta(hours=2))  # left by a stopped server

    assert run_manage(monkeypatch, tracker_store_url, "purge-conversations") == 0

    assert "deletion requests: 1 completed, 0 still pending" in capsys.readouterr().out
    assert rows(tracker_store_url, "alice") == 0
    [done] = requests_table(tracker_store_url)
    assert done["done_at"] is not None and done["attempts"] == 1
    store.engine.dispose()
