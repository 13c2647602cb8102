"""Start, watch and stop the servers the benchmarks talk to (loopback only).

Shared by bench/compare_vanilla.py and bench/profile_turn.py. Our bot is started
the way `make run` starts it (scripts/run_all.sh): the action server
(`rasa run actions --actions actions`) and the Rasa server with our endpoints
(ResilientSQLTrackerStore, EnvLockStore, the action endpoint) and credentials
(GuardedRestInput + socket.io), on free ports, with a copy of data/ loaded into a
temporary SQLite database (as tests/e2e/conftest.py does).

Every process gets its own process group (so a Sanic worker it forks is stopped
with it) and is told by the kernel to stop if the benchmark dies (PR_SET_PDEATHSIG):
nothing is left running after Ctrl-C, a failure or a kill.
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
from typing import IO

from scripts.local_endpoints import write_endpoints

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RASA = str(VENV_BIN / "rasa")
START_TIMEOUT_S = 300.0

# The environment `make` exports to every command (see the Makefile).
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


def launch(name: str, command: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> Server:
    """Start ``command`` in its own process group, output to ``log``."""
    handle = log.open("w")
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


def wait_http(server: Server, url: str, timeout: float = START_TIMEOUT_S) -> float:
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
        time.sleep(0.1)
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
        try:
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        # The group may hold workers even when the leader is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=5)
        server.log_handle.close()


# ---------------------------------------------------------------- memory
def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children = _children_map()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def connections_per_process(port: int, root_pid: int) -> dict[int, int]:
    """Established TCP connections accepted on ``port``, counted per process of ``root_pid``'s tree.

    Shows where a multi-worker server's keep-alive connections landed: each stays
    with the worker that accepted it (Linux /proc; {} elsewhere).
    """
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address "ADDR:PORT" in hex, state 01 = ESTABLISHED, field 9 = socket inode
            if len(fields) > 9 and fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    counts: dict[int, int] = {}
    for pid in process_tree(root_pid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        held = 0
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
        if held:
            counts[pid] = held
    return counts


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` and its descendants, in MB (shared pages counted per process)."""
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid)) / 1024


def tree_hwm_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of ``pid`` and its descendants, in MB."""
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid)) / 1024


def _tree_cpu_ticks(pid: int) -> int:
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _busy_ticks() -> int:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait.
    return sum(fields[:8]) - fields[3] - fields[4]


class ForeignCpu:
    """How much CPU other work (not ours) used between :meth:`start` and :meth:`stop`, in cores."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = [*pids, os.getpid()]
        self.ticks_per_s = os.sysconf("SC_CLK_TCK")
        self._start: tuple[float, int, int] | None = None

    def _ours(self) -> int:
        return sum(_tree_cpu_ticks(pid) for pid in self.pids)

    def start(self) -> None:
        self._start = (time.monotonic(), _busy_ticks(), self._ours())

    def stop(self) -> float:
        assert self._start is not None
        started, busy, ours = self._start
        seconds = max(time.monotonic() - started, 1e-6)
        foreign = (_busy_ticks() - busy) - (self._ours() - ours)
        return max(foreign, 0) / self.ticks_per_s / seconds


# ---------------------------------------------------------------- our bot
@dataclass
class Bot:
    """A started bot: its Rasa server, optional action server, and addresses."""

    label: str
    rasa: Server
    rasa_url: str
    actions: Server | None = None
    action_url: str | None = None
    startup_s: dict[str, float] = field(default_factory=dict)
    auth_token: str | None = None

    @property
    def servers(self) -> list[Server]:
        return [s for s in (self.rasa, self.actions) if s is not None]


def prepare_our_data(workdir: Path) -> dict[str, str]:
    """Copy data/ to ``workdir`` and load it into a fresh SQLite database; return the server env."""
    from actions.store.database import build_engine, create_schema
    from actions.store.loaders import load_all

    data_dir = workdir / "data"
    if not data_dir.exists():
        shutil.copytree(ROOT / "data", data_dir)
    env = {
        **os.environ,
        **QUIET_ENV,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{workdir / 'faq.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
    }
    engine = build_engine(env["DATABASE_URL"])
    try:
        create_schema(engine)
        load_all(data_dir, engine)
    finally:
        engine.dispose()
    return env


def start_ours(
    workdir: Path,
    model: Path,
    env: dict[str, str],
    extra_env: dict[str, str] | None = None,
    extra_rasa_args: Sequence[str] = (),
    rasa_command: Sequence[str] | None = None,
) -> Bot:
    """Start our action server and Rasa server together (as scripts/run_all.sh does)."""
    env = {**env, **(extra_env or {})}
    action_port, rasa_port = free_port(), free_port()
    endpoints = write_endpoints(workdir / "endpoints.yml", action_port)
    actions = launch(
        "actions",
        [RASA, "run", "actions", "--actions", "actions", "--port", str(action_port)],
        ROOT,
        env,
        workdir / "actions.log",
    )
    rasa = launch(
        "rasa (ours)",
        [
            *(rasa_command or [RASA]),
            "run",
            "--model",
            str(model),
            "--port",
            str(rasa_port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            # The demo page's origins, as scripts/run_all.sh means them (one --cors
            # with both: a second --cors flag would replace the first).
            "--cors",
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            *extra_rasa_args,
        ],
        ROOT,
        env,
        workdir / "rasa.log",
    )
    bot = Bot("ours", rasa, f"http://127.0.0.1:{rasa_port}", actions, f"http://127.0.0.1:{action_port}")
    try:
        bot.startup_s["actions"] = wait_http(actions, f"{bot.action_url}/health")
        bot.startup_s["rasa"] = wait_http(rasa, f"{bot.rasa_url}/")
    except BaseException:
        stop_servers(bot.servers)
        raise
    return bot


def start_vanilla(project: Path, workdir: Path, extra_rasa_args: Sequence[str] = ()) -> Bot:
    """`rasa run` in a `rasa init` project with its own endpoints.yml and credentials.yml."""
    env = {**os.environ, **QUIET_ENV}
    port = free_port()
    rasa = launch(
        "rasa (vanilla)",
        [
            RASA,
            "run",
            "--model",
            str(project / "models"),
            "--port",
            str(port),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
            *extra_rasa_args,
        ],
        project,
        env,
        workdir / "vanilla_rasa.log",
    )
    bot = Bot("vanilla", rasa, f"http://127.0.0.1:{port}")
    try:
        bot.startup_s["rasa"] = wait_http(rasa, f"{bot.rasa_url}/")
    except BaseException:
        stop_servers(bot.servers)
        raise
    return bot


def raise_on_sigterm() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into KeyboardInterrupt so `finally` blocks stop the servers
    (SIGINT too: a shell starts background jobs with it ignored)."""

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)
