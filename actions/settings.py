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

from lexicon import PROJECT_ROOT


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {raw!r}") from error


def env_positive_int(name: str, default: int | None, what: str = "a whole number") -> int | None:
    """A whole number of at least 1 from ``name``; ``default`` when unset or blank."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from error
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


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


def tracker_store_url() -> str:
    """TRACKER_STORE_URL (the Rasa server's tracker store, read by forget-me, the purge and
    the staff report too), or endpoints.yml's local default: SQLite ``var/tracker.db``."""
    return (
        os.environ.get("TRACKER_STORE_URL") or ""
    ).strip() or f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"


@dataclass(frozen=True)
class SafetySettings:
    """Privacy settings of forget-me and the retention purge (actions.safety)."""

    # Must be the database of the tracker store in endpoints.yml.
    tracker_store_url: str
    # Conversations are deleted this many days after their last message.
    retention_days: int
    # How long forget-me waits for Rasa to save the turn, then keeps watching
    # for a copy re-saved by a message that was already being processed.
    forget_wait_seconds: float = 30.0
    forget_watch_seconds: float = 10.0
    poll_seconds: float = 0.2
    # A failed deletion is retried after this pause, doubled each time up to the maximum.
    forget_retry_seconds: float = 1.0
    forget_retry_max_seconds: float = 60.0


@lru_cache(maxsize=1)
def get_safety_settings() -> SafetySettings:
    """Read TRACKER_STORE_URL and CONVERSATION_RETENTION_DAYS once (tests clear the cache)."""
    url = tracker_store_url()
    days = env_positive_int("CONVERSATION_RETENTION_DAYS", 30) or 30
    return SafetySettings(tracker_store_url=url, retention_days=days)


DEFAULT_LEGAL_MAX_AGE_MONTHS = 12


def legal_max_age_months() -> int:
    """LEGAL_MAX_AGE_MONTHS (default 12): how old a legal row's verification may be before
    it counts as stale."""
    default = DEFAULT_LEGAL_MAX_AGE_MONTHS
    return env_positive_int("LEGAL_MAX_AGE_MONTHS", default, "a whole number of months") or default


def database_statement_timeout() -> float:
    """DATABASE_STATEMENT_TIMEOUT_SECONDS (default 10): PostgreSQL cancels a query that runs
    longer, so a hung query cannot hold a worker or a conversation's lock (the deploy
    files give the daily purge job 600 s)."""
    seconds = _env_float("DATABASE_STATEMENT_TIMEOUT_SECONDS", 10.0)
    if seconds <= 0:
        raise ValueError(f"DATABASE_STATEMENT_TIMEOUT_SECONDS must be positive, got {seconds}")
    return seconds


# ---------------------------------------------------------------- Rasa server (server_plugins)
# Read at each call, not cached: the plugins call them once at start-up (tests change them).
def redis_url() -> str:
    """REDIS_URL: the shared lock store; empty when unset (in-memory locks)."""
    return (os.environ.get("REDIS_URL") or "").strip()


def redis_lock_prefix() -> str:
    """REDIS_LOCK_PREFIX (default "faqbot"): the lock store's key prefix, as given."""
    return os.environ.get("REDIS_LOCK_PREFIX", "faqbot")


def redis_socket_timeout() -> float:
    """REDIS_SOCKET_TIMEOUT seconds (default 5) of the lock store's Redis connections."""
    return float(os.environ.get("REDIS_SOCKET_TIMEOUT", "5"))


def _lenient_float(name: str, default: float) -> float:
    """``name`` as a number; ``default`` when unset or not a number."""
    try:
        return float(os.environ.get(name, str(default)))
    except ValueError:
        return default


def tracker_store_retry_seconds() -> float:
    """TRACKER_STORE_RETRY_SECONDS (default 15): how long tracker reads and writes retry."""
    return _lenient_float("TRACKER_STORE_RETRY_SECONDS", 15.0)


def action_timeout_seconds() -> float:
    """ACTION_TIMEOUT_SECONDS (default 20): the Rasa server's cap on an action-server call."""
    return _lenient_float("ACTION_TIMEOUT_SECONDS", 20.0)


def max_message_chars() -> int:
    """Longest message passed to NLU (env MAX_MESSAGE_CHARS, default 1000)."""
    try:
        return max(1, int(os.environ.get("MAX_MESSAGE_CHARS", "1000")))
    except ValueError:
        return 1000


def request_max_size_set() -> bool:
    """Whether SANIC_REQUEST_MAX_SIZE is set (Sanic reads the value itself)."""
    return bool(os.environ.get("SANIC_REQUEST_MAX_SIZE", "").strip())


def speedups_enabled() -> bool:
    """FAQBOT_SPEEDUPS (default on): 0/false/no/off turns the Rasa speed-ups off (to measure them)."""
    return os.environ.get("FAQBOT_SPEEDUPS", "1").strip().lower() not in ("0", "false", "no", "off")


# ---------------------------------------------------------------- deployment checks
# Both servers and the data commands call these at start-up (issue 19, finding 5).
# Production is what the images declare: FAQBOT_ENV=production (deploy/Dockerfile.*,
# docker-compose.yml, helm/values.yaml); `make run` and the tests leave it unset.
PRODUCTION = "production"
DEVELOPMENT = "development"

# Variables holding credentials or addresses of this project's services (the two
# passwords are compose's, in the same env file): never a
# placeholder in production. The Helm chart's own RASA_TOKEN / JWT_SECRET are unused
# (our `args` replace the chart's) and hold "UNSET", so they are deliberately not here.
STORE_URL_VARIABLES = (
    "TRACKER_STORE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
)
SECRET_PREFIXES = (
    "TELEGRAM_",
    "SLACK_",
    "FACEBOOK_",
    "TWILIO_",
    "WEBCHAT_",
    "SOCKETIO_",
    "FAQBOT_",
    "RASA_AUTH_",
)
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_KEY", "_SID")
# Fragments of the placeholders in deploy/.env.example, the docs and the usual "fill me in"
# values; "example" is also in every test password, which is why only production checks.
PLACEHOLDER_FRAGMENTS = (
    "<",
    ">",
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "replace-me",
    "your-",
)
PLACEHOLDER_VALUES = frozenset(
    {"secret", "password", "token", "unset", "none", "null", "todo", "xxx", "test"}
)


class DeploymentConfigError(ValueError):
    """The environment asks for a set-up that would fail silently: refuse to start."""


def deployment_mode() -> str:
    """FAQBOT_ENV: ``production`` or ``development`` (unset); anything else is refused,
    so that a typo such as "prod" cannot switch the checks off."""
    raw = (os.environ.get("FAQBOT_ENV") or "").strip().lower() or DEVELOPMENT
    if raw not in (PRODUCTION, DEVELOPMENT):
        raise DeploymentConfigError(f"FAQBOT_ENV must be {PRODUCTION!r} or {DEVELOPMENT!r}, got {raw!r}")
    return raw


def server_processes() -> tuple[int, int | None]:
    """(SANIC_WORKERS, FAQBOT_REPLICAS) of the Rasa server. The replica count is what the
    deployment declares; unset means 1 in development and *unknown* in production, where
    it is then treated as several (a `--scale` or an autoscaler cannot fool the check)."""
    try:
        workers = env_positive_int("SANIC_WORKERS", 1) or 1
        replicas = env_positive_int("FAQBOT_REPLICAS", None)
    except ValueError as error:
        raise DeploymentConfigError(str(error)) from error
    if replicas is None and deployment_mode() == DEVELOPMENT:
        replicas = 1
    return workers, replicas


def looks_like_placeholder(value: str) -> bool:
    """True for ``<long-random-token>``, ``changeme``, ``...example...``, ``secret``, and URLs
    whose password or host is one of those."""
    lowered = value.strip().lower()
    if any(fragment in lowered for fragment in PLACEHOLDER_FRAGMENTS) or lowered in PLACEHOLDER_VALUES:
        return True
    if "://" in lowered:
        from urllib.parse import unquote, urlsplit

        try:
            password = urlsplit(lowered).password
        except ValueError:
            return False
        return password is not None and unquote(password) in PLACEHOLDER_VALUES
    return False


def _secret_names(environ: dict[str, str]) -> list[str]:
    return sorted(
        name
        for name in environ
        if name in STORE_URL_VARIABLES
        or (name.startswith(SECRET_PREFIXES) and name.endswith(SECRET_SUFFIXES))
    )


def _is_sqlite(url: str) -> bool:
    return url.strip().lower().startswith("sqlite")


def deployment_problems(role: str) -> list[str]:
    """What stops ``role`` ("rasa" server or "actions" server) from starting safely, one
    sentence each; empty when it may start."""
    problems: list[str] = []
    environ = dict(os.environ)
    production = deployment_mode() == PRODUCTION
    tracker_url = (environ.get("TRACKER_STORE_URL") or "").strip()
    if role == "rasa":
        workers, replicas = server_processes()
        several = workers > 1 or replicas is None or replicas > 1
        described = f"SANIC_WORKERS={workers}, FAQBOT_REPLICAS={replicas if replicas else 'unset'}"
        if several and not (environ.get("REDIS_URL") or "").strip():
            # Each process would lock only its own copy of a conversation.
            problems.append(f"{described} needs a shared lock store: set REDIS_URL (or run one process)")
        if (replicas is None or replicas > 1) and (not tracker_url or _is_sqlite(tracker_url)):
            # Each replica would keep its own SQLite file of conversations.
            problems.append(
                f"{described} needs a shared tracker store: set TRACKER_STORE_URL to PostgreSQL "
                "(or declare FAQBOT_REPLICAS=1)"
            )
    required = {"rasa": ("TRACKER_STORE_URL",), "actions": ("DATABASE_URL", "TRACKER_STORE_URL")}[role]
    if production:
        for name in required:
            if not (environ.get(name) or "").strip():
                problems.append(f"{name} is not set (FAQBOT_ENV=production has no defaults)")
        for name in _secret_names(environ):
            if environ[name].strip() and looks_like_placeholder(environ[name]):
                problems.append(
                    f"{name} looks like a placeholder: put the real value in the deployment's secrets"
                )
    return problems


def check_deployment(role: str) -> None:
    """Raise :class:`DeploymentConfigError` listing every problem of :func:`deployment_problems`."""
    problems = deployment_problems(role)
    if problems:
        raise DeploymentConfigError(f"refusing to start the {role} server: " + "; ".join(problems))
