"""Safety actions with in-code trackers and fakes: exact messages and events."""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from actions.conversation import ActionGreet
from actions.safety.actions import (
    FORGET_ME_WIDGET_PAYLOAD,
    ActionDeclineDiagnosis,
    ActionDeclineMedicationAdvice,
    ActionForgetMe,
    ActionHandoff,
    topic_button,
)
from actions.safety.eraser import (
    ACTION_SERVER_APP,
    FORGET_MARKER_SLOT,
    ConversationEraser,
    resume_when_the_action_server_starts,
    wait_for_erasures,
)
from actions.safety.notice import PRIVACY_NOTICE_SLOT, privacy_notice
from actions.safety.retention import (
    complete_pending_requests,
    forget_done_requests,
    purge_expired_conversations,
)
from actions.safety.texts import FORGET_ME_PENDING_TEXT
from actions.settings import ClinicContact, SafetySettings, get_safety_settings
from actions.store.conversations import InMemoryConversationStore
from actions.store.forget_requests import ForgetRequest, InMemoryForgetRequestStore
from tests.conftest import make_tracker, response_message, run_action, text_message

# The eraser's waits, shortened for tests: the turn shows within the 2 s wait in every test
# where it shows; watching for a re-saved copy matters only where one is re-saved (WATCHING).
SAFETY = SafetySettings(
    tracker_store_url="sqlite://",
    retention_days=30,
    forget_wait_seconds=2.0,
    forget_watch_seconds=0.05,
    poll_seconds=0.02,
    forget_retry_seconds=0.01,
    forget_retry_max_seconds=0.05,
)
# A copy is re-saved 0.2 s after the turn: watched for well beyond that.
WATCHING = replace(SAFETY, forget_watch_seconds=0.5)
# The turn never shows: the eraser gives up waiting for it sooner (it deletes all the same).
TURN_NEVER_SAVED = replace(SAFETY, forget_wait_seconds=0.1)
NOTICE = privacy_notice(SAFETY)


def message(text: str | None = None, response: str | None = None, buttons=None) -> dict[str, Any]:
    return {
        "text": text,
        "buttons": buttons or [],
        "elements": [],
        "custom": {},
        "template": response,
        "response": response,
        "image": None,
        "attachment": None,
    }


def user_says(intent: str, **extra: Any) -> dict[str, Any]:
    return {"text": "...", "intent": {"name": intent, "confidence": 1.0}, "entities": [], **extra}


# ---------------------------------------------------------------- scope limits
@pytest.mark.parametrize(
    ("action", "response", "buttons"),
    [
        (
            ActionDeclineDiagnosis(SAFETY),
            "utter_cannot_diagnose",
            [
                topic_button("Acupuncture for migraine", "acupuncture_evidence_migraine"),
                topic_button("Acupuncture for tension headache", "acupuncture_evidence_tension"),
                topic_button("What acupuncture cannot do", "acupuncture_limits"),
            ],
        ),
        (
            ActionDeclineMedicationAdvice(SAFETY),
            "utter_cannot_advise_medication",
            [
                topic_button("Acupuncture and your medicines", "medication_interactions"),
                topic_button("Questions to ask a practitioner", "questions_for_practitioner"),
            ],
        ),
    ],
)
def test_scope_limit_says_who_can_advise_and_offers_topics(action, response, buttons):
    messages, events = run_action(action, make_tracker(user_says("ask_diagnosis")))

    assert messages == [message(response=response, buttons=buttons), message(text=NOTICE)]
    assert events == [SlotSet(PRIVACY_NOTICE_SLOT, True)]

    messages, events = run_action(
        action, make_tracker(user_says("ask_diagnosis"), slots={PRIVACY_NOTICE_SLOT: True})
    )
    assert messages == [message(response=response, buttons=buttons)]
    assert events == []


def test_topic_buttons_use_the_faq_choice_payload():
    assert topic_button("Acupuncture and your medicines", "medication_interactions") == {
        "title": "Acupuncture and your medicines",
        "payload": '/choose_topic{"topic_key": "medication_interactions"}',
    }


# ---------------------------------------------------------------- handoff
def clinic_settings(settings, **changes):
    clinic = ClinicContact(
        name="Example Clinic",
        phone="+1 555 0100",
        email="desk@clinic.example",
        hours="Mon-Fri 9-17",
        booking_url="https://clinic.example/book",
    )
    return replace(settings, clinic=replace(clinic, **changes))


def test_handoff_gives_contact_details_and_a_booking_button(settings):
    action = ActionHandoff(clinic_settings(settings))

    messages, events = run_action(action, make_tracker(user_says("request_human")))

    assert messages == [
        message(
            text="You can reach the team at Example Clinic:\n"
            "- Phone: +1 555 0100\n"
            "- Email: desk@clinic.example\n"
            "- Opening hours: Mon-Fri 9-17\n"
            "- Book online: https://clinic.example/book\n"
            "I'm an automated assistant, so I can't pass this chat to a person myself.",
            buttons=[{"title": "Book an appointment", "payload": "/book_appointment"}],
        )
    ]
    # Nothing else: the bot stays quiet until the user writes again.
    assert events == []


def test_booking_gives_the_booking_link_then_the_phone(settings):
    action = ActionHandoff(clinic_settings(settings))

    messages, events = run_action(action, make_tracker(user_says("book_appointment")))

    assert messages == [
        message(
            text="You can book an appointment with Example Clinic online: https://clinic.example/book\n"
            "Or call +1 555 0100 (Mon-Fri 9-17)."
        )
    ]
    assert events == []


def test_handoff_without_booking_url_has_no_button(settings):
    action = ActionHandoff(clinic_settings(settings, booking_url=""))

    messages, _ = run_action(action, make_tracker(user_says("request_human")))
    booking, _ = run_action(action, make_tracker(user_says("book_appointment")))

    assert messages[0]["buttons"] == []
    assert "Book online" not in messages[0]["text"]
    assert booking[0]["text"] == (
        "To book an appointment with Example Clinic, please contact the clinic.\n"
        "Or call +1 555 0100 (Mon-Fri 9-17)."
    )


def test_default_clinic_contact_comes_from_settings(monkeypatch):
    from actions.settings import get_settings

    monkeypatch.setenv("CLINIC_NAME", "Lakeside Clinic")
    monkeypatch.setenv("CLINIC_PHONE", "+1 555 0199")
    get_settings.cache_clear()
    try:
        messages, _ = run_action(ActionHandoff(), make_tracker(user_says("request_human")))
    finally:
        get_settings.cache_clear()
    assert messages[0]["text"].startswith("You can reach the team at Lakeside Clinic:\n- Phone: +1 555 0199")


# ---------------------------------------------------------------- privacy notice
def test_first_greeting_shows_disclaimer_and_privacy_notice_once():
    action = ActionGreet(SAFETY)

    messages, events = run_action(action, make_tracker(user_says("greet")))
    assert messages == [message(response="utter_greet"), message(text=NOTICE)]
    assert events == [SlotSet("disclaimer_shown", True), SlotSet(PRIVACY_NOTICE_SLOT, True)]

    slots = {"disclaimer_shown": True, PRIVACY_NOTICE_SLOT: True}
    messages, events = run_action(action, make_tracker(user_says("greet"), slots=slots))
    assert messages == [message(response="utter_greet_again")]
    assert events == []


def test_greeting_after_a_first_answer_still_shows_the_privacy_notice():
    messages, events = run_action(
        ActionGreet(SAFETY), make_tracker(user_says("greet"), slots={"disclaimer_shown": True})
    )
    assert messages == [message(response="utter_greet_again"), message(text=NOTICE)]
    assert events == [SlotSet(PRIVACY_NOTICE_SLOT, True)]


def test_privacy_notice_says_what_how_long_and_how_to_delete():
    assert NOTICE == (
        "Privacy: the clinic stores this chat (what you type and my replies) so that I can follow "
        "the conversation. It is deleted automatically 30 days after your last message; the clinic "
        "can change this period. Please don't share details you don't need to, such as your full "
        'name. To delete this conversation now, type "forget me".'
    )


def test_safety_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://rasa@db/rasa")
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "90")
    get_safety_settings.cache_clear()
    try:
        settings = get_safety_settings()
        assert (settings.tracker_store_url, settings.retention_days) == ("postgresql://rasa@db/rasa", 90)
        monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "a month")
        get_safety_settings.cache_clear()
        with pytest.raises(ValueError, match="whole number"):
            get_safety_settings()
        monkeypatch.delenv("TRACKER_STORE_URL")
        monkeypatch.delenv("CONVERSATION_RETENTION_DAYS")
        get_safety_settings.cache_clear()
        assert get_safety_settings().tracker_store_url.endswith("/var/tracker.db")
        assert get_safety_settings().retention_days == 30
    finally:
        get_safety_settings.cache_clear()


# ---------------------------------------------------------------- forget me
def rasa_turn(marker: str) -> list[dict[str, Any]]:
    """The events Rasa saves after action_forget_me returned (abridged)."""
    return [
        {"event": "action", "name": "action_forget_me", "timestamp": 2.0},
        {"event": "slot", "name": FORGET_MARKER_SLOT, "value": marker, "timestamp": 2.0},
        {"event": "bot", "text": "Done", "timestamp": 2.0},
        {"event": "action", "name": "action_listen", "timestamp": 2.0},
    ]


def earlier_turns(text: str = "I have migraines") -> list[dict[str, Any]]:
    return [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "user", "text": text, "timestamp": 1.0},
        {"event": "bot", "text": "utter_ask_forget_me", "timestamp": 1.0},
    ]


NOW = datetime(2026, 12, 1, 12, 0, 0)
OUTAGE = OperationalError("DELETE FROM events", {}, Exception("connection refused"))


class FlakyConversationStore(InMemoryConversationStore):
    """A tracker store whose deletes fail ``failures`` times before they work; each delete
    notes the requests as they stand (``seen``)."""

    def __init__(
        self,
        conversations: dict[str, list[dict[str, Any]]],
        failures: int,
        requests: InMemoryForgetRequestStore | None = None,
    ) -> None:
        super().__init__(conversations)
        self.failures = failures
        self.delete_calls = 0
        self.requests = requests
        self.seen: list[list[ForgetRequest]] = []

    def delete_conversation(self, sender_id: str) -> int:
        self.delete_calls += 1
        if self.requests is not None:
            self.seen.append(list(self.requests.requests.values()))
        if self.delete_calls <= self.failures:
            raise OUTAGE
        return super().delete_conversation(sender_id)


def eraser_for(
    store: InMemoryConversationStore,
    requests: InMemoryForgetRequestStore,
    settings: SafetySettings = SAFETY,
) -> ConversationEraser:
    return ConversationEraser(
        settings, lambda url: nullcontext(store), lambda: nullcontext(requests), clock=lambda: NOW
    )


def forget_me(
    store: InMemoryConversationStore,
    save_after: float | None,
    resave_after: float | None = None,
    requests: InMemoryForgetRequestStore | None = None,
    tracker_events: list[dict[str, Any]] | None = None,
    settings: SafetySettings = SAFETY,
):
    """Run action_forget_me as the action server would, then play Rasa's save(s)."""
    requests = requests if requests is not None else InMemoryForgetRequestStore()

    async def scenario():
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(user_says("affirm"), sender_id="alice", events=tracker_events)
        events = await ActionForgetMe(eraser_for(store, requests, settings)).run(dispatcher, tracker, {})
        marker = events[0]["value"] if events else None
        if save_after is not None and marker:
            await asyncio.sleep(save_after)
            stale = list(store.conversations.get("alice", []))
            store.add("alice", rasa_turn(marker))
            if resave_after is not None:
                await asyncio.sleep(resave_after)
                # A message already in progress re-saves its stale copy of the conversation.
                store.add("alice", stale + rasa_turn(marker))
        await wait_for_erasures(10)
        return dispatcher.messages, events

    return asyncio.run(scenario())


def test_forget_me_says_being_deleted_then_deletes_after_rasa_saved_the_turn():
    store = InMemoryConversationStore({"alice": earlier_turns(), "bob": earlier_turns("hi")})
    requests = InMemoryForgetRequestStore()

    messages, events = forget_me(store, save_after=0.2, requests=requests)

    assert messages == [text_message(FORGET_ME_PENDING_TEXT)]
    assert "being deleted" in FORGET_ME_PENDING_TEXT and "done" not in FORGET_ME_PENDING_TEXT.split(".")[0]
    assert len(events) == 1 and events[0]["name"] == FORGET_MARKER_SLOT and len(events[0]["value"]) == 32
    assert "alice" not in store.conversations
    assert store.event_count("bob") == 3
    assert list(requests.requests.values()) == [
        ForgetRequest(1, "alice", events[0]["value"], NOW, attempts=1, last_error=None, done_at=NOW)
    ]
    # Counted for the staff report (day and channel only; "alice" has no channel namespace).
    assert [channel for channel, _ in store.erasures] == ["other"]
    assert store.erasures[0][1] % 86400 == 0


def test_forget_me_from_the_widget_carries_the_marker_that_clears_the_browser():
    store = InMemoryConversationStore({"alice": earlier_turns()})
    widget_turn = [{"event": "user", "text": "/affirm", "input_channel": "socketio", "timestamp": 1.0}]

    messages, _events = forget_me(store, save_after=0.1, tracker_events=widget_turn)

    assert messages == [{**text_message(FORGET_ME_PENDING_TEXT), "custom": {"forget_me": "requested"}}]
    assert FORGET_ME_WIDGET_PAYLOAD == {"forget_me": "requested"}


def test_forget_me_deletes_a_stale_copy_saved_after_the_deletion():
    store = InMemoryConversationStore({"alice": earlier_turns()})

    forget_me(store, save_after=0.1, resave_after=0.2, settings=WATCHING)

    assert "alice" not in store.conversations


def test_forget_me_deletes_what_is_there_when_the_turn_never_shows(caplog):
    store = InMemoryConversationStore({"alice": earlier_turns()})

    with caplog.at_level(logging.WARNING):
        forget_me(store, save_after=None, settings=TURN_NEVER_SAVED)

    assert "alice" not in store.conversations
    assert "not seen in the tracker store" in caplog.text


def test_forget_me_with_nothing_stored_says_it_failed_and_records_nothing(caplog):
    store = InMemoryConversationStore({"bob": earlier_turns()})
    requests = InMemoryForgetRequestStore()

    with caplog.at_level(logging.ERROR):
        messages, events = forget_me(store, save_after=0.1, requests=requests)

    assert messages == [response_message("utter_forget_me_failed")]
    assert events == []
    assert "TRACKER_STORE_URL" in caplog.text
    assert store.event_count("bob") == 3
    assert requests.requests == {}


def test_a_failing_delete_is_retried_and_the_request_stays_pending_until_it_works(caplog):
    requests = InMemoryForgetRequestStore()
    store = FlakyConversationStore({"alice": earlier_turns()}, failures=3, requests=requests)

    with caplog.at_level(logging.ERROR):
        messages, _events = forget_me(store, save_after=0.05, requests=requests)

    # Told "being deleted" only, once; while the store failed, the request was pending
    # and each failure was counted with the error's type.
    assert messages == [text_message(FORGET_ME_PENDING_TEXT)]
    assert [(r.attempts, r.last_error, r.done_at) for [r] in store.seen[:4]] == [
        (0, None, None),
        (1, "OperationalError", None),
        (2, "OperationalError", None),
        (3, "OperationalError", None),
    ]
    assert "alice" not in store.conversations
    assert requests.requests[1].done_at == NOW and requests.requests[1].attempts == 4
    assert "deleting the conversation failed (OperationalError, attempt 3)" in caplog.text


def test_with_the_tracker_store_down_the_request_is_recorded_and_retried():
    store = InMemoryConversationStore({"alice": earlier_turns()})
    requests = InMemoryForgetRequestStore()
    calls = {"n": 0}

    @contextmanager
    def down_then_up(url):
        calls["n"] += 1
        if calls["n"] <= 3:  # the action's count, then the eraser's first reads
            raise OUTAGE
        yield store

    async def scenario():
        dispatcher = CollectingDispatcher()
        # Rasa's save of the turn is not played here: the eraser stops waiting for it soon.
        eraser = ConversationEraser(
            TURN_NEVER_SAVED, down_then_up, lambda: nullcontext(requests), clock=lambda: NOW
        )
        events = await ActionForgetMe(eraser).run(
            dispatcher, make_tracker(user_says("affirm"), sender_id="alice"), {}
        )
        await wait_for_erasures(10)
        return dispatcher.messages, events

    messages, events = asyncio.run(scenario())
    assert messages == [text_message(FORGET_ME_PENDING_TEXT)]
    assert [event["name"] for event in events] == [FORGET_MARKER_SLOT]
    assert "alice" not in store.conversations
    assert requests.requests[1].done_at == NOW


def test_forget_me_says_it_failed_when_the_request_cannot_be_recorded():
    store = InMemoryConversationStore({"alice": earlier_turns()})

    @contextmanager
    def broken():
        raise OUTAGE
        yield  # pragma: no cover

    async def scenario():
        dispatcher = CollectingDispatcher()
        eraser = ConversationEraser(SAFETY, lambda url: nullcontext(store), broken)
        events = await ActionForgetMe(eraser).run(
            dispatcher, make_tracker(user_says("affirm"), sender_id="alice"), {}
        )
        await wait_for_erasures(10)
        return dispatcher.messages, events

    messages, events = asyncio.run(scenario())
    assert messages == [response_message("utter_forget_me_failed")]
    assert events == []
    assert store.event_count("alice") == 3  # nothing deleted, as the message says


def test_a_pending_request_left_by_a_restart_is_completed_by_a_new_eraser():
    marker = "f" * 32
    store = InMemoryConversationStore({"alice": earlier_turns() + rasa_turn(marker), "bob": earlier_turns()})
    requests = InMemoryForgetRequestStore()
    requests.record("alice", marker, NOW - timedelta(minutes=5))
    requests.record_failure(1, "OperationalError")

    async def scenario():
        started = await eraser_for(store, requests).resume_pending()
        await wait_for_erasures(10)
        return started

    assert asyncio.run(scenario()) == 1
    assert "alice" not in store.conversations and store.event_count("bob") == 3
    assert requests.requests[1] == ForgetRequest(
        1, "alice", marker, NOW - timedelta(minutes=5), attempts=2, last_error="OperationalError", done_at=NOW
    )


def test_complete_pending_requests_gives_up_for_now_and_leaves_the_request_pending():
    store = FlakyConversationStore({"alice": earlier_turns()}, failures=100)
    requests = InMemoryForgetRequestStore()
    requests.record("alice", "a" * 32, NOW - timedelta(hours=1))

    assert complete_pending_requests(eraser_for(store, requests), max_attempts=2) == (0, 1)
    assert requests.requests[1].done_at is None and requests.requests[1].attempts == 2
    assert store.event_count("alice") == 3

    store.failures = 0
    assert complete_pending_requests(eraser_for(store, requests), max_attempts=2) == (1, 0)
    assert "alice" not in store.conversations


def test_done_requests_are_forgotten_after_the_retention_period():
    requests = InMemoryForgetRequestStore()
    for days_ago in (40, 10):
        request = requests.record(f"sender-{days_ago}", "b" * 32, NOW - timedelta(days=days_ago))
        requests.mark_done(request.id, NOW - timedelta(days=days_ago))
    requests.record("pending", "c" * 32, NOW - timedelta(days=60))

    assert forget_done_requests(SAFETY, lambda: nullcontext(requests), now=NOW) == 1
    assert sorted(r.conversation_id for r in requests.requests.values()) == ["pending", "sender-10"]


def test_the_action_server_resumes_pending_requests_when_it_starts():
    from sanic import Sanic

    marker = "d" * 32
    store = InMemoryConversationStore({"alice": earlier_turns() + rasa_turn(marker)})
    requests = InMemoryForgetRequestStore()
    requests.record("alice", marker, NOW - timedelta(minutes=1))
    eraser = eraser_for(store, requests)
    # Outside `rasa run actions` there is no app to attach to.
    assert resume_when_the_action_server_starts(eraser) is False

    Sanic.test_mode = True  # allows a second app of the same name in this process
    app = Sanic(ACTION_SERVER_APP)
    try:
        assert resume_when_the_action_server_starts(eraser) is True

        async def serve():
            # What Sanic does once a worker serves.
            app.signal_router.finalize()
            await app.dispatch("server.init.after", context={"app": app, "loop": asyncio.get_running_loop()})
            await asyncio.sleep(0.05)
            await wait_for_erasures(10)

        asyncio.run(serve())
    finally:
        Sanic._app_registry.pop(ACTION_SERVER_APP, None)
        Sanic.test_mode = False
    assert "alice" not in store.conversations and requests.requests[1].done_at == NOW


def test_forget_me_logs_no_message_text(caplog):
    store = InMemoryConversationStore({"alice": earlier_turns("my secret symptoms")})
    with caplog.at_level(logging.INFO):
        forget_me(store, save_after=0.05)
    assert "my secret symptoms" not in caplog.text
    assert "alice" not in caplog.text  # sender ids only at DEBUG
    assert "forget-me: conversation deleted" in caplog.text


# ---------------------------------------------------------------- retention
def test_purge_deletes_conversations_inactive_for_the_retention_period():
    day = 86400.0
    now = 100 * day
    store = InMemoryConversationStore(
        {
            "old": [{"event": "user", "timestamp": now - 31 * day}],
            # Started long ago but still active: kept whole.
            "active": [
                {"event": "user", "timestamp": now - 60 * day},
                {"event": "user", "timestamp": now - day},
            ],
        }
    )

    deleted = purge_expired_conversations(SAFETY, lambda url: nullcontext(store), now=now)

    assert deleted == 1
    assert set(store.conversations) == {"active"}


@pytest.mark.parametrize(
    ("intent", "first_line"),
    [
        (
            "ask_not_covered_yet",
            "That's a fair question, but I don't have a reviewed answer about it yet, and I'd rather "
            "not guess. Your practitioner or the clinic can answer it.",
        ),
        (
            "ask_clinic_details",
            "I don't have this clinic's own details, such as its address, parking and access, the "
            "plans it takes or its prices, so I'd rather not guess.",
        ),
    ],
)
def test_a_theme_not_covered_yet_or_the_clinics_own_details_get_a_reason_then_the_contact_details(
    settings, intent, first_line
):
    action = ActionHandoff(clinic_settings(settings))

    messages, events = run_action(action, make_tracker(user_says(intent)))

    assert messages == [
        message(
            text=f"{first_line}\n"
            "You can reach the team at Example Clinic:\n"
            "- Phone: +1 555 0100\n"
            "- Email: desk@clinic.example\n"
            "- Opening hours: Mon-Fri 9-17\n"
            "- Book online: https://clinic.example/book"
        )
    ]
    assert events == []
