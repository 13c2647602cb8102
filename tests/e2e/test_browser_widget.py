"""The website widget in a real headless Chromium (tests/browser/widget_test.js).

Starts a bot of its own: every answer goes through "Did you mean"
(ANSWER_MIN_CONFIDENCE=0.999, so the test can click a suggested reply), the
staff inspector is on (the page must never show it), and the Tui Na answer's
content holds injected markup (the page must show it as text, never run it).
Serves web/ with scripts/serve_web.py and runs the Node script with
playwright-core driving Debian's chromium (never a downloaded browser).

Set UPDATE_WIDGET_SCREENSHOT=1 to refresh docs/img/widget.png and
docs/img/widget-phone.png from this run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from actions.settings import PROJECT_ROOT
from actions.store.content import load_faq_content
from actions.store.database import build_engine
from channels.base import WEB, conversation_id
from channels.socketio import SessionTokens
from scripts.servers import free_port, wait_http
from tests.e2e.channel_servers import start_channel_servers

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
PLAYWRIGHT = PROJECT_ROOT / "node_modules" / "playwright-core"
SCRIPT = PROJECT_ROOT / "tests" / "browser" / "widget_test.js"
SESSION_SECRET = "browser-test-session-secret-0123456789"
INJECTED = (
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
    "[click me](javascript:window.__pwned=3) "
)


def missing_tools() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium"
    if NODE is None:
        return "node is missing"
    if not PLAYWRIGHT.exists():
        return "node_modules/playwright-core is missing: run `npm ci`"
    return None


@pytest.fixture(scope="module")
def widget_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(the demo page's URL, the bot's tracker database)."""
    reason = missing_tools()
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser test must run in CI: {reason}")
    if reason:
        pytest.skip(reason)
    web_port = free_port()
    servers = start_channel_servers(
        tmp_path_factory.mktemp("widget"),
        extra_env={
            "ANSWER_MIN_CONFIDENCE": "0.999",
            "STAFF_INSPECTOR": "on",
            "WEBCHAT_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}",
            # Known to the test, so that it can find the conversation of the page's token.
            "WEBCHAT_SESSION_SECRET": SESSION_SECRET,
        },
        # As scripts/run_all.sh does: CORS headers for the long-polling fallback.
        rasa_args=("--cors", f"http://127.0.0.1:{web_port}"),
    )
    try:
        content = servers.content_dir / "faq" / "core.yml"
        text = content.read_text(encoding="utf-8")
        assert "Tui Na (also written" in text
        content.write_text(
            text.replace("Tui Na (also written", INJECTED + "Tui Na (also written", 1), encoding="utf-8"
        )
        engine = build_engine(servers.database_url)
        load_faq_content(servers.content_dir, engine)
        engine.dispose()
        web = servers.launch(
            "web",
            [sys.executable, "scripts/serve_web.py", "--port", str(web_port), "--rasa-url", servers.rasa_url],
        )
        wait_http(web, f"http://127.0.0.1:{web_port}/index.html", timeout=30)
        yield f"http://127.0.0.1:{web_port}", servers.tracker_db
    finally:
        servers.stop()


def user_texts(tracker_db: Path, token: str) -> list[str]:
    """What the user typed in the widget session of ``token`` (the page stores only the token;
    the conversation is web:<HMAC of it>, channels/socketio.py)."""
    room = SessionTokens(SESSION_SECRET.encode()).conversation(token)
    assert room is not None, token
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
            (conversation_id(WEB, room),),
        ).fetchall()
    connection.close()
    return [json.loads(data).get("text") or "" for (data,) in rows]


def safety_responses() -> dict:
    domain = yaml.safe_load((PROJECT_ROOT / "domain" / "safety.yml").read_text(encoding="utf-8"))
    return {name: items[0] for name, items in domain["responses"].items()}


# One message per tier (issue 17): the page must show that tier's guidance and nothing else.
TRIAGE_MESSAGES = {
    "utter_red_flag_guidance": "my dad's face is drooping on one side and he can't lift his arm",
    "utter_crisis_guidance": "i keep thinking everyone would be better off without me",
    "utter_poisoning_guidance": "my 2 year old swallowed some of my migraine pills",
    "utter_same_day_guidance": "i'm 74 and my jaw hurts when i chew, with a headache at my temple",
}


def test_widget_in_headless_chromium(widget_site, tmp_path):
    web_url, tracker_db = widget_site
    responses = safety_responses()
    triage_cases = [{"message": m, "reply": responses[name]["text"]} for name, m in TRIAGE_MESSAGES.items()]
    check_in = {
        "message": "can acupuncture cause a seizure? i'm worried about my son",
        "question": responses["utter_triage_check_in"]["text"],
        "yes": responses["utter_triage_check_in"]["buttons"][0]["title"],
        "reply": responses["utter_red_flag_guidance"]["text"],
    }
    update = os.environ.get("UPDATE_WIDGET_SCREENSHOT") == "1"
    shots = PROJECT_ROOT / "docs" / "img" if update else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [NODE or "node", str(SCRIPT)],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "WEB_URL": web_url,
            "CHROMIUM": CHROMIUM,
            "SCREENSHOT": str(shots / "widget.png"),
            "SCREENSHOT_PHONE": str(shots / "widget-phone.png"),
            "TRIAGE_CASES": json.dumps(triage_cases),
            "CHECK_IN": json.dumps(check_in),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    failures = [line for line in result.stdout.splitlines() if line.startswith("not ok")]
    assert result.returncode == 0 and not failures, output[-6000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["failed"] == 0 and summary["passed"] >= 30, summary
    assert summary.get("forgetMeChecked") is True, summary  # the forget-me flow ran to its end
    assert sum("triage:" in line for line in result.stdout.splitlines() if line.startswith("ok")) == 6
    assert (shots / "widget.png").stat().st_size > 10_000

    # The server kept one conversation across the reload and the second page.
    texts = user_texts(tracker_db, summary["sessionId"])
    assert "what is dry needling?" in texts
    assert "what is acupuncture?" in texts
    assert any("window.__pwned=4" in text for text in texts)
    assert user_texts(tracker_db, summary["restartedSessionId"]) == ["/greet"]
    # The token the page holds is not the conversation's id (which the page never sees).
    with sqlite3.connect(tracker_db) as connection:
        senders = {sender for (sender,) in connection.execute("SELECT DISTINCT sender_id FROM events")}
    connection.close()
    assert not any(summary["sessionId"] in sender for sender in senders), senders
