"""Connectors without a server: settings from the environment (off when unset),
signature checks, and exactly what each platform's API receives."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered
from twilio.request_validator import RequestValidator

from actions.rendering import CitedSource, ShortFirstAnswer
from channels import facebook, slack, telegram, twilio
from channels.base import (
    MESSENGER,
    NAMESPACES,
    REST,
    SLACK,
    SMS,
    TELEGRAM,
    WEB,
    DisabledInput,
    conversation_id,
    handle_safely,
    platform_id,
)
from channels.options import short_code
from channels.rendering import Choice, is_more_request
from channels.socketio import SessionTokens, WebChatInput, allowed_origins_from, origin_allowed
from tests.conftest import ROOT

CONNECTOR_ENV = [
    "TELEGRAM_ACCESS_TOKEN", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_URL",
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_USE_THREADS", "SLACK_API_URL",
    "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN", "FACEBOOK_GRAPH_URL",
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL", "TWILIO_API_URL",
    "WEBCHAT_ALLOWED_ORIGINS",
]  # fmt: skip

DID_YOU_MEAN = "I want to be sure I answer the right question. Did you mean:"
BUTTONS = [
    {"title": "What dry needling is", "payload": '/choose_topic{"topic_key": "dry_needling_what_is"}'},
    {
        "title": "How dry needling differs from acupuncture",
        "payload": '/choose_topic{"topic_key": "dn_vs_ac"}',
    },
    {"title": "Side effects and risks of dry needling", "payload": '/choose_topic{"topic_key": "dn_side"}'},
    {"title": "Something else", "payload": "/something_else"},
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in CONNECTOR_ENV:
        monkeypatch.delenv(name, raising=False)
    # The connectors' memory of deliveries stays in the process (no shared Redis keys).
    monkeypatch.delenv("REDIS_URL", raising=False)


@dataclass
class Recorder:
    """Stands in for channels.base.call_api: records every outbound call."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None

    async def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls.append({"method": method, "url": url, **kwargs})
        return self.result


@dataclass
class FakeRequest:
    headers: dict[str, str]
    body: bytes = b""
    url: str = ""


def record(monkeypatch, module, result=None) -> Recorder:
    recorder = Recorder(result=result)
    monkeypatch.setattr(module, "call_api", recorder)
    return recorder


# ---------------------------------------------------------------- on / off
@pytest.mark.parametrize(
    ("channel", "required"),
    [
        (telegram.TelegramInput, ["TELEGRAM_ACCESS_TOKEN", "TELEGRAM_SECRET_TOKEN"]),
        (slack.SlackInput, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
        (
            facebook.FacebookInput,
            ["FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN"],
        ),
        (twilio.TwilioInput, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"]),
    ],
)
def test_a_connector_without_credentials_is_off_with_one_log_line(channel, required, caplog, monkeypatch):
    with caplog.at_level(logging.INFO, logger="channels.base"):
        off = channel.from_credentials(None)
    assert isinstance(off, DisabledInput)
    assert off.url_prefix() == channel.name()
    assert [record.getMessage() for record in caplog.records] == [
        f"{channel.name()} connector is off: set {', '.join(required)} to turn it on (see .env.example)"
    ]

    # Half-configured is a mistake: still off, and said louder.
    monkeypatch.setenv(required[0], "set")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="channels.base"):
        assert isinstance(channel.from_credentials({}), DisabledInput)
    assert caplog.records[0].levelno == logging.WARNING
    assert f"{required[0]} set but {', '.join(required[1:])} missing" in caplog.records[0].getMessage()

    for name in required:
        monkeypatch.setenv(name, "test-value_1")
    assert isinstance(channel.from_credentials(None), channel)


def test_credentials_file_values_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC-env")
    channel = twilio.TwilioInput.from_credentials(
        {"account_sid": "AC-file", "auth_token": "t", "twilio_number": "+15550000000"}
    )
    assert isinstance(channel, twilio.TwilioInput)
    assert channel.account_sid == "AC-file"
    assert channel.api_url == "https://api.twilio.com"


def test_telegram_secret_token_must_use_telegram_characters(monkeypatch, caplog):
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "not allowed!")
    assert isinstance(telegram.TelegramInput.from_credentials(None), DisabledInput)


def test_project_credentials_enable_every_channel():
    import yaml

    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert {
        "channels.socketio.WebChatInput",
        "channels.telegram.TelegramInput",
        "channels.slack.SlackInput",
        "channels.facebook.FacebookInput",
        "channels.twilio.TwilioInput",
    } <= set(credentials)
    assert credentials["channels.socketio.WebChatInput"]["session_persistence"] is True
    assert "${" not in (ROOT / "credentials.yml").read_text(encoding="utf-8"), "secrets come from channels/*"


def test_env_example_documents_every_connector_variable():
    documented = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in CONNECTOR_ENV:
        assert f"{name}=" in documented, name


# ---------------------------------------------------------------- web chat
def test_web_chat_allows_only_configured_origins(monkeypatch):
    assert allowed_origins_from(None) == ["http://localhost:8080", "http://127.0.0.1:8080"]
    assert allowed_origins_from(" https://clinic.example/ ,https://www.clinic.example") == [
        "https://clinic.example",
        "https://www.clinic.example",
    ]
    assert allowed_origins_from("https://a.example,*") == "*"
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://clinic.example")
    channel = WebChatInput.from_credentials({"session_persistence": True})
    assert isinstance(channel, WebChatInput)
    assert channel.allowed_origins == ["https://clinic.example"]
    assert channel.session_persistence is True


def test_web_chat_origin_check():
    allowed = ["https://clinic.example"]
    assert origin_allowed("https://clinic.example", allowed)
    assert origin_allowed("https://clinic.example/", allowed)
    assert not origin_allowed("https://evil.example", allowed)
    assert not origin_allowed("https://clinic.example.evil.example", allowed)
    assert origin_allowed(None, allowed)  # not a browser
    assert origin_allowed("https://anything.example", "*")


def test_web_chat_session_tokens_open_only_their_own_conversation():
    tokens = SessionTokens(b"s" * 32)
    token = tokens.issue()
    room = tokens.conversation(token)
    assert room is not None and len(room) == 32 and room not in token
    assert tokens.conversation(token) == room  # the same token resumes the same conversation
    assert tokens.conversation(tokens.issue()) != room
    # Anything the server did not issue opens nothing: the caller gives a fresh token.
    for made_up in [
        room,  # someone's conversation (room) id
        f"web:{room}",
        "0123456789abcdef0123456789abcdef",  # an id of the old 32-hex shape
        token[:32] + "0" * 32,  # a nonce with a forged signature
        token.upper(),
        SessionTokens(b"t" * 32).issue(),  # signed with another secret
        "../other",
        "",
        None,
        42,
    ]:
        assert tokens.conversation(made_up) is None, made_up
    # Another process with the same secret (a replica, a restart) resumes it.
    assert SessionTokens(b"s" * 32).conversation(token) == room


def test_web_chat_never_sends_staff_lines():
    from channels.socketio import WebChatOutput

    class FakeServer:
        def __init__(self) -> None:
            self.emitted: list[Any] = []

        async def emit(self, event: str, data: Any, room: str | None = None) -> None:
            self.emitted.append((event, data, room))

    server = FakeServer()
    output = WebChatOutput(server, "bot_uttered")  # type: ignore[arg-type]
    asyncio.run(output.send_response("s1", {"text": "[staff] topic=x | confidence=0.90"}))
    asyncio.run(output.send_response("s1", {"text": "Answer."}))
    assert server.emitted == [("bot_uttered", {"text": "Answer."}, "s1")]


def test_web_chat_sends_a_custom_payload_as_custom_to_the_session_room():
    from channels.socketio import WebChatOutput

    emitted: list[Any] = []

    class FakeServer:
        async def emit(self, event: str, data: Any, room: str | None = None) -> None:
            emitted.append((event, data, room))

    output = WebChatOutput(FakeServer(), "bot_uttered")  # type: ignore[arg-type]
    # The "forget me" reply as Rasa hands it over (conversation web:<session id>).
    asyncio.run(
        output.send_response("web:s1", {"text": "Being deleted.", "custom": {"forget_me": "requested"}})
    )
    assert emitted == [
        ("bot_uttered", {"text": "Being deleted."}, "s1"),
        ("bot_uttered", {"custom": {"forget_me": "requested"}}, "s1"),
    ]


# ---------------------------------------------------------------- Telegram
def telegram_output() -> telegram.TelegramOutput:
    return telegram.TelegramOutput("123:abc", "http://stub/telegram")


class FakeTrackerStore:
    """request.app.ctx.agent.tracker_store for the options lookup."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.asked: list[str] = []

    async def retrieve(self, sender_id: str) -> Any:
        self.asked.append(sender_id)
        return SimpleNamespace(events=self.events)


def request_with_conversation(events: list[Any]) -> Any:
    store = FakeTrackerStore(events)
    return SimpleNamespace(
        app=SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=store)))
    )


def test_telegram_sends_plain_text_without_link_previews(monkeypatch):
    recorder = record(monkeypatch, telegram)
    asyncio.run(telegram_output().send_response("42", {"text": "See [NCCIH](https://nccih.nih.gov/a)."}))
    assert recorder.calls == [
        {
            "method": "POST",
            "url": "http://stub/telegram/bot123:abc/sendMessage",
            "platform": "telegram",
            "json": {
                "chat_id": "42",
                "text": "See NCCIH (https://nccih.nih.gov/a).",
                "link_preview_options": {"is_disabled": True},
            },
        }
    ]


def test_telegram_native_buttons_one_per_row(monkeypatch):
    recorder = record(monkeypatch, telegram)
    long_payload = '/choose_topic{"topic_key": "a_topic_key_long_enough_to_pass_sixty_four_bytes"}'
    buttons = [*BUTTONS[:1], {"title": "Long one", "payload": long_payload}]
    asyncio.run(telegram_output().send_response("42", {"text": DID_YOU_MEAN, "buttons": buttons}))
    assert recorder.calls[0]["json"]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "What dry needling is", "callback_data": BUTTONS[0]["payload"]}],
            [{"text": "Long one", "callback_data": short_code(long_payload)}],
        ]
    }
    assert len(short_code(long_payload).encode()) <= 64
    request = request_with_conversation([BotUttered(DID_YOU_MEAN, {"buttons": buttons})])
    resolve = telegram.TelegramInput._resolve
    assert asyncio.run(resolve(request, "42", short_code(long_payload))) == long_payload
    assert asyncio.run(resolve(request, "42", short_code("/other"))) is None
    assert asyncio.run(resolve(request, "42", "/greet")) == "/greet"
    assert request.app.ctx.agent.tracker_store.asked == ["42", "42"]


def test_telegram_long_answers_are_split_at_4096(monkeypatch):
    recorder = record(monkeypatch, telegram)
    text = "\n\n".join(["A paragraph of about sixty characters for the splitting test."] * 140)
    asyncio.run(telegram_output().send_text_message("42", text))
    parts = [call["json"]["text"] for call in recorder.calls]
    assert len(parts) == 3 and all(len(part) <= 4096 for part in parts)
    assert "\n\n".join(parts) == text


def test_telegram_checks_the_secret_token():
    channel = telegram.TelegramInput("123:abc", "secret_1")
    assert channel.authentic(FakeRequest({"X-Telegram-Bot-Api-Secret-Token": "secret_1"}))
    assert not channel.authentic(FakeRequest({"X-Telegram-Bot-Api-Secret-Token": "secret_2"}))
    assert not channel.authentic(FakeRequest({}))


# ---------------------------------------------------------------- Slack
def test_slack_native_buttons_and_escaped_text(monkeypatch):
    recorder = record(monkeypatch, slack, result={"ok": True})
    output = slack.SlackOutput("xoxb-1", "http://stub/slack", "D01", "1700.1")
    asyncio.run(output.send_response("U1", {"text": "Pick <one>:", "buttons": BUTTONS[:2]}))
    assert recorder.calls == [
        {
            "method": "POST",
            "url": "http://stub/slack/chat.postMessage",
            "platform": "slack",
            "headers": {"Authorization": "Bearer xoxb-1"},
            "json": {
                "channel": "D01",
                "text": "Pick &lt;one&gt;:",
                "unfurl_links": False,
                "unfurl_media": False,
                "thread_ts": "1700.1",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Pick &lt;one&gt;:"}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "What dry needling is"},
                                "value": BUTTONS[0]["payload"],
                                "action_id": "choice_1",
                            },
                            {
                                "type": "button",
                                "text": {
                                    "type": "plain_text",
                                    "text": "How dry needling differs from acupuncture",
                                },
                                "value": BUTTONS[1]["payload"],
                                "action_id": "choice_2",
                            },
                        ],
                    },
                ],
            },
        }
    ]


def test_slack_signature_and_age():
    channel = slack.SlackInput("xoxb-1", "signing-secret")
    body = b'{"type":"event_callback"}'
    now = time.time()
    timestamp = str(int(now))
    signature = (
        "v0=" + hmac.new(b"signing-secret", f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    )
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    assert channel.authentic(FakeRequest(headers, body), now=now)
    assert not channel.authentic(FakeRequest(headers, body + b" "), now=now)
    assert not channel.authentic(FakeRequest(headers, body), now=now + 301)
    assert not channel.authentic(FakeRequest({"X-Slack-Request-Timestamp": "x"}, body), now=now)


def test_slack_user_text_loses_mentions_and_link_markup():
    assert slack.clean_user_text("<@U0BOT> is <https://a.example|a.example> safe &amp; ok") == (
        "is a.example safe & ok"
    )


# ---------------------------------------------------------------- Messenger
def test_messenger_keeps_every_option_three_buttons_at_a_time():
    texts, templates = facebook.button_plan(DID_YOU_MEAN, [Choice(b["title"], b["payload"]) for b in BUTTONS])
    assert texts == []
    assert templates == [
        (
            f"{DID_YOU_MEAN}\n\n1. What dry needling is\n2. How dry needling differs from acupuncture\n"
            "3. Side effects and risks of dry needling\n4. Something else",
            [
                {"type": "postback", "title": "1. What dry needlin…", "payload": BUTTONS[0]["payload"]},
                {"type": "postback", "title": "2. How dry needling…", "payload": BUTTONS[1]["payload"]},
                {"type": "postback", "title": "3. Side effects and…", "payload": BUTTONS[2]["payload"]},
            ],
        ),
        ("More choices:", [{"type": "postback", "title": "4. Something else", "payload": "/something_else"}]),
    ]


def test_messenger_short_titles_stay_as_they_are():
    texts, templates = facebook.button_plan("Pick one", [Choice("Yes", "/yes"), Choice("No", "/no")])
    assert (texts, templates) == (
        [],
        [("Pick one", [{"type": "postback", "title": "Yes", "payload": "/yes"},
                       {"type": "postback", "title": "No", "payload": "/no"}])],
    )  # fmt: skip


def test_messenger_long_text_goes_first_as_text(monkeypatch):
    recorder = record(monkeypatch, facebook)
    output = facebook.MessengerOutput("page-token", "http://stub/graph/v21.0")
    asyncio.run(output.send_response("U9", {"text": "x " * 400, "buttons": [BUTTONS[3]]}))
    messages = [call["json"]["message"] for call in recorder.calls]
    assert messages[0] == {"text": ("x " * 400).strip()}
    assert messages[1]["attachment"]["payload"]["text"] == "Please choose:"
    assert all(call["params"] == {"access_token": "page-token"} for call in recorder.calls)
    assert all(call["url"] == "http://stub/graph/v21.0/me/messages" for call in recorder.calls)


def test_messenger_accepts_only_the_sha256_signature():
    channel = facebook.FacebookInput("verify", "app-secret", "page-token")
    body = b'{"object":"page","entry":[]}'
    sha256 = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    sha1 = "sha1=" + hmac.new(b"app-secret", body, hashlib.sha1).hexdigest()
    assert facebook.hub_signature("app-secret", body) == sha256
    assert channel.authentic(FakeRequest({"X-Hub-Signature-256": sha256}, body))
    assert not channel.authentic(FakeRequest({"X-Hub-Signature-256": sha256}, body + b" "))
    # The older SHA-1 header is refused even when it is right (issue 19)...
    assert not channel.authentic(FakeRequest({"X-Hub-Signature": sha1}, body))
    # ...it does not stand in for a wrong SHA-256 one, nor is a SHA-1 value read from the new header.
    assert not channel.authentic(
        FakeRequest({"X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": sha1}, body)
    )
    assert not channel.authentic(FakeRequest({"X-Hub-Signature-256": sha1}, body))
    assert not channel.authentic(FakeRequest({}, body))


def test_messenger_webhook_with_only_a_valid_sha1_signature_gets_403(monkeypatch):
    recorder = record(monkeypatch, facebook)
    channel = facebook.FacebookInput("verify", "app-secret", "page-token", "http://stub/graph")
    turns = Turns()
    handler = route(channel, turns)
    event = {"sender": {"id": "68"}, "message": {"mid": "m1", "text": "hi"}}
    body = json.dumps({"object": "page", "entry": [{"messaging": [event]}]}).encode()
    sha1 = "sha1=" + hmac.new(b"app-secret", body, hashlib.sha1).hexdigest()
    reply = asyncio.run(
        handler(webhook_request(headers={"X-Hub-Signature": sha1}, body=body, json=json.loads(body)))
    )
    assert reply.status == 403
    assert turns.messages == [] and recorder.calls == []


# ---------------------------------------------------------------- Twilio
def test_twilio_numbered_options_and_understanding_a_number(monkeypatch):
    recorder = record(monkeypatch, twilio)
    channel = twilio.TwilioInput("AC1", "token", "+15550000000", api_url="http://stub/twilio")
    asyncio.run(
        channel.get_output_channel().send_response("+15551112222", {"text": DID_YOU_MEAN, "buttons": BUTTONS})
    )
    assert len(recorder.calls) == 1
    call = recorder.calls[0]
    assert call["url"] == "http://stub/twilio/2010-04-01/Accounts/AC1/Messages.json"
    assert call["auth"].login == "AC1" and call["auth"].password == "token"
    assert call["data"] == {
        "To": "+15551112222",
        "From": "+15550000000",
        "Body": f"{DID_YOU_MEAN}\n\nReply with the number of your choice:\n1. What dry needling is\n"
        "2. How dry needling differs from acupuncture\n3. Side effects and risks of dry needling\n"
        "4. Something else",
    }
    choices = [Choice(b["title"], b["payload"]) for b in BUTTONS]
    understand = twilio.TwilioInput.understand
    assert understand("5", choices) == (
        None,
        "Please reply with a number from 1 to 4, or type your question.",
    )
    assert understand(" 2. ", choices) == (BUTTONS[1]["payload"], None)
    assert understand("what is cupping?", choices) == ("what is cupping?", None)
    # No options offered in the bot's last turn: a number is just text.
    assert understand("2", []) == ("2", None)


def test_twilio_sms_is_split_at_1600_and_whatsapp_keeps_its_prefix(monkeypatch):
    recorder = record(monkeypatch, twilio)
    output = twilio.TwilioInput("AC1", "token", "+15550000000").get_output_channel()
    text = "\n".join(["A line of text for a long answer that needs more than one message."] * 60)
    asyncio.run(output.send_text_message("whatsapp:+15551112222", text))
    bodies = [call["data"]["Body"] for call in recorder.calls]
    assert len(bodies) == 3 and all(len(body) <= 1600 for body in bodies)
    assert {call["data"]["From"] for call in recorder.calls} == {"whatsapp:+15550000000"}


def test_twilio_signature_uses_the_public_url_when_set():
    params = {"From": "+1555", "Body": "hi"}
    public = "https://bot.clinic.example/webhooks/twilio/webhook"
    signature = RequestValidator("token").compute_signature(public, params)
    behind_proxy = FakeRequest(
        {"X-Twilio-Signature": signature}, url="http://10.0.0.5:5005/webhooks/twilio/webhook"
    )
    assert not twilio.TwilioInput("AC1", "token", "+1").authentic(behind_proxy, params)
    assert twilio.TwilioInput("AC1", "token", "+1", webhook_url=public).authentic(behind_proxy, params)
    assert not twilio.TwilioInput("AC1", "token", "+1", webhook_url=public).authentic(
        FakeRequest({}, url=public), params
    )


def test_outputs_drop_staff_lines_and_custom_json(monkeypatch, caplog):
    recorder = record(monkeypatch, twilio)
    output = twilio.TwilioInput("AC1", "token", "+15550000000").get_output_channel()
    asyncio.run(output.send_response("+1555", {"text": "[staff] topic=x | confidence=0.99"}))
    asyncio.run(output.send_response("+1555", {"custom": {"secret": "internals"}}))
    assert recorder.calls == []


# ---------------------------------------------------------------- conversation ids (issue 19)
def test_conversation_ids_are_namespaced_per_connector_and_reversible():
    assert (SMS, TELEGRAM, SLACK, MESSENGER, WEB, REST) == ("sms", "tg", "slack", "fb", "web", "rest")
    assert len(NAMESPACES) == 6
    assert conversation_id(SMS, "+15551230002") == "sms:+15551230002"
    assert conversation_id(SMS, "whatsapp:+15551230002") == "sms:whatsapp:+15551230002"
    # Always prefixed, whatever the id looks like: a REST client cannot spell another namespace.
    assert conversation_id(REST, "sms:+15551230002") == "rest:sms:+15551230002"
    assert conversation_id(REST, "rest:x") == "rest:rest:x"
    for namespace in NAMESPACES:
        for raw in ("42", "U0ANN", "whatsapp:+1555", "0123456789abcdef0123456789abcdef", "rest:x"):
            assert platform_id(namespace, conversation_id(namespace, raw)) == raw
    assert platform_id(TELEGRAM, "42") == "42"  # a conversation from before namespacing
    with pytest.raises(ValueError):
        conversation_id("whatsapp", "+1555")


@dataclass
class Turns:
    """Stands in for Rasa's on_new_message: records each UserMessage and answers it as
    Rasa does, with output_channel.send_response(<the conversation id>, ...)."""

    reply: dict[str, Any] = field(default_factory=lambda: {"text": "Answer."})
    messages: list[Any] = field(default_factory=list)

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, dict(self.reply))

    @property
    def senders(self) -> list[str]:
        return [message.sender_id for message in self.messages]


def route(channel: Any, on_new_message: Any, uri: str = "/webhook", method: str = "POST") -> Any:
    """A connector's webhook handler, called without a server."""
    blueprint = channel.blueprint(on_new_message)
    return next(r.handler for r in blueprint._future_routes if r.uri == uri and method in r.methods)


def webhook_request(
    events: list[Any] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    json: Any = None,
    form: dict[str, Any] | None = None,
    url: str = "",
) -> Any:
    """A Sanic request as the handlers read it, over a conversation holding ``events``."""
    request = request_with_conversation(events or [])
    request.headers = headers or {}
    request.body = body
    request.json = json
    request.form = form or {}
    request.url = url
    return request


def test_twilio_conversation_is_sms_namespaced_and_the_api_gets_the_number(monkeypatch):
    recorder = record(monkeypatch, twilio)
    public = "https://bot.clinic.example/webhooks/twilio/webhook"
    channel = twilio.TwilioInput("AC1", "token", "+15550000000", webhook_url=public, api_url="http://stub")
    turns = Turns(reply={"text": DID_YOU_MEAN, "buttons": BUTTONS})
    handler = route(channel, turns)

    def post(sender: str, text: str, events: list[Any] | None = None) -> Any:
        params = {"From": sender, "Body": text, "NumMedia": "0"}
        signature = RequestValidator("token").compute_signature(public, params)
        request = webhook_request(
            events, {"X-Twilio-Signature": signature}, form={k: [v] for k, v in params.items()}, url=public
        )
        asyncio.run(handler(request))
        return request

    post("+15551230002", "what is dry needling?")
    post("whatsapp:+15551230003", "hello")
    assert turns.senders == ["sms:+15551230002", "sms:whatsapp:+15551230003"]
    assert [call["data"]["To"] for call in recorder.calls] == ["+15551230002", "whatsapp:+15551230003"]
    assert recorder.calls[1]["data"]["From"] == "whatsapp:+15550000000"

    # "2" is read against the options stored in the SMS conversation, under its namespaced id.
    request = post("+15551230002", "2", [BotUttered(DID_YOU_MEAN, {"buttons": BUTTONS})])
    assert request.app.ctx.agent.tracker_store.asked == ["sms:+15551230002"]
    assert turns.messages[-1].text == BUTTONS[1]["payload"]
    assert turns.messages[-1].sender_id == "sms:+15551230002"


def test_telegram_conversation_is_tg_namespaced_and_the_api_gets_the_chat_id(monkeypatch):
    recorder = record(monkeypatch, telegram, result={"ok": True})
    channel = telegram.TelegramInput("123:abc", "secret_1", api_url="http://stub/telegram")
    turns = Turns()
    handler = route(channel, turns)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "secret_1"}
    message = {"message_id": 1, "chat": {"id": 42, "type": "private"}, "text": "hello"}
    asyncio.run(handler(webhook_request(headers=headers, json={"update_id": 1, "message": message})))
    assert turns.senders == ["tg:42"]
    assert [call["json"]["chat_id"] for call in recorder.calls] == ["42"]

    long_payload = '/choose_topic{"topic_key": "a_topic_key_long_enough_to_pass_sixty_four_bytes"}'
    stored = [BotUttered(DID_YOU_MEAN, {"buttons": [{"title": "Long one", "payload": long_payload}]})]
    query = {"id": "q1", "data": short_code(long_payload), "message": {"chat": {"id": 42}}}
    request = webhook_request(stored, headers, json={"update_id": 2, "callback_query": query})
    asyncio.run(handler(request))
    assert request.app.ctx.agent.tracker_store.asked == ["tg:42"]
    assert turns.messages[-1].text == long_payload and turns.senders[-1] == "tg:42"
    sends = [call["json"] for call in recorder.calls if call["url"].endswith("/sendMessage")]
    assert {send["chat_id"] for send in sends} == {"42"}


def test_slack_conversation_is_slack_namespaced_and_posts_go_to_the_channel(monkeypatch):
    recorder = record(monkeypatch, slack, result={"ok": True})
    channel = slack.SlackInput("xoxb-1", "signing-secret", api_url="http://stub/slack")
    turns = Turns()
    handler = route(channel, turns)

    def signed(body: bytes, content_type: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "content-type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack.slack_signature("signing-secret", timestamp, body),
        }

    async def deliver(request: Any) -> None:
        await handler(request)
        await asyncio.gather(*channel._tasks)

    event = {
        "type": "event_callback",
        "event": {"type": "message", "channel_type": "im", "user": "U0ANN", "channel": "D01", "text": "hi"},
    }
    body = json.dumps(event).encode()
    asyncio.run(deliver(webhook_request(headers=signed(body, "application/json"), body=body, json=event)))
    assert turns.senders == ["slack:U0ANN"]

    # A payload that looks like a short code travels as a short code too: found again in
    # the conversation's stored buttons, read under the namespaced id.
    coded = short_code("/choose_topic")
    stored = [BotUttered(DID_YOU_MEAN, {"buttons": [{"title": "Coded", "payload": coded}]})]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ANN"},
        "channel": {"id": "D01"},
        "message": {"ts": "1700.1"},
        "actions": [{"type": "button", "value": slack.SlackOutput._value(Choice("Coded", coded))}],
    }
    form = {"payload": json.dumps(payload)}
    body = urllib.parse.urlencode(form).encode()
    # Sanic's request.form.get gives the first value, as this dict does.
    request = webhook_request(stored, signed(body, "application/x-www-form-urlencoded"), body=body, form=form)
    asyncio.run(deliver(request))
    assert request.app.ctx.agent.tracker_store.asked == ["slack:U0ANN"]
    assert turns.senders == ["slack:U0ANN", "slack:U0ANN"] and turns.messages[-1].text == coded
    assert [call["json"]["channel"] for call in recorder.calls] == ["D01", "D01"]
    assert not any("slack:" in str(call["json"]) for call in recorder.calls)


def test_messenger_conversation_is_fb_namespaced_and_the_send_api_gets_the_psid(monkeypatch):
    recorder = record(monkeypatch, facebook)
    channel = facebook.FacebookInput("verify", "app-secret", "page-token", "http://stub/graph")
    turns = Turns()
    handler = route(channel, turns)
    body = (
        b'{"object":"page","entry":[{"messaging":['
        b'{"sender":{"id":"6801234567890"},"message":{"mid":"m1","text":"hello"}},'
        b'{"sender":{"id":"6801234567891"},"message":{"mid":"m2","attachments":[{"type":"image"}]}}]}]}'
    )
    headers = {"X-Hub-Signature-256": facebook.hub_signature("app-secret", body)}
    asyncio.run(handler(webhook_request(headers=headers, body=body, json=json.loads(body))))
    assert turns.senders == ["fb:6801234567890"]
    assert [call["json"]["recipient"] for call in recorder.calls] == [
        {"id": "6801234567890"},
        {"id": "6801234567891"},  # "I can only read text", outside any turn
    ]


def web_chat_handlers(
    channel: WebChatInput, turns: Turns
) -> tuple[dict[str, Any], list[tuple[str, str]], list[tuple[str, Any, str | None]]]:
    """The channel's socket.io handlers, with enter_room and emit recorded."""
    channel.blueprint(turns)
    assert channel.sio is not None
    handlers = channel.sio.handlers[channel.namespace or "/"]
    rooms: list[tuple[str, str]] = []
    emitted: list[tuple[str, Any, str | None]] = []

    async def emit(event: str, data: Any = None, room: str | None = None, **kwargs: Any) -> None:
        emitted.append((event, data, room))

    channel.sio.enter_room = lambda sid, room, namespace=None: rooms.append((sid, room))  # type: ignore[method-assign]
    channel.sio.emit = emit  # type: ignore[method-assign]
    return handlers, rooms, emitted


def test_web_chat_conversation_is_derived_from_the_servers_token_and_web_namespaced():
    channel = WebChatInput(
        user_message_evt="user_uttered", bot_message_evt="bot_uttered", session_persistence=True
    )
    turns = Turns()
    handlers, rooms, emitted = web_chat_handlers(channel, turns)
    known = "0123456789abcdef0123456789abcdef"

    async def scenario() -> None:
        await handlers["session_request"]("sid-1", {"session_id": None})
        token = emitted[0][1]
        await handlers["session_request"]("sid-2", {"session_id": token})  # a reload: the same token
        await handlers["session_request"]("sid-3", {"session_id": known})  # not issued: a new one
        await handlers["user_uttered"]("sid-1", {"message": "hello", "session_id": token})
        await handlers["user_uttered"]("sid-1", {"message": "hi", "session_id": known})
        await handlers["user_uttered"]("sid-1", {"message": "hi", "session_id": f"web:{known}"})

    asyncio.run(scenario())
    token = emitted[0][1]
    room = channel.sessions.conversation(token)
    assert room is not None
    assert emitted[0] == ("session_confirm", token, "sid-1")
    assert emitted[1] == ("session_confirm", token, "sid-2")
    fresh = emitted[2][1]
    assert emitted[2][0] == "session_confirm" and fresh not in (token, known)
    assert rooms == [
        ("sid-1", room),
        ("sid-2", room),
        ("sid-3", channel.sessions.conversation(fresh)),
        ("sid-1", room),
    ]
    assert turns.senders == [f"web:{room}"]  # ids the server did not issue reach no conversation
    assert emitted[3:] == [("bot_uttered", {"text": "Answer."}, room)]

    # Without session persistence the conversation is the socket's own id.
    channel.session_persistence = False
    asyncio.run(handlers["user_uttered"]("sid-9", {"message": "hello"}))
    assert turns.senders[-1] == "web:sid-9"
    assert emitted[-1] == ("bot_uttered", {"text": "Answer."}, "sid-9")


# ---------------------------------------------------------------- platform retries (issue 19)
@dataclass
class SlowTurns(Turns):
    """Turns whose first one waits until ``release`` is set: the platform's retry
    arrives while the first delivery is still being answered."""

    release: asyncio.Event | None = None

    async def __call__(self, message: Any) -> None:
        first = not self.messages
        self.messages.append(message)
        if first and self.release is not None:
            await self.release.wait()
        await message.output_channel.send_response(message.sender_id, dict(self.reply))


def test_a_telegram_update_retried_during_a_slow_turn_is_answered_once(monkeypatch):
    recorder = record(monkeypatch, telegram, result={"ok": True})
    channel = telegram.TelegramInput("123:abc", "secret_1", api_url="http://stub/telegram")
    turns = SlowTurns()
    handler = route(channel, turns)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "secret_1"}
    update = {"update_id": 7, "message": {"message_id": 1, "chat": {"id": 42}, "text": "hello"}}

    async def scenario() -> list[Any]:
        turns.release = asyncio.Event()
        first = asyncio.create_task(handler(webhook_request(headers=headers, json=update)))
        await asyncio.sleep(0.01)
        assert not first.done()  # the turn is slow: Telegram times out and sends the update again
        retry = await handler(webhook_request(headers=headers, json=dict(update)))
        turns.release.set()
        return [await first, retry]

    replies = asyncio.run(scenario())
    assert [reply.status for reply in replies] == [200, 200]
    assert turns.senders == ["tg:42"]
    assert len([call for call in recorder.calls if call["url"].endswith("/sendMessage")]) == 1

    # A button press delivered twice: one answerCallbackQuery, one turn.
    query = {"update_id": 8, "callback_query": {"id": "q1", "data": "/yes", "message": {"chat": {"id": 42}}}}
    for _ in range(2):
        assert asyncio.run(handler(webhook_request(headers=headers, json=query))).status == 200
    assert [message.text for message in turns.messages] == ["hello", "/yes"]
    assert len([call for call in recorder.calls if call["url"].endswith("/answerCallbackQuery")]) == 1

    # The next update (a new id, the same words) is a new turn.
    again = {"update_id": 9, "message": {"message_id": 2, "chat": {"id": 42}, "text": "hello"}}
    asyncio.run(handler(webhook_request(headers=headers, json=again)))
    assert [message.text for message in turns.messages] == ["hello", "/yes", "hello"]


def test_a_slack_event_delivered_twice_is_answered_once(monkeypatch):
    recorder = record(monkeypatch, slack, result={"ok": True})
    channel = slack.SlackInput("xoxb-1", "signing-secret", api_url="http://stub/slack")
    turns = Turns()
    handler = route(channel, turns)

    def deliver(event_id: str) -> Any:
        body = json.dumps(
            {
                "type": "event_callback",
                "event_id": event_id,
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "user": "U0ANN",
                    "channel": "D01",
                    "text": "hi",
                },
            }
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack.slack_signature("signing-secret", timestamp, body),
        }

        async def run() -> Any:
            reply = await handler(webhook_request(headers=headers, body=body, json=json.loads(body)))
            await asyncio.gather(*channel._tasks)
            return reply

        return asyncio.run(run())

    first, again = deliver("Ev01"), deliver("Ev01")
    assert (first.status, again.status) == (200, 200)
    assert again.headers.get("X-Slack-No-Retry") == "1"
    assert turns.senders == ["slack:U0ANN"] and len(recorder.calls) == 1
    deliver("Ev02")
    assert turns.senders == ["slack:U0ANN", "slack:U0ANN"]


def test_a_messenger_batch_delivered_again_is_answered_once(monkeypatch):
    recorder = record(monkeypatch, facebook)
    channel = facebook.FacebookInput("verify", "app-secret", "page-token", "http://stub/graph")
    turns = Turns()
    handler = route(channel, turns)

    def deliver(events: list[dict[str, Any]]) -> Any:
        body = json.dumps({"object": "page", "entry": [{"messaging": events}]}).encode()
        headers = {"X-Hub-Signature-256": facebook.hub_signature("app-secret", body)}
        return asyncio.run(handler(webhook_request(headers=headers, body=body, json=json.loads(body))))

    text = {"sender": {"id": "68"}, "message": {"mid": "m1", "text": "hello"}}
    picture = {"sender": {"id": "69"}, "message": {"mid": "m2", "attachments": [{"type": "image"}]}}
    button = {"sender": {"id": "68"}, "postback": {"mid": "m3", "payload": "/yes"}}
    assert deliver([text, picture]).status == 200
    # Messenger resends the batch, with an event that is new this time.
    assert deliver([text, picture, button]).status == 200
    assert deliver([button]).status == 200
    assert [(message.sender_id, message.text) for message in turns.messages] == [
        ("fb:68", "hello"),
        ("fb:68", "/yes"),
    ]
    sent = [(call["json"]["recipient"]["id"], call["json"]["message"]["text"]) for call in recorder.calls]
    assert sent == [("68", "Answer."), ("69", facebook.ONLY_TEXT), ("68", "Answer.")]


# ---------------------------------------------------------------- short-first answers (issue 20)
SHORT_FIRST = ShortFirstAnswer(
    key="dry_needling_what_is",
    short="Dry needling puts thin needles into tight muscle.",
    detail="It is done by physical therapists.\n- A first point.\n- A second point.",
    sources=(CitedSource("A review", "https://example.org/review", "published 2021"),),
    sources_text="Source:\n- A review: https://example.org/review\nLast reviewed 1 November 2026.",
    note="Last reviewed 1 November 2026.",
)


def bot_messages(answer: ShortFirstAnswer = SHORT_FIRST) -> list[dict[str, Any]]:
    """The two messages as Rasa hands them to an output channel."""
    return [{"text": m["text"], "custom": m["json_message"]} for m in answer.messages()]


def sent_texts(recorder: Recorder) -> list[str]:
    return [call["json"]["text"] if call.get("json") else call["data"]["Body"] for call in recorder.calls]


def test_sms_sends_the_short_answer_with_reply_more_and_holds_the_detail(monkeypatch):
    recorder = record(monkeypatch, twilio)
    output = twilio.TwilioOutput("AC1", "token", "+15550001", "http://stub/twilio")
    for message in bot_messages():
        asyncio.run(output.send_response("sms:+15551230001", message))
    assert sent_texts(recorder) == [
        "Dry needling puts thin needles into tight muscle.\n\nReply MORE for details and sources."
    ]


def test_telegram_sends_the_short_answer_with_reply_more(monkeypatch):
    recorder = record(monkeypatch, telegram)
    for message in bot_messages():
        asyncio.run(telegram_output().send_response("tg:42", message))
    assert sent_texts(recorder) == [
        "Dry needling puts thin needles into tight muscle.\n\nReply MORE for details and sources."
    ]


def test_messenger_sends_the_short_answer_with_reply_more(monkeypatch):
    recorder = record(monkeypatch, facebook)
    output = facebook.MessengerOutput("page-token", "http://stub/graph")
    for message in bot_messages():
        asyncio.run(output.send_response("fb:7", message))
    assert [call["json"]["message"]["text"] for call in recorder.calls] == [
        "Dry needling puts thin needles into tight muscle.\n\nReply MORE for details and sources."
    ]


def test_slack_shows_the_short_answer_as_blocks_with_source_links_and_a_more_button(monkeypatch):
    recorder = record(monkeypatch, slack, result={"ok": True})
    output = slack.SlackOutput("xoxb-1", "http://stub/slack", "D1")
    for message in bot_messages():
        asyncio.run(output.send_response("slack:U1", message))
    assert len(recorder.calls) == 1
    payload = recorder.calls[0]["json"]
    assert payload["text"] == "Dry needling puts thin needles into tight muscle."
    assert payload["blocks"] == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Dry needling puts thin needles into tight muscle."},
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "<https://example.org/review|A review (published 2021)>"}
            ],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "More details"},
                    "value": "MORE",
                    "action_id": "answer_more",
                }
            ],
        },
    ]


def test_web_chat_sends_one_bubble_with_the_structured_answer():
    from channels.socketio import WebChatOutput

    class FakeServer:
        def __init__(self) -> None:
            self.emitted: list[Any] = []

        async def emit(self, event: str, data: Any, room: str | None = None) -> None:
            self.emitted.append((event, data, room))

    server = FakeServer()
    output = WebChatOutput(server, "bot_uttered")  # type: ignore[arg-type]
    for message in bot_messages():
        asyncio.run(output.send_response("web:s1", message))
    assert server.emitted == [
        ("bot_uttered", {"text": SHORT_FIRST.short, "answer": SHORT_FIRST.payload()}, "s1")
    ]
    assert SHORT_FIRST.payload()["detail"] == [
        {"type": "paragraph", "text": "It is done by physical therapists."},
        {"type": "list", "items": ["A first point.", "A second point."]},
    ]


@pytest.mark.parametrize(
    ("text", "more"),
    [
        ("MORE", True),
        ("more", True),
        ("More please", True),
        (" more please! ", True),
        ("please more", True),
        ("more details", True),
        ("more about dry needling", False),
        ("tell me more about cupping", False),
        ("2", False),
    ],
)
def test_more_requests(text, more):
    assert is_more_request(text) is more


def stored_answer_events() -> list[Any]:
    first, detail = bot_messages()
    return [
        BotUttered(first["text"], {"custom": first["custom"]}),
        BotUttered(detail["text"], {"custom": detail["custom"]}),
        BotUttered("I give general information from published sources, not medical advice."),
    ]


@pytest.mark.parametrize("typed", ["MORE", "more please"])
def test_sms_more_sends_the_last_answers_detail_and_sources_without_a_turn(monkeypatch, typed):
    recorder = record(monkeypatch, twilio)
    output = twilio.TwilioOutput("AC1", "token", "+15550001", "http://stub/twilio")
    turns: list[Any] = []

    async def on_new_message(message: Any) -> None:
        turns.append(message)

    request = request_with_conversation(stored_answer_events())
    user = UserMessage(typed, output, "sms:+15551230001", input_channel="twilio")
    asyncio.run(handle_safely(on_new_message, user, request))
    assert turns == []
    assert sent_texts(recorder) == [SHORT_FIRST.fallback_text()]
    assert (
        "A second point." in sent_texts(recorder)[0]
        and "https://example.org/review" in sent_texts(recorder)[0]
    )


def test_more_without_an_earlier_answer_goes_to_rasa(monkeypatch):
    record(monkeypatch, telegram)
    turns: list[Any] = []

    async def on_new_message(message: Any) -> None:
        turns.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "reply")

    request = request_with_conversation([BotUttered("Hello!")])
    user = UserMessage("more", telegram_output(), "tg:42", input_channel="telegram")
    asyncio.run(handle_safely(on_new_message, user, request))
    assert turns == ["more"]
