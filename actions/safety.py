"""Safety layer (issue 4): scope limits, clinic handoff, privacy.

Red-flag triage is in ``actions.triage``.

- ``action_decline_diagnosis`` / ``action_decline_medication_advice``: say what the
  bot cannot advise on, who can, and offer what it can answer.
- ``action_handoff``: the clinic's contact details from settings (and a booking button).
- ``action_forget_me``: after the user confirmed, record the request and delete the
  conversation from the tracker store once Rasa has saved this turn, retrying until
  it is done (see ``ConversationEraser``).
- ``privacy_notice_events``: the privacy notice, once per conversation.

Our code never logs message text; see docs/safety.md for the log levels.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, latest_intent, run_blocking
from actions.rendering import DISCLAIMER
from actions.settings import Settings, env_positive_int, get_settings, tracker_store_url
from actions.store.conversations import ConversationStore, sql_conversation_store
from actions.store.forget_requests import (
    ForgetRequest,
    ForgetRequestStore,
    sql_forget_request_store,
    utc_now,
)
from channels.namespaces import channel_of

logger = logging.getLogger(__name__)

PRIVACY_NOTICE_SLOT = "privacy_notice_shown"
DISCLAIMER_SLOT = "disclaimer_shown"
# Set by action_forget_me to a random token; seeing it in the tracker store
# proves that Rasa has saved the turn, so the deletion can run.
FORGET_MARKER_SLOT = "forget_me_marker"
BOOK_INTENT = "book_appointment"
# On-topic questions on themes with no reviewed answer yet (what to wear, aftercare, children, ...).
NOT_COVERED_INTENT = "ask_not_covered_yet"
NOT_COVERED_TEXT = (
    "That's a fair question, but I don't have a reviewed answer about it yet, and I'd rather not guess. "
    "Your practitioner or the clinic can answer it."
)
CHOOSE_TOPIC = "/choose_topic"

ConversationStoreFactory = Callable[[str], AbstractContextManager[ConversationStore]]


# ---------------------------------------------------------------- settings
@dataclass(frozen=True)
class SafetySettings:
    """Privacy settings (environment variables, with defaults for a fresh clone)."""

    # Must be the database of the tracker store in endpoints.yml.
    tracker_store_url: str
    # Conversations are deleted this many days after their last message.
    retention_days: int
    # How long forget-me waits for Rasa to save the turn, then keeps watching
    # for a copy re-saved by a message that was already being processed.
    forget_wait_seconds: float = 30.0
    forget_watch_seconds: float = 10.0
    poll_seconds: float = 0.2
    # A failed deletion is retried after this pause, doubled each time up to the maximum.
    forget_retry_seconds: float = 1.0
    forget_retry_max_seconds: float = 60.0


@lru_cache(maxsize=1)
def get_safety_settings() -> SafetySettings:
    """Read TRACKER_STORE_URL and CONVERSATION_RETENTION_DAYS once (tests clear the cache)."""
    url = tracker_store_url()
    days = env_positive_int("CONVERSATION_RETENTION_DAYS", 30) or 30
    return SafetySettings(tracker_store_url=url, retention_days=days)


# ---------------------------------------------------------------- privacy notice
def privacy_notice(settings: SafetySettings) -> str:
    """What is stored, for how long, and how to delete it."""
    return (
        "Privacy: the clinic stores this chat (what you type and my replies) so that I can follow "
        f"the conversation. It is deleted automatically {settings.retention_days} days after your "
        "last message; the clinic can change this period. Please don't share details you don't "
        'need to, such as your full name. To delete this conversation now, type "forget me".'
    )


def privacy_notice_events(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    settings: SafetySettings | None = None,
) -> list[dict[str, Any]]:
    """Show the privacy notice if this conversation has not seen it yet."""
    if tracker.get_slot(PRIVACY_NOTICE_SLOT):
        return []
    dispatcher.utter_message(text=privacy_notice(settings or get_safety_settings()))
    return [SlotSet(PRIVACY_NOTICE_SLOT, True)]


def first_answer_notes(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    settings: SafetySettings | None = None,
    disclaimer: bool = True,
) -> list[dict[str, Any]]:
    """After an answer: the general-information disclaimer and the privacy notice,
    each once per conversation (a conversation may start with a question, not a greeting)."""
    events: list[dict[str, Any]] = []
    if disclaimer and not tracker.get_slot(DISCLAIMER_SLOT):
        dispatcher.utter_message(text=DISCLAIMER)
        events.append(SlotSet(DISCLAIMER_SLOT, True))
    return events + privacy_notice_events(dispatcher, tracker, settings)


def topic_button(title: str, topic_key: str) -> dict[str, str]:
    """A button answering one FAQ topic (handled by action_answer_faq)."""
    return {"title": title, "payload": f"{CHOOSE_TOPIC}{json.dumps({'topic_key': topic_key})}"}


# ---------------------------------------------------------------- scope limits
DIAGNOSIS_BUTTONS = (
    ("Acupuncture for migraine", "acupuncture_evidence_migraine"),
    ("Acupuncture for tension headache", "acupuncture_evidence_tension"),
    ("What acupuncture cannot do", "acupuncture_limits"),
)
MEDICATION_BUTTONS = (
    ("Acupuncture and your medicines", "medication_interactions"),
    ("Questions to ask a practitioner", "questions_for_practitioner"),
)


class _ScopeLimit:
    """Say what the bot cannot advise on and who can, then offer FAQ topics.

    A mixin, not an Action: the SDK registers every concrete Action subclass.
    """

    response = ""
    buttons: tuple[tuple[str, str], ...] = ()

    def __init__(self, safety_settings: SafetySettings | None = None) -> None:
        self._safety_settings = safety_settings

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response=self.response,
            buttons=[topic_button(title, key) for title, key in self.buttons],
        )
        return privacy_notice_events(dispatcher, tracker, self._safety_settings)


class ActionDeclineDiagnosis(_ScopeLimit, Action):
    """ "What kind of headache do I have?" -> who can diagnose, what the bot can explain."""

    response = "utter_cannot_diagnose"
    buttons = DIAGNOSIS_BUTTONS

    def name(self) -> str:
        return "action_decline_diagnosis"


class ActionDeclineMedicationAdvice(_ScopeLimit, Action):
    """ "Should I stop my topiramate?" -> prescriber, neurologist, pharmacist."""

    response = "utter_cannot_advise_medication"
    buttons = MEDICATION_BUTTONS

    def name(self) -> str:
        return "action_decline_medication_advice"


# ---------------------------------------------------------------- handoff
def contact_text(settings: Settings) -> str:
    """The clinic's contact details, one per line (links work on every channel)."""
    clinic = settings.clinic
    lines = [
        f"You can reach the team at {clinic.name}:",
        f"- Phone: {clinic.phone}" if clinic.phone else "",
        f"- Email: {clinic.email}" if clinic.email else "",
        f"- Opening hours: {clinic.hours}" if clinic.hours else "",
        f"- Book online: {clinic.booking_url}" if clinic.booking_url else "",
    ]
    return "\n".join(line for line in lines if line)


def booking_text(settings: Settings) -> str:
    """Where to book, then the phone as the alternative."""
    clinic = settings.clinic
    if clinic.booking_url:
        first = f"You can book an appointment with {clinic.name} online: {clinic.booking_url}"
    else:
        first = f"To book an appointment with {clinic.name}, please contact the clinic."
    alternative = f"Or call {clinic.phone} ({clinic.hours})." if clinic.phone else ""
    return f"{first}\n{alternative}".strip()


class ActionHandoff(Action):
    """Clinic contact details (also for questions on themes with no reviewed answer yet);
    nothing else is said until the user writes again."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        settings = self._settings or get_settings()
        intent = latest_intent(tracker)
        if intent == BOOK_INTENT:
            dispatcher.utter_message(text=booking_text(settings))
        elif intent == NOT_COVERED_INTENT:
            dispatcher.utter_message(text=f"{NOT_COVERED_TEXT}\n{contact_text(settings)}")
            logger.info("question on a theme not covered yet")
            return []
        else:
            buttons = []
            if settings.clinic.booking_url:
                # Channels that render buttons show it; its payload asks for the booking details.
                buttons = [{"title": "Book an appointment", "payload": f"/{BOOK_INTENT}"}]
            dispatcher.utter_message(
                text=contact_text(settings)
                + "\nI'm an automated assistant, so I can't pass this chat to a person myself.",
                buttons=buttons,
            )
        logger.info("clinic contact details given")
        return []


# ---------------------------------------------------------------- forget me
# What the visitor is told once the request is recorded: never "done", which is not
# true yet (the deletion can only run after Rasa has saved this very turn).
FORGET_ME_PENDING_TEXT = (
    "OK: this conversation and everything stored about it are being deleted from the clinic's "
    "records. This usually takes less than a minute; if the records can't be reached right now, "
    "I keep trying until it is done. If you write again after that, a new conversation starts."
)
# Sent with that reply to the website widget (the "socketio" channel), which then clears
# the transcript and session it keeps in the browser (web/widget.js).
FORGET_ME_WIDGET_PAYLOAD = {"forget_me": "requested"}
WIDGET_CHANNEL = "socketio"
# The Sanic app `rasa run actions` creates before it builds the actions (rasa_sdk.endpoint).
ACTION_SERVER_APP = "rasa_sdk"

ForgetRequestStoreFactory = Callable[[], AbstractContextManager[ForgetRequestStore]]


class ConversationEraser:
    """Deletes a conversation from Rasa's SQL tracker store after Rasa saved the turn,
    retrying until it is done; every request is recorded first (``forget_requests``).

    The action server cannot delete the rows while its action runs: Rasa saves
    the tracker after the action returns, and ``SQLTrackerStore.save`` writes
    every event beyond the number of rows it finds, so it would write the whole
    conversation back. Instead the action sets a random marker slot and this
    eraser, in the background, waits until the marker is in the table (the
    turn is saved: Rasa commits a turn at once), deletes every row of the
    sender, then keeps watching for ``forget_watch_seconds`` in case a message
    already being processed re-saves its stale copy, and deletes that too. Only
    then is the request marked done. A failure is counted in the request and
    retried with a growing pause; a request left pending by a restart is picked
    up by :meth:`resume_pending` (action-server start-up, ``purge-conversations``).
    """

    def __init__(
        self,
        settings: SafetySettings | None = None,
        store_factory: ConversationStoreFactory | None = None,
        requests_factory: ForgetRequestStoreFactory | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._store_factory = store_factory or sql_conversation_store
        self._requests_factory = requests_factory or sql_forget_request_store
        self._clock = clock
        self._running: set[int] = set()  # request ids this eraser is working on

    @property
    def settings(self) -> SafetySettings:
        return self._settings or get_safety_settings()

    # Blocking calls (run them with run_blocking).
    def _store(self) -> AbstractContextManager[ConversationStore]:
        return self._store_factory(self.settings.tracker_store_url)

    def event_count(self, sender_id: str) -> int:
        with self._store() as store:
            return store.event_count(sender_id)

    def _marker_saved(self, sender_id: str, marker: str) -> bool:
        with self._store() as store:
            return store.has_slot_value(sender_id, FORGET_MARKER_SLOT, marker)

    def _delete(self, sender_id: str, record: bool = False) -> int:
        with self._store() as store:
            deleted = store.delete_conversation(sender_id)
            if record and deleted:
                # Counted for the staff report: the day and the channel, nothing else.
                store.record_erasure(channel_of(sender_id), time.time())
            return deleted

    def record_request(self, sender_id: str, marker: str) -> ForgetRequest:
        with self._requests_factory() as requests:
            return requests.record(sender_id, marker, self._clock())

    def pending_requests(self) -> list[ForgetRequest]:
        with self._requests_factory() as requests:
            return requests.pending()

    def _record_failure(self, request_id: int, error: str) -> None:
        with self._requests_factory() as requests:
            requests.record_failure(request_id, error)

    def _mark_done(self, request_id: int) -> None:
        with self._requests_factory() as requests:
            requests.mark_done(request_id, self._clock())

    # The event loop's side.
    def start(self, request: ForgetRequest) -> asyncio.Task[Any] | None:
        """Erase in the background (None if this eraser is already on it)."""
        if request.id in self._running:
            return None
        self._running.add(request.id)
        task = _start_background(self.erase(request))
        task.add_done_callback(lambda _task: self._running.discard(request.id))
        return task

    async def resume_pending(self) -> int:
        """Start every pending request in the background; return how many were started."""
        try:
            pending = await run_blocking(self.pending_requests)
        except DataUnavailable:
            logger.error("forget-me: pending deletion requests could not be read; retried at the next start")
            return 0
        started = sum(1 for request in pending if self.start(request) is not None)
        if started:
            logger.info("forget-me: %d pending deletion requests resumed", started)
        return started

    async def erase(self, request: ForgetRequest, max_attempts: int | None = None) -> bool:
        """Delete the conversation of ``request``, retrying until it is done (or
        ``max_attempts`` failed); True once the request is marked done."""
        settings = self.settings
        sender_id = request.conversation_id
        await self._wait_for_save(request)
        delay = settings.forget_retry_seconds
        failures = 0
        while True:
            try:
                deleted = await run_blocking(self._delete, sender_id, True)
                deleted += await self._delete_stale_copies(request)
                await run_blocking(self._mark_done, request.id)
            except DataUnavailable as error:
                failures += 1
                logger.error(
                    "forget-me: deleting the conversation failed (%s, attempt %d); retrying in %.1f s",
                    error,
                    failures,
                    delay,
                )
                try:
                    await run_blocking(self._record_failure, request.id, str(error))
                except DataUnavailable:
                    pass  # the request stays pending in the table all the same
                if max_attempts is not None and failures >= max_attempts:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.forget_retry_max_seconds)
                continue
            logger.info("forget-me: conversation deleted from the tracker store (%d events)", deleted)
            logger.debug("forget-me: sender %s", sender_id)
            return True

    async def _wait_for_save(self, request: ForgetRequest) -> None:
        """Wait until the turn carrying the marker is saved, at most ``forget_wait_seconds``
        after the request (a request resumed after a restart does not wait again)."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        age = (self._clock() - request.requested_at).total_seconds()
        deadline = loop.time() + settings.forget_wait_seconds - max(age, 0.0)
        saved = False
        while True:
            try:
                saved = await run_blocking(self._marker_saved, request.conversation_id, request.marker)
            except DataUnavailable:
                saved = False
            if saved or loop.time() >= deadline:
                break
            await asyncio.sleep(settings.poll_seconds)
        if not saved:
            logger.warning(
                "forget-me: the turn was not seen in the tracker store within %.0f s; deleting "
                "what is there (is TRACKER_STORE_URL the tracker store of endpoints.yml?)",
                settings.forget_wait_seconds,
            )

    async def _delete_stale_copies(self, request: ForgetRequest) -> int:
        """Watch for a copy re-saved by a message already in progress; delete it too."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        deleted = 0
        watch_until = loop.time() + settings.forget_watch_seconds
        while loop.time() < watch_until:
            await asyncio.sleep(settings.poll_seconds * 2)
            try:
                stale_copy = await run_blocking(self._marker_saved, request.conversation_id, request.marker)
            except DataUnavailable:
                continue
            if stale_copy:
                deleted += await run_blocking(self._delete, request.conversation_id)
        return deleted


# Running erasures, referenced so that they are not garbage-collected mid-way.
_ERASURES: set[asyncio.Task[Any]] = set()


def _start_background(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(coroutine)
    _ERASURES.add(task)
    task.add_done_callback(_ERASURES.discard)
    return task


async def wait_for_erasures(timeout: float = 60.0) -> None:
    """Wait until every background erasure has finished (tests, shutdown)."""
    if _ERASURES:
        await asyncio.wait_for(asyncio.gather(*list(_ERASURES)), timeout)


def resume_when_the_action_server_starts(eraser: ConversationEraser) -> bool:
    """Resume pending deletion requests in each action-server worker once it serves.

    ``rasa run actions`` creates its Sanic app, then builds every action (so this runs
    from ``ActionForgetMe()``), then starts serving. Outside it (tests, scripts) there
    is no such app and nothing is registered.
    """
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app(ACTION_SERVER_APP)
    except SanicException:
        return False

    async def resume(_app: Any, _loop: Any = None) -> None:
        _start_background(eraser.resume_pending())

    app.register_listener(resume, "after_server_start")
    return True


class ActionForgetMe(Action):
    """After "forget me" was confirmed: record the request, delete this conversation in the
    background, and say it is being deleted."""

    def __init__(self, eraser: ConversationEraser | None = None) -> None:
        self._eraser = eraser or ConversationEraser()
        if eraser is None:  # built by the action server
            resume_when_the_action_server_starts(self._eraser)

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sender_id = tracker.sender_id
        try:
            stored: int | None = await run_blocking(self._eraser.event_count, sender_id)
        except DataUnavailable:
            stored = None  # the tracker store is down: the request is recorded and retried
        if stored == 0:
            # Earlier turns of this conversation must be there: the tracker store
            # we can reach is not the one Rasa writes to.
            logger.error(
                "forget-me: no stored events for this conversation; TRACKER_STORE_URL does not "
                "point at the tracker store of endpoints.yml"
            )
            dispatcher.utter_message(response="utter_forget_me_failed")
            return []
        marker = uuid.uuid4().hex
        try:
            request = await run_blocking(self._eraser.record_request, sender_id, marker)
        except DataUnavailable:
            logger.error("forget-me: the deletion request could not be recorded; nothing deleted")
            dispatcher.utter_message(response="utter_forget_me_failed")
            return []
        self._eraser.start(request)
        if tracker.get_latest_input_channel() == WIDGET_CHANNEL:
            dispatcher.utter_message(text=FORGET_ME_PENDING_TEXT, json_message=FORGET_ME_WIDGET_PAYLOAD)
        else:
            dispatcher.utter_message(text=FORGET_ME_PENDING_TEXT)
        logger.info("forget-me: deletion requested")
        return [SlotSet(FORGET_MARKER_SLOT, marker)]


# ---------------------------------------------------------------- retention
def purge_expired_conversations(
    settings: SafetySettings | None = None,
    store_factory: ConversationStoreFactory | None = None,
    now: float | None = None,
) -> int:
    """Delete conversations whose last message is older than the retention period."""
    settings = settings or get_safety_settings()
    factory = store_factory or sql_conversation_store
    cutoff = (time.time() if now is None else now) - settings.retention_days * 86400
    with factory(settings.tracker_store_url) as store:
        deleted = store.delete_inactive_before(cutoff)
    logger.info("retention: %d conversations older than %d days deleted", deleted, settings.retention_days)
    return deleted


def complete_pending_requests(
    eraser: ConversationEraser | None = None, max_attempts: int = 3
) -> tuple[int, int]:
    """Run every pending deletion request here and now (``purge-conversations``, outside the
    action server's loop); return (done, still pending). Safe while the action server works
    on the same requests: deleting twice deletes nothing more."""
    eraser = eraser or ConversationEraser()

    async def complete() -> tuple[int, int]:
        pending = await run_blocking(eraser.pending_requests)
        results = await asyncio.gather(*(eraser.erase(request, max_attempts) for request in pending))
        return sum(results), len(results) - sum(results)

    return asyncio.run(complete())


def forget_done_requests(
    settings: SafetySettings | None = None,
    requests_factory: ForgetRequestStoreFactory | None = None,
    now: datetime | None = None,
) -> int:
    """Drop the record of deletions done more than the retention period ago (the record
    holds the conversation id, e.g. a phone number, so it is not kept for ever)."""
    settings = settings or get_safety_settings()
    factory = requests_factory or sql_forget_request_store
    cutoff = (now or utc_now()) - timedelta(days=settings.retention_days)
    with factory() as requests:
        return requests.delete_done_before(cutoff)
