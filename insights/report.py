"""The report's tables, built once and written as CSV files and as the HTML page."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from actions.store.content import read_faq_content
from insights.analysis import (
    CATEGORIES,
    CHECK_IN,
    FORGET_ASKED,
    FORGET_ERASED,
    HANDOFF_INTENTS,
    Analyser,
    Insights,
    Topic,
)
from insights.grouping import QuestionGroup, group_questions
from insights.spreadsheet import spreadsheet_row
from insights.store import Window, conversations, erasures, has_events

# An FAQ answer whose best topic scored under this is listed as answered at low confidence
# (the answer gate itself is ANSWER_MIN_CONFIDENCE, 0.3 by default).
LOW_CONFIDENCE = 0.5
GROUPS_SHOWN = 25
TIERS = ("emergency", "crisis", "poisoning", "same_day")


@dataclass(frozen=True)
class Table:
    """One table of the report: a CSV file and a table in the HTML page."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


@dataclass
class Report:
    """Everything the report shows."""

    window: Window
    insights: Insights
    groups: list[QuestionGroup]
    channels: list[str]
    erased: Counter[tuple[date, str]] = field(default_factory=Counter)

    @property
    def days(self) -> list[date]:
        count = (self.window.last_day - self.window.first_day).days + 1
        return [self.window.first_day + timedelta(days=n) for n in range(count)]


def faq_topics(content_dir: Path) -> dict[str, Topic]:
    """Topic key -> (question type, treatment), from the content files."""
    return {a.key: Topic(a.aspect, a.treatment) for a in read_faq_content(content_dir).answers}


def build_report(
    engine: Engine,
    window: Window,
    content_dir: Path,
    low_confidence: float = LOW_CONFIDENCE,
) -> Report:
    """Read the window's conversations and count everything the report shows."""
    topics = faq_topics(content_dir)
    analyser = Analyser(topics, low_confidence)
    if has_events(engine):
        for channel, events in conversations(engine, window):
            analyser.add(channel, events)
    insights = analyser.insights
    erased = Counter(erasures(engine, window))
    if erased:
        insights.requests[FORGET_ERASED] += sum(erased.values())
    groups = group_questions(insights.questions, topics)
    channels = sorted({channel for _, channel in insights.messages} | {c for _, c in erased})
    return Report(window, insights, groups, channels, erased)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def tables(report: Report) -> list[Table]:
    """Every table, in the order of the page."""
    insights = report.insights
    daily = [
        (day.isoformat(), channel, insights.conversations[(day, channel)], insights.messages[(day, channel)])
        for day in report.days
        for channel in report.channels
        if insights.messages[(day, channel)]
    ]
    per_channel = [
        (
            channel,
            sum(v for (_, c), v in insights.conversations.items() if c == channel),
            sum(v for (_, c), v in insights.messages.items() if c == channel),
        )
        for channel in report.channels
    ]
    answers = sorted(insights.answers.items(), key=lambda item: (-item[1], item[0].question_type))
    topic_rows = [
        (
            topic.question_type,
            topic.treatment,
            count,
            insights.followed_up[topic],
            _share(insights.followed_up[topic], count),
        )
        for topic, count in answers
    ]
    messages = sum(insights.messages.values())
    unanswered_rows = [
        (category, insights.unanswered[category], _share(insights.unanswered[category], messages))
        for category in CATEGORIES
    ]
    choices = sorted(
        ((k, v) for k, v in insights.did_you_mean.items() if k != "shown"), key=lambda kv: (-kv[1], kv[0])
    )
    choice_rows = [("shown", insights.did_you_mean["shown"]), *choices]
    language_rows = sorted(insights.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    triage_rows = [(f"tier: {tier}", insights.triage[f"tier: {tier}"]) for tier in TIERS]
    triage_rows.append((CHECK_IN, insights.triage[CHECK_IN]))
    request_rows = [(label, insights.requests[label]) for label in HANDOFF_INTENTS.values()]
    request_rows += [
        (FORGET_ASKED, insights.requests[FORGET_ASKED]),
        (FORGET_ERASED, insights.requests[FORGET_ERASED]),
    ]
    group_rows = [
        (
            number,
            group.messages,
            ", ".join(f"{c} {n}" for c, n in group.categories.most_common()),
            *(group.examples + [""] * (3 - len(group.examples))),
            group.suggestion.intent if group.suggestion else "",
        )
        for number, group in enumerate(report.groups, start=1)
    ]
    return [
        Table(
            "channels",
            "Conversations and messages per channel",
            ("channel", "conversations", "messages"),
            per_channel,
            "A conversation active on several days counts once per day in the daily table.",
        ),
        Table(
            "daily",
            "Conversations and messages per day and channel",
            ("day", "channel", "conversations", "messages"),
            daily,
        ),
        Table(
            "topics",
            "Answers per topic (question type x treatment)",
            ("question type", "treatment", "answers", "followed by another question", "share"),
            topic_rows,
            "Followed by another question: the visitor wrote again after the answer (not thanks or bye).",
        ),
        Table(
            "unanswered",
            "Unanswered turns",
            ("category", "messages", "share of all messages"),
            unanswered_rows,
            f"Low confidence: an FAQ answer whose best topic scored under {insights.low_confidence:g}. "
            "A turn can be in two categories (a 'Did you mean' after a low score).",
        ),
        Table(
            "did_you_mean",
            '"Did you mean": shown, and what visitors chose',
            ("outcome", "times"),
            choice_rows,
        ),
        Table("languages", "Non-English messages by language", ("language", "messages"), language_rows),
        Table(
            "triage",
            "Safety triage (counts only; red-flag messages are never quoted)",
            ("what", "times"),
            triage_rows,
            f"{insights.red_flag_messages} messages recognised as red flags in this period.",
        ),
        Table(
            "requests",
            "Handoff and forget-me requests",
            ("request", "times"),
            request_rows,
            "A conversation deleted on request is gone from the store: only its day and channel are kept.",
        ),
        Table(
            "unanswered_groups",
            "Top unanswered questions, grouped by similarity (redacted)",
            ("group", "messages", "categories", "example 1", "example 2", "example 3", "suggested intent"),
            group_rows,
            "Personal data is replaced by [name], [phone], [email], [number], [licence], [date], [link].",
        ),
    ]


def write_csv(directory: Path, table: Table) -> Path:
    """``<directory>/<table.name>.csv``; every cell safe to open in a spreadsheet."""
    path = directory / f"{table.name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow(spreadsheet_row(row))
    return path


def write_report(report: Report, directory: Path) -> list[Path]:
    """The HTML page and one CSV per table in ``directory``; returns the files written."""
    from insights.html import render_html

    directory.mkdir(parents=True, exist_ok=True)
    all_tables = tables(report)
    written = [write_csv(directory, table) for table in all_tables]
    page = directory / "report.html"
    page.write_text(render_html(report, all_tables), encoding="utf-8")
    return [page, *written]


def top_groups(report: Report, limit: int = GROUPS_SHOWN) -> Sequence[QuestionGroup]:
    return report.groups[:limit]
