"""Phone-width (390 px) screenshots of the chat widget in real Chromium (issue 20).

Starts the bot (action server + Rasa with the trained model in models/, content loaded into a
fresh SQLite database, every FAQ answer going through "Did you mean" so that exchange is shown
too), serves web/, and runs scripts/screenshots.js, which saves in docs/img/:

- phone-did-you-mean.png  a question, the "Did you mean" choices
- phone-faq.png           the chosen FAQ answer: short answer first, "More" opened
- phone-legal.png         a state question: the status sentence first, "Sources" opened

    PYTHONPATH=$PWD python scripts/screenshots.py [--out docs/img]

Needs node, node_modules/playwright-core and /usr/bin/chromium (CHROMIUM to change it).
One Rasa server (~2.5 GB) runs while it works (about 2 minutes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from actions.settings import PROJECT_ROOT
from scripts.servers import free_port, wait_http
from tests.e2e.channel_servers import start_channel_servers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    web_port = free_port()
    origin = f"http://127.0.0.1:{web_port}"
    with tempfile.TemporaryDirectory(prefix="screenshots-") as workdir:
        servers = start_channel_servers(
            Path(workdir),
            extra_env={"ANSWER_MIN_CONFIDENCE": "0.999", "WEBCHAT_ALLOWED_ORIGINS": origin},
            rasa_args=("--cors", origin),
        )
        try:
            web = servers.launch(
                "web",
                [
                    sys.executable,
                    "scripts/serve_web.py",
                    "--port",
                    str(web_port),
                    "--rasa-url",
                    servers.rasa_url,
                ],
            )
            wait_http(web, f"{origin}/index.html", timeout=30)
            result = subprocess.run(
                ["node", str(PROJECT_ROOT / "scripts" / "screenshots.js")],
                cwd=PROJECT_ROOT,
                env={**os.environ, "WEB_URL": origin, "OUT_DIR": str(args.out)},
                timeout=600,
            )
            return result.returncode
        finally:
            servers.stop()


if __name__ == "__main__":
    sys.exit(main())
