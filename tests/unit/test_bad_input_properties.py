"""Property-based checks (hypothesis) of the input guards every channel shares.

Whatever a client sends, the REST webhook answers 200 with a list of bot messages or
400 with a one-line reason, and ``check_message`` never raises. The end-to-end files
(tests/e2e/test_bad_input.py, test_socketio.py) drive the real servers with the
interesting cases; these explore the rest without a server.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.rest import GuardedRestInput
from server_plugins.balance import TurnBalancer
from server_plugins.guard import EMPTY_MESSAGE, check_message, max_message_chars

# The number of examples comes from the hypothesis profile (tests/unit/conftest.py): 300, fewer
# in `make test-unit`.
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), st.none(), st.integers(), st.binary(), json_values))
def test_check_message_accepts_clean_text_or_explains_the_rejection(value: Any):
    text, rejection = check_message(value)
    assert (text is None) != (rejection is None)
    if text is not None:
        assert text == text.strip() and 0 < len(text) <= max_message_chars()
        # Line breaks stay; other control, zero-width and bidi-override characters do not.
        assert not any(
            (ord(char) < 32 and char not in "\n\r") or char == "\x7f" or "\u202a" <= char <= "\u202e"
            for char in text
        )
    else:
        assert rejection == EMPTY_MESSAGE or "too long" in rejection


def webhook_handler():
    """The REST channel's POST /webhook handler, with a turn that echoes the text."""

    async def echo_turn(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")

    channel = GuardedRestInput(balancer=TurnBalancer(workers=1))
    blueprint = channel.blueprint(echo_turn)
    return next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")


HANDLER = webhook_handler()


def post(body: bytes) -> tuple[int, Any]:
    response = asyncio.run(HANDLER(SimpleNamespace(body=body, stream=None)))
    return response.status, json.loads(response.body)


def assert_clean_reply(status: int, payload: Any) -> None:
    if status == 400:
        assert set(payload) == {"error"} and "\n" not in payload["error"]
    else:
        assert status == 200
        assert isinstance(payload, list) and payload
        assert all(isinstance(reply.get("text"), str) and reply["text"] for reply in payload)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_get_a_reply_or_a_400(body: bytes):
    assert_clean_reply(*post(body))


@PROPERTY_SETTINGS
@given(json_values)
def test_any_json_value_gets_a_reply_or_a_400(value: Any):
    assert_clean_reply(*post(json.dumps(value).encode()))


@PROPERTY_SETTINGS
@given(
    sender=st.one_of(st.text(max_size=140), json_values),
    message=st.one_of(st.text(max_size=300), json_values),
    metadata=st.one_of(st.none(), json_values),
)
def test_any_request_shaped_object_gets_a_reply_or_a_400(sender: Any, message: Any, metadata: Any):
    body = {"sender": sender, "message": message, "metadata": metadata}
    status, payload = post(json.dumps(body).encode())
    assert_clean_reply(status, payload)
    if status == 200 and payload[0]["text"].startswith("echo: "):
        # Only a clean message reaches a turn.
        assert payload[0]["text"][len("echo: ") :] == check_message(message)[0]
