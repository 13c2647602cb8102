"""`make shell` (scripts/shell.sh) in a real terminal: it greets first, shows the
staff inspector line after an answer, and leaves no server behind on /stop."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from actions.settings import PROJECT_ROOT
from tests.e2e import conftest as e2e

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")
START_TIMEOUT_S = 300


class Terminal:
    """A program running in a pseudo-terminal, as staff would run it."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.raw = ""

    @property
    def screen(self) -> str:
        return ANSI.sub("", self.raw)

    def read_until(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen:
                return self.screen
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536).decode(errors="replace")
            except OSError:  # the program closed the terminal
                break
            if "\x1b[6n" in chunk:  # prompt_toolkit asks where the cursor is
                os.write(self.master, b"\x1b[1;1R")
            self.raw += chunk
        if text in self.screen:
            return self.screen
        raise AssertionError(f"{text!r} not shown in {timeout} s; the screen so far:\n{self.screen[-4000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def wait_exit(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if ready:
                    self.raw += os.read(self.master, 65536).decode(errors="replace")
            except OSError:
                time.sleep(0.2)
        return self.process.poll()

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def close(self) -> None:
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while self.group_alive() and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.group_alive():
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        os.close(self.master)


def test_staff_shell_greets_and_inspects_answers(bot, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("# conversations kept in memory\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"STAFF_INSPECTOR", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        {
            "MODEL": str(e2e.MODEL),
            "DATABASE_URL": bot.database_url,
            "ENDPOINTS": str(endpoints),
            "LOG_DIR": str(tmp_path / "log"),
            "TERM": "xterm",
            "VENV": str(e2e.VENV_BIN.parent),
        }
    )
    terminal = Terminal(["bash", "scripts/shell.sh"], env)
    try:
        screen = terminal.read_until("Your input ->", START_TIMEOUT_S)
        assert "answer inspector: on" in screen
        greeting = screen.index("Hello! I answer questions about acupuncture")
        assert greeting < screen.index("Your input ->"), "the bot greets before the first prompt"

        terminal.type("what is dry needling?")
        screen = terminal.read_until("reviewed=", 120)
        answer = screen[screen.index("what is dry needling?") :]
        assert "Dry needling is a technique" in answer
        inspector = next(line for line in answer.splitlines() if line.startswith("[staff] "))
        assert re.fullmatch(
            r"\[staff\] topic=dry_needling_what_is \| confidence=\d\.\d\d \| runner-up=[a-z_]+ \(\d\.\d\d\) "
            r"\| source=https://pubmed\.ncbi\.nlm\.nih\.gov/33609358/ \| reviewed=\d{1,2} \w+ 20\d\d",
            inspector.strip(),
        ), inspector

        terminal.type("/stop")
        assert terminal.wait_exit(60) == 0, terminal.screen[-2000:]
        deadline = time.monotonic() + 30
        while terminal.group_alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not terminal.group_alive(), "the shell's action server was left running"
    finally:
        terminal.close()
