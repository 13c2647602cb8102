"""Channel-aware rendering: pure functions shared by the connectors.

Each platform limits what a message may hold (length, number of buttons,
button title length); these helpers turn one bot message into what the
platform accepts without dropping anything the user needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The staff inspector's lines (actions/faq.py) start with this; no public
# channel ever shows them.
STAFF_PREFIX = "[staff]"

MARKDOWN_LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^\s)]+)\)")
MARKDOWN_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
NUMBER_REPLY = re.compile(r"^\s*(?:#|no\.?\s*|number\s*|option\s*)?(\d{1,2})\s*[.)!]?\s*$", re.IGNORECASE)

# Where a long text is best cut, in order of preference.
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


@dataclass(frozen=True)
class Choice:
    """One button: what the user sees and what the bot receives."""

    title: str
    payload: str


def is_staff_line(text: object) -> bool:
    """True for a staff-inspector line (never shown on public channels)."""
    return isinstance(text, str) and text.lstrip().startswith(STAFF_PREFIX)


def choices_from_buttons(buttons: Iterable[Mapping[str, Any]] | None) -> list[Choice]:
    """Rasa's button dicts -> choices; buttons without a payload (links) are skipped."""
    choices = []
    for button in buttons or []:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or "").strip()
        if title and payload:
            choices.append(Choice(title=title, payload=payload))
    return choices


def plain_text(text: str) -> str:
    """Markdown links as 'title (url)' and bold markers removed: for SMS, Telegram, Messenger."""
    text = MARKDOWN_LINK.sub(lambda match: f"{match.group(1)} ({match.group(2)})", text)
    return MARKDOWN_BOLD.sub(r"\1", text)


def slack_mrkdwn(text: str) -> str:
    """Slack's mrkdwn: &, < and > escaped (so nothing is read as a mention or link
    markup), markdown links as <url|title>, **bold** as *bold*."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        title = match.group(1).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        title = title.replace("|", "/")
        links.append(f"<{match.group(2)}|{title}>")
        return f"\x00{len(links) - 1}\x00"

    text = MARKDOWN_LINK.sub(keep_link, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MARKDOWN_BOLD.sub(r"*\1*", text)
    return re.sub(r"\x00(\d+)\x00", lambda match: links[int(match.group(1))], text)


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters.

    Cuts at a paragraph break if one is in the second half of the window, else
    at a line break, a sentence end or a space; a single word longer than the
    limit (never seen in our answers) is cut hard. Links are never split
    unless they alone exceed the limit.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = _cut_position(text, limit)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _cut_position(text: str, limit: int) -> int:
    for minimum in (limit // 2, 1):
        for separator in _BREAKS:
            # A sentence end keeps its punctuation: cut after ". ", not before.
            keep = len(separator.rstrip())
            index = text.rfind(separator, 0, limit - keep + 1)
            if index >= minimum:
                return index + keep
    return limit


def fit(title: str, limit: int) -> str:
    """A title shortened with an ellipsis to at most ``limit`` characters."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def numbered_options(choices: Sequence[Choice]) -> str:
    """The choices as a numbered list for channels without buttons (SMS)."""
    lines = [f"{number}. {choice.title}" for number, choice in enumerate(choices, 1)]
    return "Reply with the number of your choice:\n" + "\n".join(lines)


def parse_number_reply(text: str | None) -> int | None:
    """'2', ' 2.', '#2', 'option 2' -> 2; anything else -> None."""
    match = NUMBER_REPLY.match(text or "")
    return int(match.group(1)) if match else None


def chunks(items: Sequence[Choice], size: int) -> list[list[Choice]]:
    """``items`` in consecutive groups of at most ``size``."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


# Short-first answers (actions/rendering.py): the first message carries the whole answer in
# ``custom["answer"]``; the second (``custom["answer_detail"]``) is its plain-text detail.
ANSWER = "answer"
ANSWER_DETAIL = "answer_detail"
MORE_HINT = "Reply MORE for details and sources."
MORE_REQUEST = re.compile(
    r"^\s*(?:please\s+|tell\s+me\s+)?more(?:\s+(?:please|details?|info(?:rmation)?|sources?))?\s*[.!]*\s*$",
    re.IGNORECASE,
)


def answer_payload(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """The structured short-first answer a bot message carries, if any."""
    custom = message.get("custom")
    answer = custom.get(ANSWER) if isinstance(custom, Mapping) else None
    if isinstance(answer, dict) and isinstance(answer.get("short"), str):
        return answer
    return None


def is_answer_detail(message: Mapping[str, Any]) -> bool:
    """True for the plain-text detail that follows a short-first answer."""
    custom = message.get("custom")
    return isinstance(custom, Mapping) and ANSWER_DETAIL in custom


def is_more_request(text: str | None) -> bool:
    """'MORE', 'more please', 'More details' ...: the user asks for the last answer's detail."""
    return bool(MORE_REQUEST.match(text or ""))


def short_with_hint(answer: Mapping[str, Any]) -> str:
    """The short answer and how to get the rest (SMS, Telegram, Messenger)."""
    return f"{answer['short']}\n\n{MORE_HINT}"


def slack_answer_blocks(answer: Mapping[str, Any], more_value: str) -> list[dict[str, Any]]:
    """Block Kit for a short-first answer: the short answer, the sources as titled links (with
    their dates) in a context block, and a "More" button that sends ``more_value``."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_mrkdwn(str(answer["short"]))}}
    ]
    links = []
    for source in answer.get("sources") or []:
        title = str(source.get("title") or "")
        label = f"{title} ({source['date']})" if source.get("date") else title
        url = source.get("url")
        links.append(slack_mrkdwn(f"[{fit(label, 280)}]({url})" if url else fit(label, 280)))
    if links:
        # A context block holds at most 10 elements of up to 3000 characters.
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in links[:10]]})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "More details"},
                    "value": more_value,
                    "action_id": "answer_more",
                }
            ],
        }
    )
    return blocks
