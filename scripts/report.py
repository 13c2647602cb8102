"""Staff insights from the tracker store (issue 21).

    python scripts/report.py report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out results/report]
    python scripts/report.py export-unanswered [--from ...] [--to ...] [--out results/unanswered_draft.yml]

Reads the tracker store the bot uses (TRACKER_STORE_URL; SQLite var/tracker.db by default),
never further back than CONVERSATION_RETENTION_DAYS. Needs no model and no running bot.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.exc import SQLAlchemyError

from actions.settings import PROJECT_ROOT, get_safety_settings, get_settings
from actions.store.database import build_engine, display_url
from insights.export import write_draft
from insights.report import LOW_CONFIDENCE, build_report, write_report
from insights.store import has_events, report_window


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["report", "export-unanswered"])
    parser.add_argument("--from", dest="first", type=_day, help="first day (UTC), default: retention start")
    parser.add_argument("--to", dest="last", type=_day, help="last day (UTC), default: today")
    parser.add_argument("--out", type=Path, help="report folder / draft file")
    parser.add_argument("--url", help="tracker store URL (default: TRACKER_STORE_URL or var/tracker.db)")
    parser.add_argument(
        "--low-confidence",
        type=float,
        default=LOW_CONFIDENCE,
        help=f"FAQ answers scoring under this count as low confidence (default {LOW_CONFIDENCE})",
    )
    args = parser.parse_args(argv)
    safety = get_safety_settings()
    url = args.url or safety.tracker_store_url
    try:
        window = report_window(args.first, args.last, safety.retention_days)
    except ValueError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    engine = build_engine(url)
    started = time.perf_counter()
    try:
        if not has_events(engine):
            print(
                f"no conversations stored yet in {display_url(url)}: chat with the bot (make run) first; "
                "the report will be empty",
                file=sys.stderr,
            )
        report = build_report(engine, window, get_settings().content_dir, args.low_confidence)
    except SQLAlchemyError as error:
        print(
            f"could not read the tracker store {display_url(url)}: {getattr(error, 'orig', None) or error}",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    if window.clamped:
        print(
            f"note: the start was moved to {window.first_day}: older conversations are past the "
            f"{safety.retention_days}-day retention period and are never read"
        )
    if args.command == "report":
        out = args.out or PROJECT_ROOT / "results" / "report"
        files = write_report(report, out)
        print(
            f"{report.insights.total_conversations} conversations, {sum(report.insights.messages.values())} "
            f"messages from {window.first_day} to {window.last_day} in {display_url(url)} "
            f"({time.perf_counter() - started:.1f} s)"
        )
        print(f"report: {files[0]}  (+ {len(files) - 1} CSV files in {out})")
    else:
        out = args.out or PROJECT_ROOT / "results" / "unanswered_draft.yml"
        write_draft(report.groups, window, out)
        print(
            f"{len(report.groups)} groups of unanswered questions drafted in {out}: correct the intents, "
            "move them into data/nlu/, then make train and make check-answers"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
