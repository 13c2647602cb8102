"""Start the real action server and Rasa server on free ports, as a user would reach them
(with scripts/servers.py, the harness the benchmarks and scripts use too)."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.servers import (
    ROOT,
    SERVER_ENV,
    VENV_BIN,
    Bot,
    Server,
    data_env,
    load_data,
    start_bot,
)

PROJECT_ROOT = ROOT
MODEL = PROJECT_ROOT / "models" / "headache-faq.tar.gz"
START_TIMEOUT_S = 180
__all__ = ["MODEL", "PROJECT_ROOT", "VENV_BIN", "BotServers", "start_servers"]


@dataclass
class BotServers(Bot):
    """Addresses and state of one running bot (action server + Rasa server)."""

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    @property
    def content_dir(self) -> Path:
        return self.workdir / "data" / "content"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    @property
    def processes(self) -> dict[str, Server]:
        return {name: server for name, server in (("actions", self.actions), ("rasa", self.rasa)) if server}

    def post(self, sender: str, message: str, timeout: float = 60) -> list[dict]:
        """Send one message through the REST channel; return the bot's replies."""
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def say(self, sender: str, message: str) -> str:
        """All reply texts of one turn joined with blank lines."""
        return "\n\n".join(reply.get("text", "") for reply in self.post(sender, message))


def start_servers(
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    credentials: str | None = None,
    rasa_args: tuple[str, ...] = (),
    copy_data: bool = True,
    timeout: float = START_TIMEOUT_S,
) -> BotServers:
    """Copy data into ``workdir`` (unless ``copy_data`` is false), load it into the
    DATABASE_URL of the environment, start both servers on free ports.

    ``credentials``: the text of the credentials file (default: the project's);
    ``rasa_args``: more arguments for ``rasa run`` (e.g. ``--cors``)."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (make test does it for you)")
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **data_env(workdir, copy=copy_data), **SERVER_ENV, **(extra_env or {})}
    load_data(env)
    credentials_file = PROJECT_ROOT / "credentials.yml"
    if credentials is not None:
        credentials_file = workdir / "credentials.yml"
        credentials_file.write_text(credentials)
    return start_bot(
        workdir,
        MODEL,
        env,
        credentials=credentials_file,
        rasa_args=rasa_args,
        timeout=timeout,
        interval=0.5,
        bot_class=BotServers,
    )


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Iterator[BotServers]:
    """One running bot shared by the end-to-end tests of a session."""
    servers = start_servers(tmp_path_factory.mktemp("bot"))
    try:
        yield servers
    finally:
        servers.stop()
