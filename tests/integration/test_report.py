"""The staff report (issue 21) on a seeded tracker store, SQLite and PostgreSQL: exact counts in
every table, retention respected, no sender id, red-flag text or personal data in any file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from actions.store.conversations import SqlConversationStore
from actions.store.database import build_engine, session_scope
from insights.export import write_draft
from insights.report import build_report, tables, write_report
from insights.sample import (
    Clock,
    check_in,
    choose,
    custom_action,
    did_you_mean,
    fallback,
    faq,
    other_language,
    out_of_scope,
    red_flag,
    reply_with,
    seed,
    something_else,
)
from insights.store import report_window
from scripts import report as report_cli
from tests.conftest import ROOT

NOW = time.time()
DAY = 86400
SENDERS = (
    "web:alice-secret-id",
    "sms:+15550100199",
    "tg:9988776655",
    "slack:U0SECRET1",
    "fb:PSID777",
    "shell-42",
)
RED_FLAG_TEXTS = (
    "BLUE-SECRET worst headache of my life",
    "GREEN-SECRET can acupuncture cause a seizure, my son",
)
PERSONAL = ("Sarah", "Connolly", "555-010-0199", "sarah.c@example.com")


def known_conversations() -> list[tuple[str, list[dict]]]:
    day = NOW - 2 * DAY
    alice = Clock(day)
    sms = Clock(day + 60)
    tg = Clock(day + 120)
    slack = Clock(day + 180)
    fb = Clock(day + 240)
    shell = Clock(NOW - 1 * DAY)
    old = Clock(NOW - 40 * DAY)
    return [
        (
            SENDERS[0],
            faq(alice, "what is dry needling?", "dry_needling_what_is", 0.9, "dry_needling")
            + faq(alice, "is it safe", "dry_needling_side_effects", 0.45, "dry_needling")
            + reply_with(alice, "thanks", "thanks", "utter_youre_welcome"),
        ),
        (
            SENDERS[1],
            did_you_mean(sms, "what does L.Ac. mean", ["cost", "insurance_coverage"])
            + choose(sms, "insurance_coverage")
            + fallback(sms, "my name is Sarah Connolly, call me on 555-010-0199 or sarah.c@example.com"),
        ),
        (
            SENDERS[2],
            red_flag(tg, RED_FLAG_TEXTS[0], "emergency")
            + check_in(tg, RED_FLAG_TEXTS[1], "emergency", now=True),
        ),
        (
            SENDERS[3],
            other_language(slack, "¿La acupuntura ayuda con la migraña?", "es")
            + out_of_scope(slack, "what's the weather tomorrow")
            + custom_action(slack, "can I talk to a person", "request_human", "action_handoff")
            + reply_with(slack, "forget me", "forget_me", "utter_ask_forget_me"),
        ),
        (
            SENDERS[4],
            did_you_mean(fb, "do you take medicare", ["cost", "insurance_coverage"])
            + something_else(fb)
            + custom_action(
                fb,
                "is dry needling legal in texas",
                "ask_dry_needling_legality",
                "action_answer_legal",
                legal_question="dry_needling",
                treatment_context="dry_needling",
            )
            + custom_action(fb, "what should I wear", "ask_not_covered_yet", "action_handoff"),
        ),
        (SENDERS[5], faq(shell, "what is tui na", "tui_na_what_is", 0.9, "tui_na")),
        # Past the 30-day retention period: never read.
        ("rest:old-bob", fallback(old, "OLD-SECRET question from long ago")),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path: Path) -> Iterator[str]:
    url = (
        f"sqlite:///{tmp_path / 'tracker.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = build_engine(url)
    seed(engine, known_conversations())
    with session_scope(engine) as session, session.begin():
        SqlConversationStore(session).record_erasure("web", NOW - DAY)
        SqlConversationStore(session).record_erasure("web", NOW - 45 * DAY)  # past retention
    engine.dispose()
    yield url


def table_rows(report) -> dict[str, list[tuple]]:
    return {table.name: table.rows for table in tables(report)}


def test_exact_counts_in_every_table(tracker_url):
    engine = build_engine(tracker_url)
    report = build_report(engine, report_window(None, None, 30, now=NOW), ROOT / "data" / "content")
    engine.dispose()
    rows = table_rows(report)
    day, shell_day = (time.strftime("%Y-%m-%d", time.gmtime(NOW - n * DAY)) for n in (2, 1))
    assert rows["channels"] == [
        ("fb", 1, 4),
        ("other", 1, 1),
        ("slack", 1, 4),
        ("sms", 1, 3),
        ("tg", 1, 3),
        ("web", 1, 3),
    ]
    assert rows["daily"] == [
        (day, "fb", 1, 4),
        (day, "slack", 1, 4),
        (day, "sms", 1, 3),
        (day, "tg", 1, 3),
        (day, "web", 1, 3),
        (shell_day, "other", 1, 1),
    ]
    assert sorted(rows["topics"]) == sorted(
        [
            ("overview", "dry_needling", 1, 1, "100%"),
            ("side_effects", "dry_needling", 1, 0, "0%"),
            ("insurance", "general", 1, 1, "100%"),
            ("legality by state", "dry_needling", 1, 1, "100%"),
            ("overview", "tui_na", 1, 0, "0%"),
        ]
    )
    assert rows["unanswered"] == [
        ("fallback", 1, "6%"),
        ("out of scope", 1, "6%"),
        ("not covered yet", 1, "6%"),
        ("did you mean", 2, "11%"),
        ("low confidence", 1, "6%"),
        ("non-English", 1, "6%"),
    ]
    assert rows["did_you_mean"] == [("shown", 2), ("Something else", 1), ("chose: insurance / general", 1)]
    assert rows["languages"] == [("es", 1)]
    assert rows["triage"] == [
        ("tier: emergency", 2),
        ("tier: crisis", 0),
        ("tier: poisoning", 0),
        ("tier: same_day", 0),
        ("check-in asked (is this happening now?)", 1),
    ]
    assert report.insights.red_flag_messages == 3
    assert rows["requests"] == [
        ("handoff: clinic contact asked", 1),
        ("handoff: booking asked", 0),
        ("handoff: the clinic's own details asked", 0),
        ("forget me: asked (conversation still stored)", 1),
        ("forget me: conversations deleted on request", 1),
    ]
    groups = rows["unanswered_groups"]
    assert sum(row[1] for row in groups) == 7
    examples = {row[3] for row in groups}
    assert "my name is [name], call me on [phone] or [email]" in examples
    assert {"is it safe", "what does L.Ac. mean", "do you take medicare", "what should I wear"} <= examples


def test_no_sender_id_red_flag_text_or_personal_data_in_any_file(tracker_url, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    from actions.settings import get_safety_settings

    get_safety_settings.cache_clear()
    try:
        assert report_cli.main(["report", "--out", str(out)]) == 0
        assert report_cli.main(["export-unanswered", "--out", str(out / "draft.yml")]) == 0
    finally:
        get_safety_settings.cache_clear()
    printed = capsys.readouterr()
    files = sorted(out.iterdir())
    assert {f.name for f in files} >= {"report.html", "draft.yml", "topics.csv", "unanswered_groups.csv"}
    forbidden = [
        *SENDERS,
        "old-bob",
        "OLD-SECRET",
        *PERSONAL,
        "BLUE-SECRET",
        "GREEN-SECRET",
        "seizure",
        "worst headache",
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for secret in forbidden:
            assert secret not in text, f"{secret!r} in {path.name}"
    for secret in forbidden:
        assert secret not in printed.out + printed.err
    draft = yaml.safe_load((out / "draft.yml").read_text(encoding="utf-8"))
    intents = [block["intent"] for block in draft["nlu"]]
    assert intents and all(isinstance(intent, str) for intent in intents)
    wordings = [line for block in draft["nlu"] for line in block["examples"].splitlines()]
    assert "- do you take medicare" in wordings
    assert not any("acupuntura" in line for line in wordings)  # non-English stays out of training data


def test_an_empty_or_missing_store_gives_an_empty_report(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'none.db'}")
    report = build_report(engine, report_window(None, None, 30, now=NOW), ROOT / "data" / "content")
    files = write_report(report, tmp_path / "out")
    engine.dispose()
    assert report.insights.total_conversations == 0
    assert "nothing in this period" in files[0].read_text(encoding="utf-8")
    draft = write_draft(report.groups, report.window, tmp_path / "draft.yml")
    assert yaml.safe_load(draft.read_text(encoding="utf-8"))["nlu"] == []
