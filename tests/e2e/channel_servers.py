"""A bot of their own for the channel tests (browser widget, connectors, staff shell).

Like tests/e2e/conftest.py's ``bot``, but with a chosen credentials file and
environment (the connectors' secrets and stub URLs, a forced "Did you mean",
the staff inspector on...), so those tests never disturb the shared bot.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from actions.settings import PROJECT_ROOT
from actions.store.database import build_engine, create_schema
from actions.store.loaders import load_all
from scripts.local_endpoints import write_endpoints
from tests.e2e import conftest as e2e

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChannelServers:
    """One running action server + Rasa server (+ any extra processes)."""

    rasa_url: str
    action_url: str
    workdir: Path
    database_url: str
    content_dir: Path
    tracker_db: Path
    env: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    processes: list[tuple[subprocess.Popen, IO]] = field(default_factory=list)

    def launch(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start one more process (output in workdir/<name>.log), stopped with the others."""
        log = self.workdir / f"{name}.log"
        handle = log.open("w")
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env or self.env, stdout=handle, stderr=subprocess.STDOUT
        )
        self.logs[name] = log
        self.processes.append((process, handle))
        return process

    def wait_for(
        self, url: str, process: subprocess.Popen, name: str, timeout: float = START_TIMEOUT_S
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{url} did not come up in {timeout} s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, size: int = 3000) -> str:
        return self.logs[name].read_text(errors="replace")[-size:]

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, handle in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            handle.close()
        self.processes.clear()


def start_channel_servers(
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    credentials: str | None = None,
    rasa_args: tuple[str, ...] = (),
) -> ChannelServers:
    """Load the content into a fresh database and start both servers.

    ``credentials``: the text of the credentials file (default: the project's);
    ``rasa_args``: more arguments for ``rasa run`` (e.g. ``--cors``).
    """
    model = e2e.MODEL
    if not model.exists():
        raise RuntimeError(f"{model} is missing: run `make train` (make test does it for you)")
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    shutil.copytree(PROJECT_ROOT / "data", data_dir)
    database_url = f"sqlite:///{workdir / 'faq.db'}"
    engine = build_engine(database_url)
    create_schema(engine)
    load_all(data_dir, engine)
    engine.dispose()

    action_port, rasa_port = free_port(), free_port()
    tracker_db = workdir / "tracker.db"
    endpoints = write_endpoints(workdir / "endpoints.yml", action_port)
    credentials_file = PROJECT_ROOT / "credentials.yml"
    if credentials is not None:
        credentials_file = workdir / "credentials.yml"
        credentials_file.write_text(credentials)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "TRACKER_STORE_URL": f"sqlite:///{tracker_db}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **(extra_env or {}),
    }
    servers = ChannelServers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        workdir=workdir,
        database_url=database_url,
        content_dir=data_dir / "content",
        tracker_db=tracker_db,
        env=env,
    )
    try:
        actions = servers.launch(
            "actions",
            [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
        )
        rasa = servers.launch(
            "rasa",
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(model),
                "--port",
                str(rasa_port),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials_file),
                *rasa_args,
            ],
        )
        servers.wait_for(f"{servers.action_url}/health", actions, "actions")
        servers.wait_for(f"{servers.rasa_url}/", rasa, "rasa")
    except BaseException:
        servers.stop()
        raise
    return servers
