"""Conversation ids: "<namespace>:<platform id>", one namespace per connector.

Imports nothing from the Rasa server, so the action server (forget me) and the staff
report (``insights``) can use it as well as the connectors.
"""

from __future__ import annotations

# Every connector keeps its conversations in a namespace of its own: the Rasa
# sender id (tracker, lock, "forget me") is "<namespace>:<platform id>", so an
# id typed into one channel (e.g. a phone number sent to the public REST
# webhook) never names a conversation of another one.
SMS = "sms"  # Twilio: the From value kept whole ("sms:+1555...", "sms:whatsapp:+1555...")
TELEGRAM = "tg"  # the chat id
SLACK = "slack"  # the user id (U...)
MESSENGER = "fb"  # the page-scoped sender id
WEB = "web"  # the website widget's session id (socket.io)
REST = "rest"  # whatever the REST client sends as "sender"
NAMESPACES = frozenset({SMS, TELEGRAM, SLACK, MESSENGER, WEB, REST})


def conversation_id(namespace: str, platform_id: str) -> str:
    """The Rasa sender id of ``platform_id``'s conversation on the connector of ``namespace``.

    Always prefixed, whatever ``platform_id`` looks like: "rest" + "sms:+1555"
    is "rest:sms:+1555", never the SMS user's conversation.
    """
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown conversation namespace: {namespace!r}")
    return f"{namespace}:{platform_id}"


def platform_id(namespace: str, conversation: str) -> str:
    """The inverse of ``conversation_id``: the id the platform's API knows.

    Output channels get the conversation id from Rasa
    (``send_response(tracker.sender_id, ...)``) and call this before any API
    call. An id without the prefix (a conversation from before namespacing)
    is returned as it is.
    """
    prefix = conversation_id(namespace, "")
    return conversation[len(prefix) :] if conversation.startswith(prefix) else conversation


OTHER = "other"


def channel_of(conversation: str) -> str:
    """The connector namespace of a conversation id ("web:3f2a..." -> "web"); ``OTHER`` for an
    id without one (``rasa shell``, a conversation from before namespacing)."""
    prefix, separator, _ = conversation.partition(":")
    return prefix if separator and prefix in NAMESPACES else OTHER
