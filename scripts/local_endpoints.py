"""The repository's endpoints.yml with another action server port.

Test and benchmark servers run on free ports; they must still use the plug-ins and
settings `make run` uses (tracker store, lock store, selective domain), so they copy
endpoints.yml and change only the address of the action server.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ENDPOINTS = Path(__file__).resolve().parent.parent / "endpoints.yml"


def write_endpoints(path: Path, action_port: int) -> Path:
    """Write endpoints.yml to ``path`` with the action server on ``action_port``."""
    config = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
    config["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
