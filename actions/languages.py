"""Messages in other languages (issue 18): say, in that language, that the bot answers in English.

The replies live in ``data/content/other_languages.yml`` (staff may correct them); the
language comes from the parse data that ``nlp_pipeline.components.LanguageDetector`` adds.
The reply gives the clinic's contact and the emergency number, then the same in English.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from ruamel.yaml import YAML

from actions.settings import PROJECT_ROOT, ClinicContact, Settings, get_settings

logger = logging.getLogger(__name__)

REPLIES_FILE = PROJECT_ROOT / "data" / "content" / "other_languages.yml"


@dataclass(frozen=True)
class LanguageReplies:
    english: str
    replies: dict[str, str]
    # language -> tier -> the red-flag guidance in that language (given before the English).
    red_flag_guidance: dict[str, dict[str, str]] = field(default_factory=dict)

    def guidance(self, language: str, tier: str) -> str | None:
        return self.red_flag_guidance.get(language, {}).get(tier)


@lru_cache(maxsize=4)
def load_language_replies(path: Path = REPLIES_FILE) -> LanguageReplies:
    """The reply texts, each with a ``{contact}`` place for the clinic's details."""
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return LanguageReplies(
        english=str(data["english"]),
        replies={str(k): str(v) for k, v in data["replies"].items()},
        red_flag_guidance={
            str(language): {str(tier): str(text) for tier, text in tiers.items()}
            for language, tiers in (data.get("red_flag_guidance") or {}).items()
        },
    )


def contact_clause(clinic: ClinicContact) -> str:
    """ " (Name: phone, email)" from whatever details the clinic set."""
    details = ", ".join(part for part in (clinic.phone, clinic.email) if part)
    if clinic.name and details:
        return f" ({clinic.name}: {details})"
    if details or clinic.name:
        return f" ({details or clinic.name})"
    return ""


class ActionReplyOtherLanguage(Action):
    """The "I answer in English for now" reply, in the visitor's language, then in English."""

    def __init__(self, settings: Settings | None = None, replies: LanguageReplies | None = None) -> None:
        self._settings = settings
        self._replies = replies

    def name(self) -> str:
        return "action_reply_other_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        replies = self._replies or load_language_replies()
        contact = contact_clause((self._settings or get_settings()).clinic)
        language = str(tracker.latest_message.get("language") or "")
        translated = replies.replies.get(language)
        if translated:
            dispatcher.utter_message(text=translated.format(contact=contact))
        dispatcher.utter_message(text=replies.english.format(contact=contact))
        logger.info("reply in another language (%s)", language or "unknown")
        return []
