"""Start, watch and stop the bot's servers on free loopback ports: the one harness of
the end-to-end tests (tests/e2e), the benchmarks (bench/) and the scripts that run a
private bot (scripts/check_answers.py, scripts/screenshots.py).

A bot is started the way `make run` starts it (scripts/run_all.sh): the action server
(`rasa run actions --actions actions`) and the Rasa server with the repository's
endpoints (tracker store, lock store, selective domain; only the action server's
address changes) and credentials, usually with a copy of data/ loaded into a
temporary SQLite database.

Every process gets its own process group (so a Sanic worker it forks is stopped with
it) and is told by the kernel to stop if its parent dies (PR_SET_PDEATHSIG): nothing
is left running after Ctrl-C, a failure or a kill.

Importing this module imports neither pytest nor the project's actions; the small
command line (``python -m scripts.servers free-port`` / ``write-endpoints``) serves
scripts/shell.sh.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = ROOT / "endpoints.yml"
CREDENTIALS = ROOT / "credentials.yml"
VENV_BIN = Path(sys.executable).parent
RASA = str(VENV_BIN / "rasa")
START_TIMEOUT_S = 300.0

# What every server started here gets on top of the caller's environment.
SERVER_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
# The environment `make` exports to every command (see the Makefile).
QUIET_ENV = {
    **SERVER_ENV,
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_endpoints(path: Path, action_port: int, source: Path | None = ENDPOINTS) -> Path:
    """Write ``source`` (default: the repository's endpoints.yml; None: nothing else, so
    conversations stay in memory) to ``path`` with the action server on ``action_port``."""
    config = (yaml.safe_load(source.read_text(encoding="utf-8")) if source else None) or {}
    config["action_endpoint"] = {
        **(config.get("action_endpoint") or {}),
        "url": f"http://127.0.0.1:{action_port}/webhook",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def data_env(workdir: Path, copy: bool = True) -> dict[str, str]:
    """The environment that points the servers at data/ (copied to ``workdir`` unless
    ``copy`` is false) and at SQLite answer and tracker databases in ``workdir``."""
    data_dir = ROOT / "data"
    if copy:
        data_dir = workdir / "data"
        if not data_dir.exists():
            shutil.copytree(ROOT / "data", data_dir)
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{workdir / 'faq.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
    }


def load_data(env: dict[str, str]) -> None:
    """Create the schema of ``env``'s DATABASE_URL and load its DATA_DIR into it."""
    from actions.store.database import build_engine, create_schema
    from actions.store.loaders import load_all

    engine = build_engine(env["DATABASE_URL"])
    try:
        create_schema(engine)
        load_all(Path(env["DATA_DIR"]), engine)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- processes
def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Server:
    """One started process, its log and when it was started."""

    name: str
    process: subprocess.Popen
    log: Path
    log_handle: IO
    started: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def tail(self, size: int = 3000) -> str:
        """The end of the server's log."""
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


def launch(
    name: str,
    command: Sequence[str],
    env: dict[str, str],
    log: Path,
    cwd: Path = ROOT,
    append: bool = False,
) -> Server:
    """Start ``command`` in its own process group, output to ``log``."""
    handle = log.open("a" if append else "w")
    started = time.monotonic()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    return Server(name, process, log, handle, started)


def wait_http(server: Server, url: str, timeout: float = START_TIMEOUT_S, interval: float = 0.1) -> float:
    """Wait for HTTP 200 on ``url``; return seconds since the process was started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; log {server.log}:\n{server.tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - server.started
        except OSError:
            pass
        time.sleep(interval)
    raise RuntimeError(
        f"{server.name}: {url} did not answer in {timeout:.0f} s; log {server.log}:\n{server.tail()}"
    )


def stop_servers(servers: Iterable[Server], grace: float = 20.0) -> None:
    """SIGTERM each process group, then SIGKILL what is still there after ``grace`` s."""
    servers = list(servers)
    for server in servers:
        if server.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for server in servers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # The group may hold workers even when the leader is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=5)
        server.log_handle.close()


# ---------------------------------------------------------------- the bot
def action_server_command(port: int) -> list[str]:
    return [RASA, "run", "actions", "--actions", "actions", "--port", str(port)]


def rasa_server_command(
    model: Path,
    port: int,
    endpoints: Path | str,
    credentials: Path | str = CREDENTIALS,
    extra_args: Sequence[str] = (),
    rasa: Sequence[str] = (RASA,),
) -> list[str]:
    """`rasa run` with ``extra_args`` (e.g. ``--enable-api``, ``--auth-token=VALUE``: the
    =-form, since a token starting with "-" fails to parse as a separate argument)."""
    return [
        *rasa,
        "run",
        "--model",
        str(model),
        "--port",
        str(port),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        *extra_args,
    ]


@dataclass
class Bot:
    """A started bot: its Rasa server, optional action server, and their addresses."""

    label: str
    rasa: Server
    rasa_url: str
    workdir: Path
    env: dict[str, str]
    actions: Server | None = None
    action_port: int | None = None
    startup_s: dict[str, float] = field(default_factory=dict)
    timeout: float = START_TIMEOUT_S
    interval: float = 0.1
    extras: list[Server] = field(default_factory=list)

    @property
    def action_url(self) -> str | None:
        return None if self.action_port is None else f"http://127.0.0.1:{self.action_port}"

    @property
    def servers(self) -> list[Server]:
        return [s for s in (self.rasa, self.actions, *self.extras) if s is not None]

    def launch(self, name: str, command: Sequence[str], env: dict[str, str] | None = None) -> Server:
        """Start one more process (output in workdir/<name>.log), stopped with the others."""
        server = launch(name, command, env or self.env, self.workdir / f"{name}.log")
        self.extras.append(server)
        return server

    def stop(self) -> None:
        stop_servers(self.servers)
        self.extras.clear()

    def stop_actions(self) -> None:
        """Stop the action server (as in an outage)."""
        if self.actions is not None:
            stop_servers([self.actions])
            self.actions = None

    def launch_actions(self, append: bool = True) -> Server:
        """Start the action server on its port (log: workdir/actions.log)."""
        assert self.action_port is not None
        command = action_server_command(self.action_port)
        self.actions = launch("actions", command, self.env, self.workdir / "actions.log", append=append)
        return self.actions

    def wait_actions(self) -> None:
        assert self.actions is not None
        url = f"{self.action_url}/health"
        self.startup_s["actions"] = wait_http(self.actions, url, self.timeout, self.interval)

    def start_actions(self) -> None:
        """(Re)start the action server on its port and wait until it is healthy."""
        self.launch_actions()
        self.wait_actions()


B = TypeVar("B", bound=Bot)


def start_bot(
    workdir: Path,
    model: Path,
    env: dict[str, str],
    *,
    credentials: Path | str = CREDENTIALS,
    rasa_args: Sequence[str] = (),
    rasa_command: Sequence[str] = (RASA,),
    endpoints_source: Path | None = ENDPOINTS,
    timeout: float = START_TIMEOUT_S,
    interval: float = 0.1,
    label: str = "ours",
    bot_class: type[B] = Bot,  # type: ignore[assignment]
) -> B:
    """Start our action server and Rasa server on free ports (logs: ``workdir``/actions.log
    and rasa.log; endpoints: ``workdir``/endpoints.yml) and wait until both answer."""
    action_port, rasa_port = free_port(), free_port()
    endpoints = write_endpoints(workdir / "endpoints.yml", action_port, endpoints_source)
    command = rasa_server_command(model, rasa_port, endpoints, credentials, rasa_args, rasa_command)
    bot = bot_class(
        label=label,
        rasa=None,  # type: ignore[arg-type]  # set just below, once the action server is launched
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        workdir=workdir,
        env=env,
        action_port=action_port,
        timeout=timeout,
        interval=interval,
    )
    try:
        bot.launch_actions(append=False)
        bot.rasa = launch(f"rasa ({label})", command, env, workdir / "rasa.log")
        bot.wait_actions()
        bot.startup_s["rasa"] = wait_http(bot.rasa, f"{bot.rasa_url}/", timeout, interval)
    except BaseException:
        bot.stop()
        raise
    return bot


def main(argv: Sequence[str] | None = None) -> int:
    """``free-port`` prints a free port; ``write-endpoints SOURCE TARGET ACTION_PORT``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["free-port"]:
        print(free_port())
        return 0
    if len(args) == 4 and args[0] == "write-endpoints":
        write_endpoints(Path(args[2]), int(args[3]), Path(args[1]))
        return 0
    print(
        "usage: python -m scripts.servers free-port | write-endpoints SOURCE TARGET ACTION_PORT",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
