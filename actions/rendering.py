"""How answers look: the short answer first, then the detail, its sources and dates.

Every answer is sent as two messages (issue 20, short answer first):

1. ``text`` is the short answer (one or two sentences); ``custom`` holds the whole answer in a
   structured form the channels render natively::

       {"answer": {"key": ..., "short": ..., "detail": [blocks], "sources": [...], "note": ...}}

   ``detail`` is a list of ``{"type": "paragraph", "text": ...}`` and
   ``{"type": "list", "items": [...]}`` blocks; ``sources`` a list of
   ``{"title": ..., "url": ... or None, "date": ... or None}``; ``note`` the review line.
2. ``text`` is the detail and the sources as plain text, so ``rasa shell``, the REST channel and
   any channel that ignores ``custom`` still show everything; ``custom`` is
   ``{"answer_detail": {"key": ...}}`` so that channels showing the structured answer (the
   widget, Slack) leave it out, and SMS/Telegram/Messenger send it when the user replies MORE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.store.records import FaqAnswer, Source

DISCLAIMER = (
    "I give general information from published sources, not medical advice. "
    "For advice about your own health, please talk to your doctor."
)

ANSWER = "answer"  # custom key of the first message (the structured answer)
ANSWER_DETAIL = "answer_detail"  # custom key of the second message (the plain-text detail)
BULLET = "- "
# A tap on a topic button is this intent with the topic key (answered by action_answer_faq).
CHOOSE_TOPIC_INTENT = "choose_topic"


def topic_button(title: str, topic_key: str) -> dict[str, str]:
    """A button that answers one FAQ topic when tapped."""
    return {"title": title, "payload": f"/{CHOOSE_TOPIC_INTENT}{json.dumps({'topic_key': topic_key})}"}


def state_question_button(title: str, intent: str, state_code: str) -> dict[str, str]:
    """A button that asks a legality question (``intent``) about one state when tapped."""
    return {"title": title, "payload": f"/{intent}{json.dumps({'us_state': state_code})}"}


def format_date(value: date) -> str:
    """'21 November 2026': unambiguous for readers in any country."""
    return f"{value.day} {value.strftime('%B %Y')}"


def format_sources(sources: tuple[Source, ...]) -> str:
    """One line per source: 'Source: <title> - <url>' (links work on every channel)."""
    label = "Source" if len(sources) == 1 else "Sources"
    lines = [f"{label}:"] + [f"- {source.title}: {source.url}" for source in sources]
    return "\n".join(lines)


@dataclass(frozen=True)
class CitedSource:
    """A source as the channels show it: a title, its address if it has one, and its date."""

    title: str
    url: str | None = None
    date: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {"title": self.title, "url": self.url, "date": self.date}


@dataclass(frozen=True)
class ShortFirstAnswer:
    """One answer, short answer first.

    ``detail`` is plain text whose lines starting with "- " form bulleted lists;
    ``sources_text`` is the citation block as plain text (the fallback's last part).
    """

    key: str
    short: str
    detail: str
    sources: tuple[CitedSource, ...]
    sources_text: str
    note: str = ""

    def fallback_text(self) -> str:
        """The detail and the sources as plain text (the second message)."""
        return "\n\n".join(part for part in (self.detail.strip(), self.sources_text.strip()) if part)

    def payload(self) -> dict[str, Any]:
        """The structured answer carried by the first message."""
        return {
            "key": self.key,
            "short": self.short,
            "detail": detail_blocks(self.detail),
            "sources": [source.as_json() for source in self.sources],
            "note": self.note,
        }

    def messages(self) -> list[dict[str, Any]]:
        """Keyword arguments for ``dispatcher.utter_message``, in order."""
        return [
            {"text": self.short, "json_message": {ANSWER: self.payload()}},
            {"text": self.fallback_text(), "json_message": {ANSWER_DETAIL: {"key": self.key}}},
        ]

    def send(self, dispatcher: CollectingDispatcher) -> None:
        for message in self.messages():
            dispatcher.utter_message(**message)


def detail_blocks(detail: str) -> list[dict[str, Any]]:
    """Plain detail text -> paragraphs and lists: consecutive "- " lines form one list."""
    blocks: list[dict[str, Any]] = []
    for raw in detail.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(BULLET):
            item = line[len(BULLET) :].strip()
            if blocks and blocks[-1]["type"] == "list":
                blocks[-1]["items"].append(item)
            else:
                blocks.append({"type": "list", "items": [item]})
        else:
            blocks.append({"type": "paragraph", "text": line})
    return blocks


def faq_short_first(answer: FaqAnswer) -> ShortFirstAnswer:
    """An FAQ answer: its ``short`` first, then the detail, sources and review date."""
    reviewed = f"Last reviewed {format_date(answer.reviewed_on)}."
    return ShortFirstAnswer(
        key=answer.key,
        short=answer.short or answer.text.split("\n")[0],
        detail=answer.text if answer.short else "\n".join(answer.text.split("\n")[1:]),
        sources=tuple(CitedSource(source.title, source.url) for source in answer.sources),
        sources_text=f"{format_sources(answer.sources)}\n{reviewed}",
        note=reviewed,
    )
