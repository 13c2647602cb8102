"""Messaging connectors end to end: realistic, signed inbound webhooks posted to
a running Rasa server; the outbound API calls land on a local stub server
(the connectors' API base URLs point at it), so nothing reaches the internet.

The action server runs with ANSWER_MIN_CONFIDENCE=0.999, so every FAQ question
gets "Did you mean" options: each channel's way of showing options is checked,
then choosing one gives the sourced answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from actions.safety.texts import FORGET_ME_PENDING_TEXT
from channels.rendering import MORE_HINT
from tests.e2e.channel_servers import start_channel_servers

pytestmark = pytest.mark.e2e

TELEGRAM_TOKEN = "123456:TEST-TOKEN"
TELEGRAM_SECRET = "test-telegram-secret"
SLACK_TOKEN = "xoxb-test-token"
SLACK_SECRET = "test-slack-signing-secret"
FB_VERIFY = "test-verify-token"
FB_SECRET = "test-app-secret"
FB_PAGE_TOKEN = "test-page-token"
TWILIO_SID = "AC00000000000000000000000000000000"
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+15550000000"
ALLOWED_ORIGIN = "http://allowed.example"

CREDENTIALS = """\
channels.rest.GuardedRestInput:
channels.socketio.WebChatInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
channels.telegram.TelegramInput:
channels.slack.SlackInput:
channels.facebook.FacebookInput:
channels.twilio.TwilioInput:
"""

DRY_NEEDLING_TITLE = "What dry needling is"
DRY_NEEDLING_PAYLOAD = '/choose_topic{"topic_key": "dry_needling_what_is"}'
ANSWER_START = "Dry needling is a technique"
# A source of the dry-needling answer: sent with its detail, on request (issue 20).
SOURCE = "https://pubmed.ncbi.nlm.nih.gov/33609358/"


# ---------------------------------------------------------------- platform stub
@dataclass
class Call:
    """One outbound API call the bot made."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in urllib.parse.parse_qs(self.body.decode()).items()}


@dataclass
class PlatformStub:
    """A local stand-in for the Telegram, Slack, Graph and Twilio APIs."""

    url: str
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def take(self, prefix: str) -> list[Call]:
        with self.lock:
            taken = [call for call in self.calls if call.path.startswith(prefix)]
            self.calls = [call for call in self.calls if not call.path.startswith(prefix)]
        return taken

    def wait(self, prefix: str, until: Callable[[list[Call]], bool], timeout: float = 30) -> list[Call]:
        """Calls under ``prefix`` once ``until(calls)`` holds (they are consumed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                calls = [call for call in self.calls if call.path.startswith(prefix)]
            if calls and until(calls):
                time.sleep(0.3)  # let the rest of the turn arrive
                return self.take(prefix)
            time.sleep(0.1)
        raise AssertionError(f"no matching calls to {prefix} in {timeout} s: {self.take(prefix)}")


def start_stub() -> tuple[PlatformStub, ThreadingHTTPServer]:
    stub = PlatformStub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parsed = urllib.parse.urlparse(self.path)
            stub.record(
                Call(
                    parsed.path,
                    urllib.parse.parse_qs(parsed.query),
                    dict(self.headers),
                    self.rfile.read(length),
                )
            )
            if parsed.path.startswith("/telegram/"):
                status, body = 200, {"ok": True, "result": {"message_id": 1}}
            elif parsed.path.startswith("/slack/"):
                status, body = 200, {"ok": True, "ts": "1700000000.000100"}
            elif parsed.path.startswith("/graph/"):
                status, body = 200, {"recipient_id": "1", "message_id": "m_1"}
            else:
                status, body = 201, {"sid": "SM00000000000000000000000000000000", "status": "queued"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stub, server


# ---------------------------------------------------------------- the bot under test
@dataclass
class ChannelBot:
    rasa_url: str
    stub: PlatformStub
    rasa_log: Path
    tracker_db: Path

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{self.rasa_url}{path}", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.rasa_url}{path}", timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@pytest.fixture(scope="module")
def channel_bot(tmp_path_factory) -> Iterator[ChannelBot]:
    stub, stub_server = start_stub()
    env = {
        "ANSWER_MIN_CONFIDENCE": "0.999",
        # The inspector is on here to prove that no public channel shows it.
        "STAFF_INSPECTOR": "on",
        "WEBCHAT_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "TELEGRAM_ACCESS_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": f"{stub.url}/telegram",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": f"{stub.url}/slack/api",
        "FACEBOOK_VERIFY_TOKEN": FB_VERIFY,
        "FACEBOOK_APP_SECRET": FB_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": FB_PAGE_TOKEN,
        "FACEBOOK_GRAPH_URL": f"{stub.url}/graph/v21.0",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_URL": f"{stub.url}/twilio",
    }
    try:
        servers = start_channel_servers(tmp_path_factory.mktemp("channels"), env, CREDENTIALS)
        try:
            yield ChannelBot(servers.rasa_url, stub, servers.rasa.log, servers.tracker_db)
        finally:
            servers.stop()
    finally:
        stub_server.shutdown()
        stub_server.server_close()


def no_staff_lines(texts: list[str]) -> bool:
    return not any("[staff]" in text for text in texts)


# ---------------------------------------------------------------- Telegram
# Every delivery gets its own id, as on the platforms: the connectors answer an id
# they have seen in the last 10 minutes only once (a retry).
DELIVERY_IDS = itertools.count(1000)


def telegram_message(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    update_id = next(DELIVERY_IDS) if update_id is None else update_id
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id + 100,
            "from": user,
            "chat": {"id": chat_id, "first_name": "Ann", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def telegram_post(bot: ChannelBot, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status, _ = bot.post("/webhooks/telegram/webhook", json.dumps(update).encode(), headers)
    return status


def sent_texts(calls: list[Call]) -> list[str]:
    return [call.json()["text"] for call in calls if call.path.endswith("/sendMessage")]


def test_telegram_refuses_updates_without_the_secret_token(channel_bot):
    assert telegram_post(channel_bot, telegram_message(9001, "hello"), secret=None) == 403
    assert telegram_post(channel_bot, telegram_message(9001, "hello"), secret="wrong") == 403
    assert telegram_post(channel_bot, telegram_message(9001, "hi there")) == 200
    only_this_message_reached_rasa(channel_bot, "tg:9001", "hi there")
    texts = sent_texts(channel_bot.stub.take("/telegram/"))
    assert texts and len(texts) == len(set(texts))  # one greeting turn, not three


def test_telegram_start_greets(channel_bot):
    assert telegram_post(channel_bot, telegram_message(9002, "/start")) == 200
    calls = channel_bot.stub.wait("/telegram/", lambda calls: len(sent_texts(calls)) >= 1)
    assert calls[0].path == f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage"
    assert calls[0].json()["chat_id"] == "9002"
    assert sent_texts(calls)[0].startswith("Hello! I answer questions about acupuncture")


def test_telegram_answers_an_update_it_gets_twice_once(channel_bot):
    """Telegram sends an update again when the webhook's answer is late (issue 19)."""
    update = telegram_message(9004, "/start")
    assert telegram_post(channel_bot, update) == 200
    assert telegram_post(channel_bot, update) == 200
    channel_bot.stub.wait("/telegram/", lambda calls: len(sent_texts(calls)) >= 1)
    time.sleep(2)
    assert sent_texts(channel_bot.stub.take("/telegram/")) == []  # no second greeting
    stored = stored_user_texts(channel_bot, "tg:9004")
    assert stored == ["/greet"], stored


def test_telegram_native_buttons_then_the_sourced_answer(channel_bot):
    assert telegram_post(channel_bot, telegram_message(9003, "what is dry needling?", 3)) == 200
    calls = channel_bot.stub.wait("/telegram/", lambda calls: any("reply_markup" in c.json() for c in calls))
    choice_message = next(call.json() for call in calls if "reply_markup" in call.json())
    assert choice_message["text"] == "I want to be sure I answer the right question. Did you mean:"
    keyboard = choice_message["reply_markup"]["inline_keyboard"]
    assert all(len(row) == 1 for row in keyboard)
    buttons = {row[0]["text"]: row[0]["callback_data"] for row in keyboard}
    assert buttons[DRY_NEEDLING_TITLE] == DRY_NEEDLING_PAYLOAD
    assert buttons["Something else"] == "/something_else"

    callback = {
        "update_id": 4,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": 9003, "is_bot": False, "first_name": "Ann"},
            "message": {
                "message_id": 7,
                "chat": {"id": 9003, "type": "private"},
                "date": int(time.time()),
                "text": choice_message["text"],
            },
            "chat_instance": "-1",
            "data": buttons[DRY_NEEDLING_TITLE],
        },
    }
    assert telegram_post(channel_bot, callback) == 200
    calls = channel_bot.stub.wait(
        "/telegram/", lambda calls: any(text.startswith(ANSWER_START) for text in sent_texts(calls))
    )
    assert calls[0].path.endswith("/answerCallbackQuery")
    assert calls[0].json() == {"callback_query_id": "4382bfdwdsb323b2d9"}
    texts = sent_texts(calls)
    answer = next(text for text in texts if text.startswith(ANSWER_START))
    # Short answer first; the detail and the sources on request (issue 20).
    assert answer.endswith(MORE_HINT) and "https://" not in answer

    assert telegram_post(channel_bot, telegram_message(9003, "MORE", 5)) == 200
    calls = channel_bot.stub.wait(
        "/telegram/", lambda calls: any(SOURCE in text for text in sent_texts(calls))
    )
    detail = next(text for text in sent_texts(calls) if SOURCE in text)
    assert re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", detail)
    assert all(len(text) <= 4096 for text in [*texts, *sent_texts(calls)])
    assert no_staff_lines([*texts, *sent_texts(calls)])


# ---------------------------------------------------------------- Slack
def slack_headers(body: bytes, content_type: str, secret: str = SLACK_SECRET) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def slack_event(user: str, text: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": {
                "client_msg_id": "5e0a1c5e-1111-2222-3333-444455556666",
                "type": "message",
                "text": text,
                "user": user,
                "ts": "1700000000.000200",
                "team": "T0001",
                "channel": "D0001",
                "event_ts": "1700000000.000200",
                "channel_type": "im",
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
    ).encode()


def slack_posts(calls: list[Call]) -> list[dict[str, Any]]:
    return [call.json() for call in calls if call.path == "/slack/api/chat.postMessage"]


def test_slack_url_verification_and_signature_check(channel_bot):
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    status, reply = channel_bot.post("/webhooks/slack/webhook", body, slack_headers(body, "application/json"))
    assert status == 200
    assert json.loads(reply) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}

    event = slack_event("U0BAD", "what is dry needling?", "Ev0BAD")
    bad = slack_headers(event, "application/json", secret="not-the-secret")
    assert channel_bot.post("/webhooks/slack/webhook", event, bad)[0] == 401
    old = slack_headers(event, "application/json")
    old["X-Slack-Request-Timestamp"] = str(int(time.time()) - 600)
    assert channel_bot.post("/webhooks/slack/webhook", event, old)[0] == 401
    valid = slack_event("U0BAD", "hi there", "Ev0GOOD")
    assert (
        channel_bot.post("/webhooks/slack/webhook", valid, slack_headers(valid, "application/json"))[0] == 200
    )
    only_this_message_reached_rasa(channel_bot, "slack:U0BAD", "hi there")
    texts = [post["text"] for post in slack_posts(channel_bot.stub.take("/slack/"))]
    assert texts and len(texts) == len(set(texts))


def test_slack_native_buttons_then_the_sourced_answer(channel_bot):
    event = slack_event("U0ANN", "what is dry needling?", "Ev01")
    assert (
        channel_bot.post("/webhooks/slack/webhook", event, slack_headers(event, "application/json"))[0] == 200
    )
    calls = channel_bot.stub.wait(
        "/slack/", lambda calls: any("blocks" in post for post in slack_posts(calls))
    )
    assert all(call.headers.get("Authorization") == f"Bearer {SLACK_TOKEN}" for call in calls)
    post = next(post for post in slack_posts(calls) if "blocks" in post)
    assert post["channel"] == "D0001"
    section, actions = post["blocks"]
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": post["text"]}}
    assert post["text"] == "I want to be sure I answer the right question. Did you mean:"
    buttons = {element["text"]["text"]: element["value"] for element in actions["elements"]}
    assert actions["type"] == "actions"
    assert buttons[DRY_NEEDLING_TITLE] == DRY_NEEDLING_PAYLOAD

    # Slack retries a delivery it thinks failed: never answered twice.
    retry = slack_headers(event, "application/json")
    retry["X-Slack-Retry-Num"] = "1"
    retry["X-Slack-Retry-Reason"] = "http_timeout"
    assert channel_bot.post("/webhooks/slack/webhook", event, retry)[0] == 200

    payload = {
        "type": "block_actions",
        "user": {"id": "U0ANN", "username": "ann", "team_id": "T0001"},
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": "1700000000.000300", "channel_id": "D0001"},
        "trigger_id": "1.2.3",
        "team": {"id": "T0001", "domain": "clinic"},
        "channel": {"id": "D0001", "name": "directmessage"},
        "message": {"type": "message", "ts": "1700000000.000300", "text": post["text"]},
        "response_url": "https://hooks.slack.invalid/actions/T0001/1/x",
        "actions": [
            {
                "type": "button",
                "action_id": "choice_1",
                "block_id": "b1",
                "value": buttons[DRY_NEEDLING_TITLE],
                "text": {"type": "plain_text", "text": DRY_NEEDLING_TITLE},
                "action_ts": "1700000001.0",
            }
        ],
    }
    form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = slack_headers(form, "application/x-www-form-urlencoded")
    assert channel_bot.post("/webhooks/slack/webhook", form, headers)[0] == 200
    calls = channel_bot.stub.wait(
        "/slack/", lambda calls: any(p["text"].startswith(ANSWER_START) for p in slack_posts(calls))
    )
    texts = [post["text"] for post in slack_posts(calls)]
    answer = next(post for post in slack_posts(calls) if post["text"].startswith(ANSWER_START))
    # Native blocks: the short answer, the sources as links, a "More details" button (issue 20).
    block_types = [block["type"] for block in answer["blocks"]]
    assert block_types == ["section", "context", "actions"]
    assert SOURCE in json.dumps(answer["blocks"][1])
    assert answer["blocks"][2]["elements"][0]["text"]["text"] == "More details"
    assert all(len(text) <= 3000 for text in texts)
    assert no_staff_lines(texts)
    # Only one "Did you mean" was ever posted: the retry was not answered.
    assert not any(text.startswith("I want to be sure") for text in texts)


# ---------------------------------------------------------------- Facebook Messenger
def messenger_body(sender: str, message: dict[str, Any] | None = None, postback: dict | None = None) -> bytes:
    event: dict[str, Any] = {
        "sender": {"id": sender},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": int(time.time() * 1000),
    }
    if message is not None:
        event["message"] = {"mid": f"m_{next(DELIVERY_IDS)}", **message}
    if postback is not None:
        event["postback"] = {"mid": f"m_{next(DELIVERY_IDS)}", **postback}
    return json.dumps(
        {
            "object": "page",
            "entry": [{"id": "PAGE_ID", "time": int(time.time() * 1000), "messaging": [event]}],
        }
    ).encode()


def messenger_headers(body: bytes, algorithm: str = "sha256", secret: str = FB_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    header = "X-Hub-Signature" if algorithm == "sha1" else "X-Hub-Signature-256"
    return {"Content-Type": "application/json", header: f"{algorithm}={digest}"}


def messenger_sends(calls: list[Call]) -> list[dict[str, Any]]:
    return [call.json() for call in calls if call.path == "/graph/v21.0/me/messages"]


def test_messenger_webhook_verification_and_signature(channel_bot):
    query = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY, "hub.challenge": "1158201444"}
    )
    assert channel_bot.get(f"/webhooks/facebook/webhook?{query}") == (200, b"1158201444")
    wrong = query.replace(FB_VERIFY, "wrong")
    assert channel_bot.get(f"/webhooks/facebook/webhook?{wrong}")[0] == 403
    body = messenger_body("FB_BAD", {"text": "hello"})
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body, secret="x"))[0] == 403
    assert (
        channel_bot.post("/webhooks/facebook/webhook", body, {"Content-Type": "application/json"})[0] == 403
    )
    # The older SHA-1 header alone is refused, even when it is right (issue 19).
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body, "sha1"))[0] == 403
    valid = messenger_body("FB_BAD", {"text": "hi there"})
    assert channel_bot.post("/webhooks/facebook/webhook", valid, messenger_headers(valid))[0] == 200
    only_this_message_reached_rasa(channel_bot, "fb:FB_BAD", "hi there")
    sends = messenger_sends(channel_bot.stub.take("/graph/"))
    texts = [send["message"]["text"] for send in sends if "text" in send["message"]]
    assert texts and len(texts) == len(set(texts))


def test_messenger_at_most_three_buttons_per_message_then_the_answer(channel_bot):
    body = messenger_body("FB_ANN", {"text": "what is dry needling?"})
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body))[0] == 200
    calls = channel_bot.stub.wait("/graph/", lambda calls: len(messenger_sends(calls)) >= 1)
    assert all(call.query == {"access_token": [FB_PAGE_TOKEN]} for call in calls)
    sends = messenger_sends(calls)
    templates = [
        send["message"]["attachment"]["payload"] for send in sends if "attachment" in send["message"]
    ]
    assert all(
        send["recipient"] == {"id": "FB_ANN"} and send["messaging_type"] == "RESPONSE" for send in sends
    )
    assert templates, sends
    assert all(t["template_type"] == "button" and 1 <= len(t["buttons"]) <= 3 for t in templates)
    assert all(len(t["text"]) <= 640 for t in templates)
    buttons = [button for template in templates for button in template["buttons"]]
    # Every option is kept (Rasa's own connector would drop all of them beyond 3).
    payloads = [button["payload"] for button in buttons]
    assert DRY_NEEDLING_PAYLOAD in payloads and "/something_else" in payloads
    assert all(len(button["title"]) <= 20 and button["type"] == "postback" for button in buttons)
    assert templates[0]["text"].startswith("I want to be sure I answer the right question. Did you mean:")
    if len(buttons) > 3:
        assert templates[1]["text"] == "More choices:"

    body = messenger_body("FB_ANN", postback={"title": DRY_NEEDLING_TITLE, "payload": DRY_NEEDLING_PAYLOAD})
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body))[0] == 200
    calls = channel_bot.stub.wait(
        "/graph/",
        lambda calls: any(
            s["message"].get("text", "").startswith(ANSWER_START) for s in messenger_sends(calls)
        ),
    )
    texts = [send["message"]["text"] for send in messenger_sends(calls) if "text" in send["message"]]
    answer = next(text for text in texts if text.startswith(ANSWER_START))
    assert answer.endswith(MORE_HINT) and "https://" not in answer

    body = messenger_body("FB_ANN", {"text": "more please"})
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body))[0] == 200
    calls = channel_bot.stub.wait(
        "/graph/", lambda calls: any(SOURCE in s["message"].get("text", "") for s in messenger_sends(calls))
    )
    details = [send["message"]["text"] for send in messenger_sends(calls) if "text" in send["message"]]
    assert any(re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", text) for text in details)
    assert all(len(text) <= 2000 for text in [*texts, *details])
    assert no_staff_lines([*texts, *details])


def test_messenger_attachments_get_a_clear_message(channel_bot):
    body = messenger_body(
        "FB_PIC", {"attachments": [{"type": "image", "payload": {"url": "https://scontent.invalid/x.jpg"}}]}
    )
    assert channel_bot.post("/webhooks/facebook/webhook", body, messenger_headers(body))[0] == 200
    sends = messenger_sends(channel_bot.stub.wait("/graph/", lambda calls: True))
    assert [send["message"] for send in sends] == [
        {"text": "Sorry, I can only read text messages. Please type your question."}
    ]


# ---------------------------------------------------------------- Twilio SMS
def twilio_post(bot: ChannelBot, sender: str, text: str, token: str = TWILIO_TOKEN) -> int:
    params = {
        "ToCountry": "US",
        "SmsMessageSid": "SM11111111111111111111111111111111",
        "NumMedia": "0",
        "SmsSid": "SM11111111111111111111111111111111",
        "SmsStatus": "received",
        "Body": text,
        "To": TWILIO_NUMBER,
        "NumSegments": "1",
        "MessageSid": "SM11111111111111111111111111111111",
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    url = f"{bot.rasa_url}/webhooks/twilio/webhook"
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    status, _ = bot.post("/webhooks/twilio/webhook", urllib.parse.urlencode(params).encode(), headers)
    return status


def twilio_bodies(calls: list[Call]) -> list[dict[str, str]]:
    return [
        call.form()
        for call in calls
        if call.path == f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    ]


def test_twilio_refuses_unsigned_requests(channel_bot):
    assert twilio_post(channel_bot, "+15551230000", "hello", token="not-the-token") == 403
    assert twilio_post(channel_bot, "+15551230000", "hi there") == 200
    only_this_message_reached_rasa(channel_bot, "sms:+15551230000", "hi there")
    bodies = [m["Body"] for m in twilio_bodies(channel_bot.stub.take("/twilio/"))]
    assert bodies and len(bodies) == len(set(bodies))


def test_twilio_numbered_options_and_a_reply_of_a_number(channel_bot):
    sender = "+15551230001"
    assert twilio_post(channel_bot, sender, "what is dry needling?") == 200
    calls = channel_bot.stub.wait(
        "/twilio/", lambda calls: any("Reply with" in m["Body"] for m in twilio_bodies(calls))
    )
    expected_auth = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert all(call.headers.get("Authorization") == expected_auth for call in calls)
    messages = twilio_bodies(calls)
    assert all(m["To"] == sender and m["From"] == TWILIO_NUMBER for m in messages)
    options = next(m["Body"] for m in messages if "Reply with" in m["Body"])
    assert options.startswith(
        "I want to be sure I answer the right question. Did you mean:\n\n"
        "Reply with the number of your choice:\n1. "
    )
    numbers = dict(re.findall(r"^(\d+)\. (.+)$", options, flags=re.MULTILINE))
    assert numbers[str(len(numbers))] == "Something else"

    # A number that is not on the list gets a clear hint, and the list stays valid.
    assert twilio_post(channel_bot, sender, "9") == 200
    hint = twilio_bodies(channel_bot.stub.wait("/twilio/", lambda calls: True))
    assert [m["Body"] for m in hint] == [
        f"Please reply with a number from 1 to {len(numbers)}, or type your question."
    ]

    choice = next(number for number, title in numbers.items() if title == DRY_NEEDLING_TITLE)
    assert twilio_post(channel_bot, sender, f" {choice}. ") == 200
    calls = channel_bot.stub.wait(
        "/twilio/", lambda calls: any(m["Body"].startswith(ANSWER_START) for m in twilio_bodies(calls))
    )
    bodies = [m["Body"] for m in twilio_bodies(calls)]
    answer = next(body for body in bodies if body.startswith(ANSWER_START))
    assert answer.endswith(MORE_HINT) and "https://" not in answer

    assert twilio_post(channel_bot, sender, "more") == 200
    calls = channel_bot.stub.wait(
        "/twilio/", lambda calls: any(SOURCE in m["Body"] for m in twilio_bodies(calls))
    )
    details = [m["Body"] for m in twilio_bodies(calls)]
    assert any(re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", body) for body in details)
    assert all(len(body) <= 1600 for body in [*bodies, *details])
    assert no_staff_lines([*bodies, *details])


def test_twilio_whatsapp_replies_from_the_whatsapp_number(channel_bot):
    assert twilio_post(channel_bot, "whatsapp:+15551230002", "hello") == 200
    messages = twilio_bodies(channel_bot.stub.wait("/twilio/", lambda calls: True))
    assert messages[0]["To"] == "whatsapp:+15551230002"
    assert messages[0]["From"] == f"whatsapp:{TWILIO_NUMBER}"
    assert messages[0]["Body"].startswith("Hello! I answer questions about acupuncture")


# ---------------------------------------------------------------- REST cannot reach them (issue 19)
def rest_post(bot: ChannelBot, sender: str, message: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    status, reply = bot.post("/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
    assert status == 200, reply[:300]
    replies = json.loads(reply)
    assert [r["recipient_id"] for r in replies] == [sender] * len(replies)  # the client's own id
    return replies


def stored_user_texts(bot: ChannelBot, conversation: str) -> list[str]:
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation,)
        ).fetchall()
    connection.close()
    return [json.loads(data).get("text") or "" for (data,) in rows]


def only_this_message_reached_rasa(bot: ChannelBot, conversation: str, text: str) -> None:
    """Proof that refused requests were never processed, without sleeping: a valid message
    sent after them in the same conversation is the only user message Rasa ever stored (a
    refused one, had it been processed, would have been stored before it)."""
    deadline = time.monotonic() + 120
    while (stored := stored_user_texts(bot, conversation)) != [text]:
        assert len(stored) <= 1 and time.monotonic() < deadline, stored
        time.sleep(0.1)


def test_rest_cannot_reach_an_sms_or_telegram_conversation(channel_bot):
    """A stranger who knows an SMS user's number (or a Telegram chat id) posts to the public
    REST webhook with it, bare or with the channel's prefix: new options, "forget me" and yes.
    All of it lands in REST conversations; the SMS user's "2" still means their option."""
    phone, chat = "+15551230009", 9010
    assert twilio_post(channel_bot, phone, "what is dry needling?") == 200
    calls = channel_bot.stub.wait(
        "/twilio/", lambda calls: any("Reply with" in m["Body"] for m in twilio_bodies(calls))
    )
    options = next(m["Body"] for m in twilio_bodies(calls) if "Reply with" in m["Body"])
    numbers = dict(re.findall(r"^(\d+)\. (.+)$", options, flags=re.MULTILINE))
    assert telegram_post(channel_bot, telegram_message(chat, "what is dry needling?")) == 200
    channel_bot.stub.wait("/telegram/", lambda calls: any("reply_markup" in c.json() for c in calls))
    sms_before = stored_user_texts(channel_bot, f"sms:{phone}")
    telegram_before = stored_user_texts(channel_bot, f"tg:{chat}")
    assert sms_before == ["what is dry needling?"] and telegram_before == ["what is dry needling?"]

    senders = [phone, f"sms:{phone}", str(chat), f"tg:{chat}"]
    for sender in senders:
        # Other options in the last bot turn would change what a reply of a number means...
        assert rest_post(channel_bot, sender, "what is acupuncture?")
        # ...and "forget me" + yes would delete the conversation.
        question = rest_post(channel_bot, sender, "forget me")
        assert question[0]["text"].startswith("Do you want me to delete this conversation")
        reply = rest_post(channel_bot, sender, "/affirm")
        assert reply[0]["text"] == FORGET_ME_PENDING_TEXT
    # What was deleted is each REST conversation (rest:<sender>), once the eraser has run.
    deadline = time.monotonic() + 30
    while any(stored_user_texts(channel_bot, f"rest:{sender}") for sender in senders):
        assert time.monotonic() < deadline, "the REST conversations were not deleted"
        time.sleep(0.25)

    # Nothing was sent to the SMS user or the Telegram chat (the REST turns were answered
    # synchronously, so anything they sent has arrived); their conversations are untouched.
    assert channel_bot.stub.take("/twilio/") == [] and channel_bot.stub.take("/telegram/") == []
    assert stored_user_texts(channel_bot, f"sms:{phone}") == sms_before
    assert stored_user_texts(channel_bot, f"tg:{chat}") == telegram_before
    choice = next(number for number, title in numbers.items() if title == DRY_NEEDLING_TITLE)
    assert twilio_post(channel_bot, phone, choice) == 200
    calls = channel_bot.stub.wait(
        "/twilio/", lambda calls: any(m["Body"].startswith(ANSWER_START) for m in twilio_bodies(calls))
    )
    assert {m["To"] for m in twilio_bodies(calls)} == {phone}
    assert channel_bot.stub.take("/telegram/") == []  # still nothing, a whole SMS turn later
    assert stored_user_texts(channel_bot, f"sms:{phone}") == [*sms_before, DRY_NEEDLING_PAYLOAD]


# ---------------------------------------------------------------- socket.io hardening
def test_socketio_refuses_pages_from_other_origins(channel_bot):
    socketio = pytest.importorskip("socketio")
    import asyncio

    async def connect(origin: str) -> str:
        client = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
        try:
            await client.connect(channel_bot.rasa_url, headers={"Origin": origin}, transports=["polling"])
        except socketio.exceptions.ConnectionError:
            return "refused"
        try:
            await client.emit("session_request", {"session_id": "../someone-else"})
            return await asyncio.wait_for(confirmed, 20)
        finally:
            await client.disconnect()

    assert asyncio.run(connect("http://evil.example")) == "refused"
    session_id = asyncio.run(connect(ALLOWED_ORIGIN))
    # A made-up session id is replaced by a fresh token of the server's.
    assert re.fullmatch(r"[0-9a-f]{64}", session_id)


def test_connectors_log_which_are_on(channel_bot):
    log = channel_bot.rasa_log.read_text()
    assert "connector is off" not in log
    assert "socket.io accepts pages from: http://allowed.example" in log


# ---------------------------------------------------------------- the project's own credentials.yml
@pytest.mark.parametrize("connector", ["telegram", "slack", "facebook", "twilio"])
def test_connectors_without_secrets_are_off_and_the_server_runs(bot, connector):
    """The shared test bot runs with credentials.yml and no connector secrets."""
    try:
        with urllib.request.urlopen(f"{bot.rasa_url}/webhooks/{connector}/", timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    assert (status, json.loads(body)) == (503, {"status": "off"})
    log = (bot.workdir / "rasa.log").read_text(errors="replace")
    assert f"{connector} connector is off: set " in log
