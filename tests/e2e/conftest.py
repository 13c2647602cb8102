"""Start the real action server and Rasa server on free ports, as a user would reach them."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from actions.settings import PROJECT_ROOT
from actions.store.database import build_engine, create_schema
from actions.store.loaders import load_all
from scripts.local_endpoints import write_endpoints

MODEL = PROJECT_ROOT / "models" / "headache-faq.tar.gz"
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class BotServers:
    """Addresses and state of one running bot (action server + Rasa server)."""

    rasa_url: str
    action_url: str
    database_url: str
    content_dir: Path
    workdir: Path
    env: dict[str, str]
    action_port: int
    processes: dict[str, subprocess.Popen]

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

    def stop_actions(self) -> None:
        """Stop the action server (as in an outage)."""
        stop([self.processes.pop("actions")])

    def start_actions(self) -> None:
        """(Re)start the action server on its port and wait until it is healthy."""
        log = self.workdir / "actions.log"
        process = launch(action_server_command(self.action_port), self.env, log, append=True)
        self.processes["actions"] = process
        wait_for(f"{self.action_url}/health", process, log)


def action_server_command(port: int) -> list[str]:
    return [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def start_servers(workdir: Path, extra_env: dict[str, str] | None = None) -> BotServers:
    """Copy data into ``workdir``, load it, start both servers on free ports."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (make test does it for you)")
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    shutil.copytree(PROJECT_ROOT / "data", data_dir)
    content_dir = data_dir / "content"
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{workdir / 'faq.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **(extra_env or {}),
    }
    engine = build_engine(env["DATABASE_URL"])
    create_schema(engine)
    load_all(data_dir, engine)
    engine.dispose()

    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    write_endpoints(endpoints, action_port)
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    processes = {
        "actions": launch(action_server_command(action_port), env, action_log),
        "rasa": launch(
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(MODEL),
                "--port",
                str(rasa_port),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
            ],
            env,
            rasa_log,
        ),
    }
    try:
        wait_for(f"http://127.0.0.1:{action_port}/health", processes["actions"], action_log)
        wait_for(f"http://127.0.0.1:{rasa_port}/", processes["rasa"], rasa_log)
    except Exception:
        stop(list(processes.values()))
        raise
    return BotServers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        database_url=env["DATABASE_URL"],
        content_dir=content_dir,
        workdir=workdir,
        env=env,
        action_port=action_port,
        processes=processes,
    )


def launch(command: list[str], env: dict[str, str], log: Path, append: bool = False) -> subprocess.Popen:
    """Start a server with its output in ``log`` (closed again by ``stop``)."""
    log_file = log.open("a" if append else "w")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    process.log_file = log_file  # type: ignore[attr-defined]
    return process


def stop(processes: list) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.log_file.close()


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Iterator[BotServers]:
    """One running bot shared by the end-to-end tests of a session."""
    servers = start_servers(tmp_path_factory.mktemp("bot"))
    try:
        yield servers
    finally:
        stop(list(servers.processes.values()))
