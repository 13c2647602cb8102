"""Safety layer (issue 4): scope limits, clinic handoff, privacy.

Red-flag triage is in ``actions.triage``.

- ``action_decline_diagnosis`` / ``action_decline_medication_advice``: say what the
  bot cannot advise on, who can, and offer what it can answer.
- ``action_handoff``: the clinic's contact details from settings (and a booking button).
- ``action_forget_me``: after the user confirmed, delete the conversation from the
  tracker store once Rasa has saved this turn (see ``ConversationEraser``).
- ``privacy_notice_events``: the privacy notice, once per conversation.

Our code never logs message text; see docs/safety.md for the log levels.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, run_blocking
from actions.rendering import DISCLAIMER
from actions.settings import PROJECT_ROOT, Settings, env_positive_int, get_settings
from actions.store.conversations import ConversationStore, sql_conversation_store

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


def default_tracker_store_url() -> str:
    """endpoints.yml's local default: SQLite ``var/tracker.db`` in the project."""
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"


@lru_cache(maxsize=1)
def get_safety_settings() -> SafetySettings:
    """Read TRACKER_STORE_URL and CONVERSATION_RETENTION_DAYS once (tests clear the cache)."""
    url = (os.environ.get("TRACKER_STORE_URL") or "").strip() or default_tracker_store_url()
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
        intent = (tracker.latest_message.get("intent") or {}).get("name")
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
class ConversationEraser:
    """Deletes a conversation from Rasa's SQL tracker store after Rasa saved the turn.

    The action server cannot delete the rows while its action runs: Rasa saves
    the tracker after the action returns, and ``SQLTrackerStore.save`` writes
    every event beyond the number of rows it finds, so it would write the whole
    conversation back. Instead the action sets a random marker slot and this
    eraser, in the background, waits until the marker is in the table (the
    turn is saved: Rasa commits a turn at once), deletes every row of the
    sender, then keeps watching for ``forget_watch_seconds`` in case a message
    already being processed re-saves its stale copy, and deletes that too.
    """

    def __init__(
        self,
        settings: SafetySettings | None = None,
        store_factory: ConversationStoreFactory | None = None,
    ) -> None:
        self._settings = settings
        self._store_factory = store_factory or sql_conversation_store

    @property
    def settings(self) -> SafetySettings:
        return self._settings or get_safety_settings()

    def _store(self) -> AbstractContextManager[ConversationStore]:
        return self._store_factory(self.settings.tracker_store_url)

    def event_count(self, sender_id: str) -> int:
        with self._store() as store:
            return store.event_count(sender_id)

    def _marker_saved(self, sender_id: str, marker: str) -> bool:
        with self._store() as store:
            return store.has_slot_value(sender_id, FORGET_MARKER_SLOT, marker)

    def _delete(self, sender_id: str) -> int:
        with self._store() as store:
            return store.delete_conversation(sender_id)

    async def erase_after_save(self, sender_id: str, marker: str) -> int:
        """Wait for the turn carrying ``marker`` to be saved, delete the conversation, watch."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.forget_wait_seconds
        saved = False
        while True:
            try:
                saved = await run_blocking(self._marker_saved, sender_id, marker)
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
        deleted = await self._delete_or_log(sender_id)
        watch_until = loop.time() + settings.forget_watch_seconds
        while loop.time() < watch_until:
            await asyncio.sleep(settings.poll_seconds * 2)
            try:
                stale_copy = await run_blocking(self._marker_saved, sender_id, marker)
            except DataUnavailable:
                continue
            if stale_copy:
                deleted += await self._delete_or_log(sender_id)
        logger.info("forget-me: conversation deleted from the tracker store (%d events)", deleted)
        logger.debug("forget-me: sender %s", sender_id)
        return deleted

    async def _delete_or_log(self, sender_id: str) -> int:
        for attempt in range(3):
            try:
                return await run_blocking(self._delete, sender_id)
            except DataUnavailable:
                logger.error("forget-me: deleting the conversation failed (attempt %d of 3)", attempt + 1)
                await asyncio.sleep(1.0)
        return 0


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


class ActionForgetMe(Action):
    """After "forget me" was confirmed: delete this conversation, and say so."""

    def __init__(self, eraser: ConversationEraser | None = None) -> None:
        self._eraser = eraser or ConversationEraser()

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sender_id = tracker.sender_id
        try:
            stored = await run_blocking(self._eraser.event_count, sender_id)
        except DataUnavailable:
            dispatcher.utter_message(response="utter_forget_me_failed")
            return []
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
        _start_background(self._eraser.erase_after_save(sender_id, marker))
        dispatcher.utter_message(response="utter_forget_me_done")
        logger.info("forget-me: deletion scheduled")
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
