"""Security of the HTTP surface, against the real servers, and no secrets in the repository.

A Rasa server started as in production (docs/deployment.md): ``--enable-api``
with ``--auth-token`` and ``--cors`` limited to one origin. Everything under the
HTTP API needs the token; the channel webhooks stay public by design (they are
protected by their own checks and by the proxy's rate limits); CORS answers only
the configured origin. Without ``--enable-api`` (what `make run` does) the API
does not exist at all.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from channels.base import REST, conversation_id
from tests.e2e.conftest import MODEL, PROJECT_ROOT, start_servers

ALLOWED_ORIGIN = "http://allowed.example"
FOREIGN_ORIGIN = "http://evil.example"


@dataclass
class ApiServer:
    url: str
    token: str
    log: Path

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one request; ``token`` goes in ``?token=`` as Rasa expects."""
        url = f"{self.url}{path}"
        if token is not None:
            url += ("&" if "?" in url else "?") + f"token={token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:  # closes the connection (else: ResourceWarning, an error here)
                return error.code, dict(error.headers), error.read()

    def say(self, sender: str, message: str) -> list[dict]:
        status, _, body = self.request(
            "POST", "/webhooks/rest/webhook", body={"sender": sender, "message": message}
        )
        assert status == 200, body[:300]
        return json.loads(body)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> Iterator[ApiServer]:
    """Action server + a Rasa server with the API on, a random token and one CORS origin."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    # Starts with "-" on purpose: token_urlsafe gives one in 64 such tokens, and
    # "--auth-token <token>" then fails to parse; the =-form always works.
    token = "-" + secrets.token_urlsafe(24)
    servers = start_servers(
        tmp_path_factory.mktemp("secure_bot"),
        copy_data=False,
        rasa_args=("--enable-api", f"--auth-token={token}", "--cors", ALLOWED_ORIGIN),
    )
    try:
        yield ApiServer(servers.rasa_url, token, servers.rasa.log)
    finally:
        servers.stop()


def new_user() -> str:
    return f"sec-{uuid.uuid4().hex[:8]}"


# Every route Rasa 3.6 adds with --enable-api, each with a harmless body: all need the token.
PROTECTED = [
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("GET", "/conversations/{sender}/tracker", None),
    ("GET", "/conversations/{sender}/story", None),
    ("POST", "/conversations/{sender}/tracker/events", {"event": "slot", "name": "x", "value": 1}),
    ("PUT", "/conversations/{sender}/tracker/events", []),
    ("POST", "/conversations/{sender}/messages", {"text": "hi", "sender": "user"}),
    ("POST", "/conversations/{sender}/execute", {"name": "utter_greet"}),
    ("POST", "/conversations/{sender}/trigger_intent", {"name": "greet"}),
    ("POST", "/conversations/{sender}/predict", None),
    ("POST", "/model/parse", {"text": "what is acupuncture"}),
    ("POST", "/model/train", {}),
    ("POST", "/model/predict", []),
    ("POST", "/model/test/intents", {}),
    ("POST", "/model/test/stories", {}),
    ("PUT", "/model", {"model_file": "/tmp/other.tar.gz"}),
    ("DELETE", "/model", None),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_every_api_route_refuses_requests_without_the_token(api_server, method, path, body):
    sender = new_user()
    api_server.say(sender, "hello")
    route = path.format(sender=conversation_id(REST, sender))
    for token in (None, "", "wrong-" + api_server.token):
        status, _, response = api_server.request(method, route, token=token, body=body)
        assert status in (401, 403), (method, route, token, status, response[:200])


@pytest.mark.e2e
def test_status_and_tracker_answer_with_the_token(api_server):
    sender = new_user()
    api_server.say(sender, "what is acupuncture?")
    status, _, body = api_server.request("GET", "/status", token=api_server.token)
    assert status == 200
    assert json.loads(body)["model_file"]
    conversation = conversation_id(REST, sender)  # the REST visitor's conversation
    status, _, body = api_server.request(
        "GET", f"/conversations/{conversation}/tracker", token=api_server.token
    )
    assert status == 200
    tracker = json.loads(body)
    assert tracker["sender_id"] == conversation
    assert any(event.get("text") == "what is acupuncture?" for event in tracker["events"])


@pytest.mark.e2e
def test_the_rest_webhook_is_public_by_design(api_server):
    replies = api_server.say(new_user(), "what is acupuncture?")
    assert replies and replies[0]["text"].startswith("Acupuncture is a treatment")


@pytest.mark.e2e
def test_only_the_root_and_version_routes_are_public(api_server):
    assert api_server.request("GET", "/")[0] == 200
    status, _, body = api_server.request("GET", "/version")
    assert status == 200
    assert set(json.loads(body)) == {"version", "minimum_compatible_version"}


@pytest.mark.e2e
def test_the_token_never_reaches_the_log(api_server):
    api_server.request("GET", "/status", token=api_server.token)
    api_server.request("GET", "/status", token="wrong-" + api_server.token)
    assert api_server.token not in api_server.log.read_text(errors="replace")


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/"])
def test_cors_preflight_answers_only_the_configured_origin(api_server, path):
    def preflight(origin: str) -> dict[str, str]:
        status, headers, _ = api_server.request(
            "OPTIONS",
            path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST" if "webhook" in path else "GET",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert status in (200, 204), status
        return {key.lower(): value for key, value in headers.items()}

    assert preflight(ALLOWED_ORIGIN).get("access-control-allow-origin") == ALLOWED_ORIGIN
    assert "access-control-allow-origin" not in preflight(FOREIGN_ORIGIN)


@pytest.mark.e2e
def test_cors_headers_on_a_real_request_only_for_the_configured_origin(api_server):
    def allow_origin(origin: str) -> str | None:
        status, headers, _ = api_server.request(
            "POST",
            "/webhooks/rest/webhook",
            body={"sender": new_user(), "message": "hello"},
            headers={"Origin": origin},
        )
        assert status == 200
        return {key.lower(): value for key, value in headers.items()}.get("access-control-allow-origin")

    assert allow_origin(ALLOWED_ORIGIN) == ALLOWED_ORIGIN
    assert allow_origin(FOREIGN_ORIGIN) is None


@pytest.mark.e2e
def test_without_enable_api_the_api_does_not_exist(bot):
    """`make run` (and the shared e2e bot) start Rasa without --enable-api."""
    for path in ("/status", "/conversations/someone/tracker", "/domain"):
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(f"{bot.rasa_url}{path}", timeout=30)
        raised.value.close()
        assert raised.value.code == 404, path
    request = urllib.request.Request(
        f"{bot.rasa_url}/model/parse",
        data=b'{"text": "hi"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    raised.value.close()
    assert raised.value.code in (404, 405)


# ---------------------------------------------------------------- secrets in the repository
SECRET_PATTERNS = {
    "private key": re.compile(
        r"-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
    ),
    "Slack token": re.compile(r"\bxox[abposr]-\d{6,}-[0-9A-Za-z-]{8,}"),
    "Slack webhook URL": re.compile(
        r"hooks\.slack\.com/services/T[0-9A-Z]{6,}/B[0-9A-Z]{6,}/[0-9A-Za-z]{12,}"
    ),
    "Facebook access token": re.compile(r"\bEAA[0-9A-Za-z]{30,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[0-9A-Za-z/+]{40}\b", re.I),
    "GitHub token": re.compile(r"\bgh[pousr]_[0-9A-Za-z]{36,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe live key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}\b"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:AA[0-9A-Za-z_\-]{33}\b"),
}
# password=<value> / password: <value> in config files; quoted password literals anywhere.
CONFIG_SUFFIXES = {".yml", ".yaml", ".env", ".ini", ".cfg", ".conf", ".toml", ".properties", ".example"}
CONFIG_PASSWORD = re.compile(r"\b(?:password|passwd|pwd)\s*[=:]\s*['\"]?([^\s'\",}]+)", re.I)
QUOTED_PASSWORD = re.compile(r"\b(?:password|passwd|pwd)\s*[=:]\s*(['\"])([^'\"]*)\1", re.I)
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:([^\s@/'\"]+)@", re.I)
PLACEHOLDER = re.compile(
    r"^(?:|\$.*|<.*|\{\{.*\}\}|\*+|\.+|x+|pass|password|secret|changeme|change-me|change_me|example"
    r"|placeholder|redacted|none|null|unset|\[.*)$|example|placeholder|changeme|change-me|dummy|^test|^fake",
    re.I,
)


def repository_files() -> list[Path]:
    """Tracked files plus new files not ignored (so a secret is caught before its commit)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout: {error}")
    return sorted({PROJECT_ROOT / name for name in listed.decode().split("\0") if name})


def secret_findings(path: Path, text: str) -> list[str]:
    findings = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for kind, pattern in SECRET_PATTERNS.items():
            if pattern.search(line):
                findings.append(f"{where}: looks like a {kind}")
        values = [m.group(1) for m in URL_PASSWORD.finditer(line)]
        values += [m.group(2) for m in QUOTED_PASSWORD.finditer(line)]
        if path.suffix in CONFIG_SUFFIXES or path.name.startswith(".env"):
            values += [m.group(1) for m in CONFIG_PASSWORD.finditer(line)]
        for value in values:
            if not PLACEHOLDER.search(value):
                findings.append(f"{where}: a password that is not a placeholder")
    return findings


def test_no_file_in_the_repository_holds_a_secret():
    findings = []
    files = repository_files()
    assert files, "git listed no files"
    for path in files:
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        if path.name == ".env" or (path.name.startswith(".env.") and not path.name.endswith(".example")):
            findings.append(f"{path.relative_to(PROJECT_ROOT)}: an environment file belongs outside the repo")
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue  # binary
        findings += secret_findings(path, raw.decode("utf-8", errors="replace"))
    assert not findings, "\n".join(findings)


# The secret-looking samples are built from pieces so that this file passes its own check.
@pytest.mark.parametrize(
    ("line", "suffix", "found"),
    [
        ("key: -----BEGIN RSA " + "PRIVATE KEY-----", ".txt", True),
        ("SLACK_BOT_TOKEN=xox" + "b-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", ".sh", True),
        ("token = 'EAA" + "Gm0PX4ZCpsBAKZCZBdzZCZBm1ZA2ZBZCvZB7ZA0qZAZBZBZCuZCZA'", ".py", True),
        ("aws_access_key_id = AKIA" + "IOSFODNN7ABCDEFG", ".cfg", True),
        ("url: postgresql://rasa:s3cr3t-" + "Value@db:5432/rasa", ".yml", True),
        ("  password: hunter2", ".yml", True),
        ('connect(password="hun' + 'ter2")', ".py", True),
        ('SLACK_TOKEN = "xoxb-test-token"', ".py", False),
        ("postgresql://user:pass@host:5432/rasa", ".yml", False),
        ("TRACKER_STORE_URL=postgresql://faqbot:${POSTGRES_PASSWORD}@postgres:5432/faqbot", ".yml", False),
        ("POSTGRES_PASSWORD=change-me", ".example", False),
        ("  password: <from your secret store>", ".yml", False),
        ("password=url.password,", ".py", False),
        ("redis://[:password@]host[:port][/db]", ".py", False),
    ],
)
def test_the_secret_check_tells_secrets_from_placeholders(line, suffix, found):
    path = PROJECT_ROOT / f"example{suffix}"
    assert bool(secret_findings(path, line)) is found


# ---------------------------------------------------------------- deployment files
DEPLOY = PROJECT_ROOT / "deploy"


def load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def rasa_run_args(argv: list[str]) -> Any:
    """Parse a `rasa run ...` command line with Rasa's own parser (unknown flags fail)."""
    from rasa.__main__ import create_argument_parser

    return create_argument_parser().parse_args(argv)


def compose_rasa_argv() -> list[str]:
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    script = compose["services"]["rasa"]["command"][0]
    command = script.split("exec ", 1)[1]
    return shlex.split(command.replace("$$", "$"))[1:]  # without the leading "rasa"


# pykwalify (Rasa's YAML validation) loads its extensions with a deprecated importlib call.
@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")
def test_deploy_endpoints_use_the_same_plugins_as_the_repository(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    repository = load_yaml(PROJECT_ROOT / "endpoints.yml")
    monkeypatch.setenv("ACTION_SERVER_URL", "http://actions:5055/webhook")
    deployed = AvailableEndpoints.read_endpoints(str(DEPLOY / "endpoints.yml"))
    assert deployed.action.url == "http://actions:5055/webhook"  # ${...} expanded by Rasa
    assert deployed.action.kwargs["enable_selective_domain"] is True
    assert repository["action_endpoint"]["enable_selective_domain"] is True
    assert deployed.tracker_store.type == repository["tracker_store"]["type"]
    assert deployed.lock_store.type == repository["lock_store"]["type"]

    helm = load_yaml(DEPLOY / "helm" / "values.yaml")["applicationSettings"]["endpoints"]
    assert helm["trackerStore"]["type"] == repository["tracker_store"]["type"]
    assert helm["lockStore"]["type"] == repository["lock_store"]["type"]
    # The chart's ${DB_*} / ${REDIS_*} keys are removed (null), the plug-ins read the env.
    assert {k: v for k, v in helm["trackerStore"].items() if k not in ("enabled", "type")} == dict.fromkeys(
        ("dialect", "url", "port", "username", "password", "db", "login_db")
    )
    assert {k: v for k, v in helm["lockStore"].items() if k not in ("enabled", "type")} == dict.fromkeys(
        ("url", "port", "password", "db")
    )


def test_helm_channels_match_the_repository_credentials():
    repository = load_yaml(PROJECT_ROOT / "credentials.yml")
    helm = load_yaml(DEPLOY / "helm" / "values.yaml")["applicationSettings"]["credentials"]
    assert helm["enabled"] is True
    normalise = {name: value or {} for name, value in repository.items()}
    assert {name: value or {} for name, value in helm["additionalChannelCredentials"].items()} == normalise


@pytest.mark.parametrize("where", ["compose", "helm"])
def test_deployed_rasa_has_no_http_api_and_limited_cors(where):
    """Issue 19: `--enable-api` was on in both with nothing using it; now the API does not exist."""
    if where == "compose":
        argv = compose_rasa_argv()
    else:
        values = load_yaml(DEPLOY / "helm" / "values.yaml")
        argv = values["args"]
        assert values["applicationSettings"]["telemetry"]["enabled"] is False
        assert values["applicationSettings"]["initialModel"] == ""
        assert values["applicationSettings"]["enableAPI"] is False
        assert values["replicaCount"] >= 2
        env = {item["name"]: item for item in values["extraEnv"]}
        for name in ("TRACKER_STORE_URL", "REDIS_URL"):
            assert "secretKeyRef" in env[name]["valueFrom"], name
    args = rasa_run_args(argv)
    assert args.enable_api is False
    assert args.auth_token is None
    assert args.jwt_secret is None
    assert args.cors and "*" not in args.cors
    assert args.endpoints and args.credentials


def test_compose_publishes_only_the_proxy_and_keeps_secrets_in_the_env_file():
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis", "actions"):
        assert services[name]["networks"] == ["backend"], name
    example = (DEPLOY / ".env.example").read_text()
    for variable in (
        "TRACKER_STORE_URL",
        "REDIS_URL",
        "DATABASE_URL",
        "POSTGRES_PASSWORD",
    ):
        assert re.search(rf"^{variable}=<|^{variable}=.*<[a-z-]+>", example, re.M), variable
    rasa_env = services["rasa"]["environment"]
    assert rasa_env["ACTION_SERVER_URL"] == "http://actions:5055/webhook"
    assert {"ACTION_TIMEOUT_SECONDS", "MAX_MESSAGE_CHARS"} <= set(rasa_env)
    assert services["rasa"]["deploy"]["replicas"] >= 2


def test_the_proxy_limits_bodies_and_rates_and_hides_the_api():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"client_max_body_size\s+16k;", conf)
    assert "limit_req_zone" in conf and "limit_req zone=chat" in conf
    assert re.search(r"location ~ \^/\(conversations\|model\|status\|domain\|version\)", conf)
    assert "access_log off;" in conf


@pytest.mark.parametrize("name", ["Dockerfile.rasa", "Dockerfile.actions"])
def test_images_install_the_pinned_versions_and_run_unprivileged(name):
    dockerfile = (DEPLOY / name).read_text()
    assert "pip install -c constraints.txt" in dockerfile
    assert re.search(r"^USER 1001$", dockerfile, re.M)
    ignored = (DEPLOY / f"{name}.dockerignore").read_text().split()
    assert {".env", ".venv", "var", "models", ".git"} <= set(ignored)
