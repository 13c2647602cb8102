"""The deployment files, loaded and checked for what issue 19 fixes (findings 3, 5, 7).

No Docker engine or cluster here: the compose file, the Helm values, the purge CronJob,
the Dockerfiles and nginx.conf are read as data, and the environment each container
would get is run through the same start-up check the servers run
(actions.settings.deployment_problems). Starting the stack is a manual check
(docs/deployment.md, "Manual check of the compose stack").
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from actions.settings import deployment_problems
from server_plugins.guard import DEFAULT_REQUEST_MAX_SIZE

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# What a clinic puts into deploy/.env / the Secret instead of the placeholders.
REAL = {
    "postgres-password": "dummyZq8vK2xR4mT9",
    "redis-password": "dummyHw3nB7pL1cD5",
    "tracker-store-url": "postgresql://faqbot:dummyZq8vK2xR4mT9@db.internal:5432/rasa_tracker",
    "database-url": "postgresql://faqbot:dummyZq8vK2xR4mT9@db.internal:5432/faqbot",
    "redis-url": "redis://:dummyHw3nB7pL1cD5@redis.internal:6379/1",
    "webchat-session-secret": "dummyVt5rN8qW2zK7mP4xB9cJ6hL3dF1gS0yAe",
}


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(DEPLOY / "docker-compose.yml")


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    return load(DEPLOY / "helm" / "values.yaml")


@pytest.fixture(scope="module")
def cronjob() -> dict[str, Any]:
    return load(DEPLOY / "helm" / "purge-cronjob.yaml")


def env_example() -> dict[str, str]:
    """The active NAME=value lines of deploy/.env.example (as compose's env_file reads them)."""
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def dockerfile_env(name: str) -> dict[str, str]:
    text = (DEPLOY / name).read_text().replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", text, re.M):
        found.update(pair.split("=", 1) for pair in shlex.split(line))
    return found


def helm_env(items: list[dict[str, Any]], secrets: dict[str, str]) -> dict[str, str]:
    """A container's environment from a list of env entries, Secret keys resolved from ``secrets``."""
    resolved = {}
    for item in items:
        if "value" in item:
            resolved[item["name"]] = str(item["value"])
        else:
            resolved[item["name"]] = secrets[item["valueFrom"]["secretKeyRef"]["key"]]
    return resolved


def problems_with(monkeypatch, environment: dict[str, str], role: str) -> list[str]:
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return deployment_problems(role)


def compose_environment(
    compose: dict[str, Any], service: str, image: str, dot_env: dict[str, str]
) -> dict[str, str]:
    """Image ENV, then env_file, then `environment` (compose's order of precedence)."""
    definition = compose["services"][service]
    assert definition["env_file"] == ".env"
    return {
        **dockerfile_env(image),
        **dot_env,
        **{k: str(v) for k, v in definition.get("environment", {}).items()},
    }


def with_real_values(dot_env: dict[str, str]) -> dict[str, str]:
    def fill(value: str) -> str:
        return re.sub(r"<([a-z-]+)>", lambda m: REAL.get(m.group(1), "Qm4fT8sV2bN6"), value)

    return {
        name: fill(value).replace("@postgres:", "@db.internal:").replace("@redis:", "@redis.internal:")
        for name, value in dot_env.items()
    }


# ---------------------------------------------------------------- finding 5: required variables, placeholders
@pytest.mark.parametrize(
    ("service", "image", "role"),
    [
        ("rasa", "Dockerfile.rasa", "rasa"),
        ("actions", "Dockerfile.actions", "actions"),
        ("purge-conversations", "Dockerfile.actions", "actions"),
    ],
)
def test_compose_containers_refuse_the_example_placeholders_and_start_with_real_values(
    monkeypatch, compose, service, image, role
):
    placeholders = compose_environment(compose, service, image, env_example())
    assert placeholders["FAQBOT_ENV"] == "production"
    refused = problems_with(monkeypatch, placeholders, role)
    expected = {"rasa": ["REDIS_URL", "TRACKER_STORE_URL"], "actions": ["DATABASE_URL", "TRACKER_STORE_URL"]}[
        role
    ]
    for name in expected:
        assert any(p.startswith(f"{name} looks like a placeholder") for p in refused), (name, refused)
    assert (
        problems_with(
            monkeypatch, compose_environment(compose, service, image, with_real_values(env_example())), role
        )
        == []
    )


@pytest.mark.parametrize("missing", ["REDIS_URL", "TRACKER_STORE_URL"])
def test_compose_replicas_refuse_to_start_without_redis_or_a_shared_tracker_store(
    monkeypatch, compose, missing
):
    environment = compose_environment(compose, "rasa", "Dockerfile.rasa", with_real_values(env_example()))
    del environment[missing]
    assert problems_with(monkeypatch, environment, "rasa"), missing


def test_helm_containers_refuse_placeholder_secrets_and_start_with_real_ones(monkeypatch, helm, cronjob):
    placeholder_secrets = {key: f"<{key}>" for key in REAL}
    containers = {
        "rasa": ({**dockerfile_env("Dockerfile.rasa")}, helm["extraEnv"]),
        "actions": ({**dockerfile_env("Dockerfile.actions")}, helm["rasa-action-server"]["extraEnv"]),
        "purge": ({}, cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]),
    }
    for name, (image_env, items) in containers.items():
        role = "rasa" if name == "rasa" else "actions"
        assert problems_with(monkeypatch, {**image_env, **helm_env(items, placeholder_secrets)}, role), name
        assert problems_with(monkeypatch, {**image_env, **helm_env(items, REAL)}, role) == [], name


def test_env_example_has_no_api_token_and_every_secret_is_a_placeholder():
    example = env_example()
    assert "RASA_AUTH_TOKEN" not in example
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"):
        assert "<" in example[name], name


# ---------------------------------------------------------------- finding 5: the action server's stores
def test_the_action_server_gets_the_rasa_servers_tracker_store(compose, helm):
    """Forget me deletes from the tracker store: in Helm the action server had only
    DATABASE_URL and looked in a SQLite file of its own."""
    rasa = {item["name"]: item for item in helm["extraEnv"]}
    actions = {item["name"]: item for item in helm["rasa-action-server"]["extraEnv"]}
    assert actions["TRACKER_STORE_URL"]["valueFrom"] == rasa["TRACKER_STORE_URL"]["valueFrom"]
    assert actions["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
    assert actions["FAQBOT_ENV"]["value"] == "production"
    # compose: the same env file for both servers, which defines both URLs.
    assert compose["services"]["actions"]["env_file"] == compose["services"]["rasa"]["env_file"] == ".env"
    assert {"TRACKER_STORE_URL", "DATABASE_URL", "CONVERSATION_RETENTION_DAYS"} <= set(env_example())


def test_the_action_server_image_checks_its_environment_before_it_starts():
    dockerfile = (DEPLOY / "Dockerfile.actions").read_text()
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M)
    assert entrypoint is not None
    assert "python -m actions.store.manage check-environment && exec rasa" in entrypoint.group(1)


# ---------------------------------------------------------------- finding 5: the purge job
def test_compose_purges_expired_conversations_every_day(compose):
    purge = compose["services"]["purge-conversations"]
    script = purge["command"][0]
    assert purge["entrypoint"] == ["sh", "-c"] and script.startswith("while :; do")
    assert (
        "python -m actions.store.manage purge-conversations ||" in script
    )  # a failure does not stop the loop
    assert 'sleep "$$PURGE_INTERVAL_SECONDS"' in script
    assert purge["environment"]["PURGE_INTERVAL_SECONDS"] == "86400"
    assert purge["restart"] == "unless-stopped"
    assert "backend" in purge["networks"]


def test_helm_purge_cronjob_runs_daily_with_the_action_servers_retention(helm, cronjob):
    assert cronjob["kind"] == "CronJob" and cronjob["apiVersion"] == "batch/v1"
    minute, hour, day, month, weekday = cronjob["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "actions.store.manage", "purge-conversations"]
    assert container["image"].split(":")[0] == helm["rasa-action-server"]["image"]["repository"]
    env = {item["name"]: item for item in container["env"]}
    actions = {item["name"]: item for item in helm["rasa-action-server"]["extraEnv"]}
    assert env["TRACKER_STORE_URL"]["valueFrom"] == actions["TRACKER_STORE_URL"]["valueFrom"]
    assert env["CONVERSATION_RETENTION_DAYS"]["value"] == actions["CONVERSATION_RETENTION_DAYS"]["value"]


# ---------------------------------------------------------------- finding 5: replicas, no API
def test_the_declared_replica_count_matches_the_deployment(compose, helm):
    rasa = compose["services"]["rasa"]
    assert rasa["environment"]["FAQBOT_REPLICAS"] == rasa["deploy"]["replicas"] >= 2
    env = {item["name"]: item.get("value") for item in helm["extraEnv"]}
    assert env["FAQBOT_ENV"] == "production"
    assert int(env["FAQBOT_REPLICAS"]) == helm["replicaCount"] >= 2


def test_no_enable_api_anywhere_the_server_starts(compose, helm):
    script = compose["services"]["rasa"]["command"][0]
    cmd = re.search(r"^CMD (.+)$", (DEPLOY / "Dockerfile.rasa").read_text(), re.M | re.S)
    assert cmd is not None
    for where, text in (("compose", script), ("helm", " ".join(helm["args"])), ("image", cmd.group(1))):
        assert "--enable-api" not in text and "--auth-token" not in text, where
    assert helm["applicationSettings"]["enableAPI"] is False
    assert "RASA_AUTH_TOKEN" not in {item["name"] for item in helm["extraEnv"]}


# ---------------------------------------------------------------- finding 3: the body limit
def test_the_body_limit_is_set_wherever_the_server_starts(compose, helm):
    limit = str(DEFAULT_REQUEST_MAX_SIZE)
    assert dockerfile_env("Dockerfile.rasa")["SANIC_REQUEST_MAX_SIZE"] == limit
    assert compose["services"]["rasa"]["environment"]["SANIC_REQUEST_MAX_SIZE"] == limit
    assert {item["name"]: item.get("value") for item in helm["extraEnv"]}["SANIC_REQUEST_MAX_SIZE"] == limit
    assert re.search(rf"^export SANIC_REQUEST_MAX_SIZE := {limit}$", (ROOT / "Makefile").read_text(), re.M)
    # Any other start (`rasa run` by hand, the tests' servers): the REST channel's listener.
    assert "limit_request_size" in (ROOT / "channels" / "rest.py").read_text()


# ---------------------------------------------------------------- finding 7: nginx
def nginx_blocks(text: str) -> list[Any]:
    """nginx.conf as nested lists: a directive is a list of words; a block is
    (words, [its contents])."""
    tokens = re.findall(r'"[^"]*"|[{};]|[^\s{};"]+', re.sub(r"#[^\n]*", "", text))
    stack: list[list[Any]] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append(words)
            words = []
        elif token == "{":
            block: list[Any] = []
            stack[-1].append((words, block))
            stack.append(block)
            words = []
        elif token == "}":
            stack.pop()
        else:
            words.append(token)
    return stack[0]


def directives(block: list[Any], name: str) -> list[list[str]]:
    return [item[1:] for item in block if isinstance(item, list) and item and item[0] == name]


def child(block: list[Any], *words: str) -> list[Any]:
    found = [
        contents
        for item in block
        if isinstance(item, tuple)
        for head, contents in [item]
        if tuple(head) == words
    ]
    assert len(found) == 1, words
    return found[0]


@pytest.fixture(scope="module")
def nginx() -> tuple[list[Any], list[Any]]:
    http = child(nginx_blocks((DEPLOY / "nginx.conf").read_text()), "http")
    return http, child(http, "server")


def test_nginx_takes_the_client_address_from_a_trusted_load_balancer_only(nginx):
    http, _ = nginx
    trusted = [words[0] for words in directives(http, "set_real_ip_from")]
    assert trusted and all(address not in ("0.0.0.0/0", "::/0") for address in trusted)
    assert directives(http, "real_ip_header") == [["X-Forwarded-For"]]
    assert directives(http, "real_ip_recursive") == [["on"]]
    text = (DEPLOY / "nginx.conf").read_text()
    assert "Replace 10.0.0.0/8 (a placeholder) with your load" in text


def test_nginx_gives_the_signed_platform_webhooks_their_own_zone(nginx):
    from channels.facebook import FacebookInput
    from channels.slack import SlackInput
    from channels.telegram import TelegramInput
    from channels.twilio import TwilioInput

    http, server = nginx
    zones = {words[1].split("=")[1].split(":")[0]: words for words in directives(http, "limit_req_zone")}
    assert {"chat", "platforms"} <= set(zones)
    pattern = "^/webhooks/(telegram|slack|facebook|twilio)/webhook$"
    location = child(server, "location", "~", pattern)
    routed = set(pattern.split("(")[1].split(")")[0].split("|"))
    assert routed == {channel.name() for channel in (TelegramInput, SlackInput, FacebookInput, TwilioInput)}
    assert directives(location, "limit_req")[0][0] == "zone=platforms"
    assert directives(location, "proxy_pass") == [["http://rasa"]]
    # Everything else under /webhooks/ (the public REST channel) stays in the chat zone.
    assert directives(child(server, "location", "/webhooks/"), "limit_req")[0][0] == "zone=chat"
    # The platforms' zone allows more than a visitor's.
    rate = {name: int(words[-1].split("=")[1].rstrip("r/s")) for name, words in zones.items()}
    assert rate["platforms"] > rate["chat"]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.rasa", "Dockerfile.actions"])
def test_dependency_layer_stubs_every_package_pyproject_lists(dockerfile):
    """The cached install step runs before the code is copied: each listed package needs its stub."""
    text = (DEPLOY / dockerfile).read_text()
    stubbed = re.search(r"for package in ([^;]+); do", text)
    assert stubbed is not None
    listed = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S | re.M)
    assert listed is not None
    packages = {name.replace(".", "/") for name in re.findall(r'"([\w.]+)"', listed.group(1))}
    assert set(stubbed.group(1).split()) == packages
    # ... and the list names every package folder the code has under those top-level packages.
    tops = {name.split("/")[0] for name in packages}
    on_disk = {
        str(init.parent.relative_to(ROOT)) for top in tops for init in (ROOT / top).glob("**/__init__.py")
    }
    assert on_disk == packages
