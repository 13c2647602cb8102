"""Everything `make load-content` loads into the database, in one place.

Each loader validates its versioned files under data/ and replaces its tables
in one transaction; a failing file leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from actions.store.content import load_faq_content
from actions.store.evidence_data import load_evidence_data
from actions.store.legal_data import load_legal_data
from actions.store.licence_import import load_demo_licences

Loader = Callable[[Path, Engine], str]


def _faq(data_dir: Path, engine: Engine) -> str:
    content = load_faq_content(data_dir / "content", engine)
    return f"{len(content.answers)} FAQ topics (version {content.version})"


LOADERS: list[tuple[str, Loader]] = [
    ("faq", _faq),
    ("legal", load_legal_data),
    ("evidence", load_evidence_data),
    ("licences", load_demo_licences),
]


def load_all(data_dir: Path, engine: Engine) -> list[str]:
    """Run every loader; return one summary line per loader."""
    return [f"{name}: {loader(data_dir, engine)}" for name, loader in LOADERS]
