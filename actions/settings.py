"""Typed settings for the action server, read from the environment.

Every setting has an embedded default so that a fresh clone runs with no
configuration. Nothing here runs at import time beyond defining the class:
call :func:`get_settings` (cached) to read the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {raw!r}") from error


def _env_str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


@dataclass(frozen=True)
class ClinicContact:
    """Contact details shown when a user asks for a person (placeholders in the repo)."""

    name: str
    phone: str
    email: str
    hours: str
    booking_url: str


@dataclass(frozen=True)
class Settings:
    """All runtime settings of the action server."""

    database_url: str
    # Versioned data files (content, legal tables, ...) loaded into the database.
    data_dir: Path
    # Answer-level confidence gate over the FAQ topic ranking (nlp_pipeline.faq_topics): a
    # logistic regression over 43 keys spreads its probability, so 0.3 with a 0.1 lead is a
    # confident answer; closer calls get "Did you mean" (values chosen by cross-validation).
    answer_min_confidence: float
    answer_min_margin: float
    # Below this the question is treated as not understood (no guesses offered).
    answer_reject_below: float
    # Staff answer inspector (never on for website visitors).
    staff_inspector: bool
    clinic: ClinicContact = field(default_factory=lambda: ClinicContact("", "", "", "", ""))

    @property
    def content_dir(self) -> Path:
        """FAQ answer files."""
        return self.data_dir / "content"


def default_database_url() -> str:
    """SQLite file inside the project's var/ folder (created on demand)."""
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'faqbot.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once; tests call ``get_settings.cache_clear()``."""
    return Settings(
        database_url=_env_str("DATABASE_URL", default_database_url()),
        data_dir=Path(_env_str("DATA_DIR", str(PROJECT_ROOT / "data"))),
        answer_min_confidence=_env_float("ANSWER_MIN_CONFIDENCE", 0.3),
        answer_min_margin=_env_float("ANSWER_MIN_MARGIN", 0.1),
        answer_reject_below=_env_float("ANSWER_REJECT_BELOW", 0.15),
        staff_inspector=_env_str("STAFF_INSPECTOR", "off").lower() in {"1", "on", "true", "yes"},
        clinic=ClinicContact(
            name=_env_str("CLINIC_NAME", "Example Headache & Acupuncture Clinic"),
            phone=_env_str("CLINIC_PHONE", "+1 555 0100 (placeholder)"),
            email=_env_str("CLINIC_EMAIL", "frontdesk@clinic.example"),
            hours=_env_str("CLINIC_HOURS", "Mon-Fri 9:00-17:00"),
            booking_url=_env_str("CLINIC_BOOKING_URL", "https://clinic.example/book"),
        ),
    )
