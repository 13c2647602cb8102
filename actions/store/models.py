"""SQL schema (SQLAlchemy 1.4 in 2.0 style)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship

# Typed as Any: without SQLAlchemy's mypy plug-in a declarative base is not a valid type.
Base: Any = declarative_base()


def child_rows(class_name: str, order_by: str = "position") -> Any:
    """A parent's list of child rows: in display order, loaded with it, deleted with it."""
    return relationship(
        class_name, order_by=f"{class_name}.{order_by}", cascade="all, delete-orphan", lazy="selectin"
    )


class FaqTopicRow(Base):
    """One answer, keyed by the topic key that NLU predicts (``faq/<key>``)."""

    __tablename__ = "faq_topics"

    key = Column(String(80), primary_key=True)
    title = Column(String(200), nullable=False)
    treatment = Column(String(40), nullable=False)
    aspect = Column(String(40), nullable=False)
    short = Column(Text, nullable=False)  # the short answer, sent first
    answer = Column(Text, nullable=False)  # the detail that follows it
    reviewed_on = Column(Date, nullable=False)
    content_version = Column(String(40), nullable=False)

    sources = child_rows("FaqSourceRow")


class FaqSourceRow(Base):
    """A source cited under an answer, in display order."""

    __tablename__ = "faq_sources"

    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_key = Column(
        String(80), ForeignKey("faq_topics.key", ondelete="CASCADE"), nullable=False, index=True
    )
    position = Column(Integer, nullable=False)
    title = Column(String(300), nullable=False)
    url = Column(String(500), nullable=False)


class ContentLoadRow(Base):
    """Which content is loaded: one row per kind, rewritten by every load.

    The fingerprint is a hash of the loaded answers, so the action server can keep
    a copy in memory and notice any edit with one small read per action run.
    """

    __tablename__ = "content_loads"

    kind = Column(String(40), primary_key=True)
    fingerprint = Column(String(64), nullable=False)


class ForgetRequestRow(Base):
    """A visitor's "forget me": kept until the conversation is deleted (and a while after).

    No message text: the conversation id, the marker slot value the eraser waits for,
    times in UTC and the type of the last error.
    """

    __tablename__ = "forget_requests"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    # The random token action_forget_me set in slot forget_me_marker.
    marker = Column(String(32), nullable=False)
    requested_at = Column(DateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(200))
    # NULL while the deletion is pending.
    done_at = Column(DateTime, index=True)
