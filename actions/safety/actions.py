"""The safety actions: scope limits, clinic handoff, forget me.

- ``action_decline_diagnosis`` / ``action_decline_medication_advice``: say what the
  bot cannot advise on, who can, and offer what it can answer.
- ``action_handoff``: the clinic's contact details from settings (and a booking button).
- ``action_forget_me``: after the user confirmed, record the request and delete the
  conversation from the tracker store once Rasa has saved this turn, retrying until
  it is done (see ``actions.safety.eraser.ConversationEraser``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, latest_intent, run_blocking
from actions.rendering import topic_button
from actions.safety.eraser import FORGET_MARKER_SLOT, ConversationEraser, resume_when_the_action_server_starts
from actions.safety.notice import privacy_notice_events
from actions.safety.texts import (
    BOOK_INTENT,
    CLINIC_DETAILS_INTENT,
    CLINIC_DETAILS_TEXT,
    FORGET_ME_PENDING_TEXT,
    NOT_COVERED_INTENT,
    NOT_COVERED_TEXT,
    booking_text,
    contact_text,
)
from actions.settings import SafetySettings, Settings, get_settings

logger = logging.getLogger(__name__)

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
# Intent -> (why the bot hands over, said before the contact details; the log line).
HANDOFF_REASONS = {
    NOT_COVERED_INTENT: (NOT_COVERED_TEXT, "question on a theme not covered yet"),
    CLINIC_DETAILS_INTENT: (CLINIC_DETAILS_TEXT, "question about the clinic itself"),
}


class ActionHandoff(Action):
    """Clinic contact details (also for questions on themes with no reviewed answer yet and
    about the clinic itself);
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
        elif intent in HANDOFF_REASONS:
            reason, log_line = HANDOFF_REASONS[intent]
            dispatcher.utter_message(text=f"{reason}\n{contact_text(settings)}")
            logger.info(log_line)
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
# Sent with that reply to the website widget (the "socketio" channel), which then clears
# the transcript and session it keeps in the browser (web/widget.js).
FORGET_ME_WIDGET_PAYLOAD = {"forget_me": "requested"}
WIDGET_CHANNEL = "socketio"


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
