"""`rasa shell` for clinic staff, greeting on start.

Rasa's shell waits for the user to speak first. This runs the very same
``rasa shell`` command (same arguments, same console) and, once the server is
up, sends the greeting message (default ``/greet``; env STAFF_SHELL_GREETING)
and prints the bot's reply before the first prompt.

Usage (scripts/shell.sh does this): python -m channels.shell --model ... --endpoints ...
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

GREETING_ENV = "STAFF_SHELL_GREETING"
DEFAULT_GREETING = "/greet"
CONNECT_ATTEMPTS = 40


async def send_greeting(server_url: str, auth_token: str, sender_id: str, greeting: str) -> None:
    """Send the greeting through the shell's own REST endpoint and print the replies."""
    import aiohttp
    from rasa.core.channels import console

    for _ in range(CONNECT_ATTEMPTS):
        try:
            replies = await console.send_message_receive_block(server_url, auth_token, sender_id, greeting)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.25)
            continue
        for reply in replies:
            console._print_bot_output(reply)
        return


def install_greeting(greeting: str) -> None:
    """Make the console greet before its first prompt."""
    from rasa.core.channels import console

    original = console.record_messages

    async def record_messages_with_greeting(
        sender_id: str, server_url: str = console.DEFAULT_SERVER_URL, auth_token: str = "", **kwargs: Any
    ) -> int:
        if greeting:
            await send_greeting(server_url, auth_token, sender_id, greeting)
        return await original(sender_id, server_url, auth_token, **kwargs)

    console.record_messages = record_messages_with_greeting


def main(argv: list[str] | None = None) -> None:
    """Run ``rasa shell <argv>`` with the greeting installed."""
    from rasa.__main__ import main as rasa_main

    install_greeting(os.environ.get(GREETING_ENV, DEFAULT_GREETING).strip())
    sys.argv = ["rasa", "shell", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
