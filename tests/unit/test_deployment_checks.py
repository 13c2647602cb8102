"""Start-up checks of issue 19, finding 5 (actions.settings.check_deployment) and the
body limit of finding 3 (server_plugins.guard.limit_request_size). Nothing connects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from actions.settings import (
    DeploymentConfigError,
    check_deployment,
    deployment_problems,
    looks_like_placeholder,
    server_processes,
)
from actions.store import manage
from server_plugins.guard import DEFAULT_REQUEST_MAX_SIZE, limit_request_size

VARIABLES = (
    "FAQBOT_ENV",
    "FAQBOT_REPLICAS",
    "SANIC_WORKERS",
    "REDIS_URL",
    "TRACKER_STORE_URL",
    "DATABASE_URL",
    "TELEGRAM_SECRET_TOKEN",
    "SANIC_REQUEST_MAX_SIZE",
)
REAL_TRACKER = "postgresql://faqbot:dummyZq8vK2xR4mT9@db.internal:5432/rasa_tracker"
REAL_DATABASE = "postgresql://faqbot:dummyZq8vK2xR4mT9@db.internal:5432/faqbot"
REAL_REDIS = "redis://:dummyHw3nB7pL1cD5@redis.internal:6379/1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def production(monkeypatch, **values: str) -> None:
    monkeypatch.setenv("FAQBOT_ENV", "production")
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    "value",
    [
        "<long-random-token>",
        "postgresql://faqbot:<postgres-password>@postgres:5432/faqbot",
        "redis://:<redis-password>@redis:6379/1",
        "changeme",
        "CHANGE-ME-please",
        "postgresql://faqbot:secret@db.example.com/faqbot",
        "redis://:password@redis:6379/1",
        "sk-example-123",
        "UNSET",
        "your-token-here",
    ],
)
def test_placeholders_are_recognised(value):
    assert looks_like_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        REAL_TRACKER,
        REAL_REDIS,
        "dummyZq8vK2xR4mT9dummyHw3nB7pL1cD5-_aa",
        "postgresql://faqbot@db.internal/faqbot",
    ],
)
def test_real_values_pass(value):
    assert not looks_like_placeholder(value)


def test_development_needs_nothing():
    assert deployment_problems("rasa") == []
    assert deployment_problems("actions") == []
    assert server_processes() == (1, 1)


def test_production_has_no_default_stores(monkeypatch):
    production(monkeypatch, FAQBOT_REPLICAS="1")
    with pytest.raises(DeploymentConfigError, match="TRACKER_STORE_URL is not set"):
        check_deployment("rasa")
    with pytest.raises(DeploymentConfigError, match="DATABASE_URL is not set.*TRACKER_STORE_URL is not set"):
        check_deployment("actions")


def test_production_refuses_placeholders_that_pass_a_shell_check(monkeypatch):
    """`${VAR:?}` only checks that a value is there: `<long-random-token>` passed it."""
    production(
        monkeypatch,
        TRACKER_STORE_URL="postgresql://faqbot:<postgres-password>@postgres:5432/rasa_tracker",
        REDIS_URL=REAL_REDIS,
        TELEGRAM_SECRET_TOKEN="<secret>",
    )
    problems = deployment_problems("rasa")
    assert problems == [
        "TELEGRAM_SECRET_TOKEN looks like a placeholder: put the real value in the deployment's secrets",
        "TRACKER_STORE_URL looks like a placeholder: put the real value in the deployment's secrets",
    ]


def test_production_accepts_real_values_and_ignores_the_helm_charts_unused_tokens(monkeypatch):
    production(
        monkeypatch,
        TRACKER_STORE_URL=REAL_TRACKER,
        DATABASE_URL=REAL_DATABASE,
        REDIS_URL=REAL_REDIS,
        RASA_TOKEN="UNSET",  # set by RasaHQ's chart, unused by our args
        JWT_SECRET="UNSET",
    )
    assert deployment_problems("rasa") == []
    assert deployment_problems("actions") == []


def test_test_passwords_with_example_are_fine_outside_production(monkeypatch):
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://u:example-pw@127.0.0.1/t")
    assert deployment_problems("rasa") == []


@pytest.mark.parametrize(
    ("environment", "lock", "tracker"),
    [
        ({"SANIC_WORKERS": "2"}, True, False),  # one SQLite file is shared by the workers
        ({"FAQBOT_REPLICAS": "2"}, True, True),
        ({"FAQBOT_ENV": "production"}, True, True),  # undeclared: may be several
        ({"FAQBOT_REPLICAS": "2", "REDIS_URL": REAL_REDIS}, False, True),
        ({"FAQBOT_REPLICAS": "2", "TRACKER_STORE_URL": "sqlite:///var/t.db"}, True, True),
        ({"FAQBOT_REPLICAS": "2", "REDIS_URL": REAL_REDIS, "TRACKER_STORE_URL": REAL_TRACKER}, False, False),
        (
            {"FAQBOT_ENV": "production", "FAQBOT_REPLICAS": "1", "TRACKER_STORE_URL": REAL_TRACKER},
            False,
            False,
        ),
    ],
)
def test_several_processes_need_redis_and_a_shared_tracker_store(monkeypatch, environment, lock, tracker):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    problems = " ".join(deployment_problems("rasa"))
    assert ("needs a shared lock store: set REDIS_URL" in problems) is lock
    assert ("needs a shared tracker store" in problems) is tracker


@pytest.mark.parametrize(
    ("name", "value"), [("FAQBOT_ENV", "prod"), ("FAQBOT_REPLICAS", "0"), ("SANIC_WORKERS", "x")]
)
def test_a_mistyped_setting_is_refused_not_ignored(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(DeploymentConfigError, match=name):
        check_deployment("rasa")


def test_the_action_servers_start_check_exits_2_and_says_why(monkeypatch, capsys):
    production(monkeypatch, DATABASE_URL=REAL_DATABASE, TRACKER_STORE_URL="<tracker-store-url>")
    assert manage.main(["check-environment"]) == 2
    assert "TRACKER_STORE_URL looks like a placeholder" in capsys.readouterr().err
    monkeypatch.setenv("TRACKER_STORE_URL", REAL_TRACKER)
    assert manage.main(["check-environment"]) == 0
    assert "environment OK for the action server (production)" in capsys.readouterr().out


def test_check_content_runs_without_the_deployment_check(monkeypatch):
    """The images run check-content at build time, before any secret exists."""
    production(monkeypatch)
    assert manage.main(["check-content"]) == 0


def test_the_body_limit_is_set_wherever_the_server_starts(monkeypatch):
    app = SimpleNamespace(config=SimpleNamespace(REQUEST_MAX_SIZE=100_000_000))  # Sanic's default
    limit_request_size(app)
    assert app.config.REQUEST_MAX_SIZE == DEFAULT_REQUEST_MAX_SIZE == 1_048_576
    # An explicit SANIC_REQUEST_MAX_SIZE (read by Sanic itself) is left as Sanic set it.
    monkeypatch.setenv("SANIC_REQUEST_MAX_SIZE", "2048")
    app = SimpleNamespace(config=SimpleNamespace(REQUEST_MAX_SIZE=2048))
    limit_request_size(app)
    assert app.config.REQUEST_MAX_SIZE == 2048
