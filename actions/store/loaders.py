"""Everything `make load-content` loads into the database, in one place.

Each loader validates its versioned files under data/ and replaces its tables
in one transaction; a failing file leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from actions.store.content import load_faq_content

Loader = Callable[[Path, Engine], str]


def _faq(data_dir: Path, engine: Engine) -> str:
    content = load_faq_content(data_dir / "content", engine)
    return f"{len(content.answers)} FAQ topics (version {content.version})"


LOADERS: list[tuple[str, Loader]] = [
    ("faq", _faq),
]


def load_all(data_dir: Path, engine: Engine) -> list[str]:
    """Run every loader; return one summary line per loader."""
    return [f"{name}: {loader(data_dir, engine)}" for name, loader in LOADERS]
