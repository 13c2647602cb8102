"""A bot of their own for the channel tests (browser widget, connectors, staff shell).

Like tests/e2e/conftest.py's ``bot``, but with a chosen credentials file and
environment (the connectors' secrets and stub URLs, a forced "Did you mean",
the staff inspector on...), so those tests never disturb the shared bot. Extra
processes (a web server, a stub) start with ``servers.launch(name, command)`` and
stop with the bot.
"""

from __future__ import annotations

from pathlib import Path

from scripts.servers import free_port
from tests.e2e.conftest import BotServers, start_servers

START_TIMEOUT_S = 240
__all__ = ["ChannelServers", "free_port", "start_channel_servers"]

ChannelServers = BotServers


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
    return start_servers(
        workdir, extra_env, credentials=credentials, rasa_args=rasa_args, timeout=START_TIMEOUT_S
    )
