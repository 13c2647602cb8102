"""Command line for the data the bot answers from.

python -m actions.store.manage init-db        create missing tables
python -m actions.store.manage load-content   (re)load data/content into the database
python -m actions.store.manage check-content  validate the content files only
python -m actions.store.manage check-environment
                                              refuse a production set-up that would fail
                                              silently (the action server's image runs it
                                              before `rasa run actions`)
python -m actions.store.manage purge-conversations
                                              delete conversations idle for longer than
                                              CONVERSATION_RETENTION_DAYS (default 30) from
                                              the tracker store, complete pending "forget me"
                                              requests; run it daily (cron)
"""

from __future__ import annotations

import argparse
import sys

from actions.settings import DeploymentConfigError, check_deployment, deployment_mode, get_settings
from actions.store.content import ContentError, read_faq_content
from actions.store.database import create_schema, display_url, get_engine
from actions.store.loaders import load_all


def _purge_conversations() -> int:
    """Apply the retention period promised by the privacy notice, and finish any
    "forget me" the action server has not finished (stopped, or the store was down)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from actions.base import DataUnavailable
    from actions.safety.retention import (
        complete_pending_requests,
        forget_done_requests,
        purge_expired_conversations,
    )
    from actions.settings import get_safety_settings

    safety = get_safety_settings()
    where = display_url(safety.tracker_store_url)
    try:
        if not inspect(get_engine(safety.tracker_store_url)).has_table("events"):
            print(f"no conversations stored yet in {where}")
            return 0
        deleted = purge_expired_conversations(safety)
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        print(f"could not purge conversations in {where}: {reason}", file=sys.stderr)
        return 2
    print(f"deleted {deleted} conversations idle for more than {safety.retention_days} days from {where}")
    requests_at = display_url(get_settings().database_url)
    try:
        done, pending = complete_pending_requests()
        forget_done_requests(safety)
    except (SQLAlchemyError, DataUnavailable) as error:
        reason = getattr(error, "orig", None) or error
        print(f"could not complete the deletion requests in {requests_at}: {reason}", file=sys.stderr)
        return 2
    if done or pending:
        print(f"deletion requests: {done} completed, {pending} still pending (retried at the next run)")
    return 2 if pending else 0


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; exit 0 on success, 1 on invalid content, 2 on a refused
    environment or an unreachable tracker store."""
    parser = argparse.ArgumentParser(prog="python -m actions.store.manage")
    parser.add_argument(
        "command",
        choices=["init-db", "load-content", "check-content", "purge-conversations", "check-environment"],
    )
    args = parser.parse_args(argv)
    if args.command != "check-content":  # checks files only (also at image build time)
        try:
            check_deployment("actions")
        except DeploymentConfigError as error:
            print(error, file=sys.stderr)
            return 2
    settings = get_settings()
    try:
        if args.command == "check-environment":
            print(f"environment OK for the action server ({deployment_mode()})")
        elif args.command == "init-db":
            create_schema(get_engine())
            print(f"schema ready in {display_url(settings.database_url)}")
        elif args.command == "check-content":
            from actions.credentials.wording import load_credential_replies
            from actions.store.evidence_data import read_evidence_table
            from actions.store.legal_data import read_legal_data

            content = read_faq_content(settings.content_dir)
            print(f"content OK: {len(content.answers)} FAQ topics, version {content.version}")
            evidence = read_evidence_table(settings.data_dir / "evidence")
            print(f"evidence OK: {len(evidence.rows)} rows")
            legal = read_legal_data(settings.data_dir)
            print(
                f"legal OK: {len(legal.dry_needling)} dry needling rows, "
                f"{len(legal.acupuncture)} licensure rows"
            )
            replies = load_credential_replies()
            print(f"credential replies OK: {len(replies.texts)} replies")
        elif args.command == "purge-conversations":
            return _purge_conversations()
        else:
            engine = get_engine()
            create_schema(engine)
            for line in load_all(settings.data_dir, engine):
                print(f"loaded {line}")
            print(f"database: {display_url(settings.database_url)}")
    except (ContentError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
