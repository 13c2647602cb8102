"""How long `make report` takes on 100,000 conversations (issue 21 target: under a minute).

Seeds a fresh SQLite tracker store with synthetic conversations in the shape the bot
records (insights.sample: 1 to 3 questions each, answers, fallbacks, "Did you mean",
triage, handoff...), spread over the last 28 days, then times building the report and
writing the HTML and CSV files, as `make report` does. Figures go in docs/report.md.

    python bench/report_100k.py [--conversations 100000] [--keep path.db]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from actions.settings import get_settings
from actions.store.conversations import EVENTS
from actions.store.database import build_engine
from insights.export import write_draft
from insights.report import build_report, write_report
from insights.sample import demo_traffic, seed
from insights.store import report_window


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--keep", type=Path, help="keep the seeded SQLite file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = args.keep or Path(folder) / "tracker.db"
        engine = build_engine(f"sqlite:///{database}")
        now = time.time()
        started = time.perf_counter()
        rows = seed(engine, demo_traffic(args.conversations, now - args.days * 86400, args.days))
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        print(
            f"seeded {args.conversations:,} conversations, {rows:,} events ({stored:,} stored) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        window = report_window(None, None, retention_days=30, now=now)
        started = time.perf_counter()
        report = build_report(engine, window, get_settings().content_dir)
        built = time.perf_counter() - started
        files = write_report(report, Path(folder) / "report")
        total = time.perf_counter() - started
        write_draft(report.groups, window, Path(folder) / "draft.yml")
        print(
            f"report: {report.insights.total_conversations:,} conversation-days, "
            f"{sum(report.insights.messages.values()):,} messages, {len(report.groups)} groups"
        )
        print(
            f"read and counted in {built:.1f} s; "
            f"with charts, HTML and {len(files) - 1} CSV files: {total:.1f} s"
        )
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
