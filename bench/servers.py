"""The benchmarks' servers (loopback only) and what they measure of them.

Shared by bench/compare_vanilla.py and bench/profile_turn.py. Starting, waiting for
and stopping processes is scripts/servers.py (the harness the end-to-end tests and
scripts use too): our bot is started the way `make run` starts it (scripts/run_all.sh),
on free ports, with a copy of data/ loaded into a temporary SQLite database; every
process has its own process group and stops if the benchmark dies. This module adds
the vanilla `rasa init` bot, and process trees' memory, CPU and connections.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from scripts.servers import (
    QUIET_ENV,
    RASA,
    ROOT,
    START_TIMEOUT_S,
    VENV_BIN,
    Bot,
    Server,
    data_env,
    free_port,
    launch,
    load_data,
    start_bot,
    stop_servers,
    wait_http,
)

__all__ = [
    "QUIET_ENV",
    "RASA",
    "ROOT",
    "START_TIMEOUT_S",
    "VENV_BIN",
    "Bot",
    "ForeignCpu",
    "Server",
    "connections_per_process",
    "free_port",
    "launch",
    "prepare_our_data",
    "process_tree",
    "raise_on_sigterm",
    "start_ours",
    "start_vanilla",
    "stop_servers",
    "tree_hwm_mb",
    "tree_rss_mb",
    "wait_http",
]


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


# ---------------------------------------------------------------- the bots
def prepare_our_data(workdir: Path) -> dict[str, str]:
    """Copy data/ to ``workdir`` and load it into a fresh SQLite database; return the server env."""
    env = {**os.environ, **QUIET_ENV, **data_env(workdir)}
    load_data(env)
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
    return start_bot(
        workdir,
        model,
        {**env, **(extra_env or {})},
        # The demo page's origins, as scripts/run_all.sh means them (one --cors
        # with both: a second --cors flag would replace the first).
        rasa_args=["--cors", "http://localhost:8080", "http://127.0.0.1:8080", *extra_rasa_args],
        rasa_command=rasa_command or (RASA,),
    )


def start_vanilla(project: Path, workdir: Path, extra_rasa_args: Sequence[str] = ()) -> Bot:
    """`rasa run` in a `rasa init` project with its own endpoints.yml and credentials.yml."""
    env = {**os.environ, **QUIET_ENV}
    port = free_port()
    command = [
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
    ]
    rasa = launch("rasa (vanilla)", command, env, workdir / "vanilla_rasa.log", cwd=project)
    bot = Bot("vanilla", rasa, f"http://127.0.0.1:{port}", workdir, env)
    try:
        bot.startup_s["rasa"] = wait_http(rasa, f"{bot.rasa_url}/")
    except BaseException:
        bot.stop()
        raise
    return bot


def raise_on_sigterm() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into KeyboardInterrupt so `finally` blocks stop the servers
    (SIGINT too: a shell starts background jobs with it ignored)."""

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)
