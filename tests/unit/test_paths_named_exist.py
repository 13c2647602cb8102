"""Every project path that the docs, the Makefile and the YAML comments name exists.

Files move (issue 22 split modules into packages); a comment or a doc that still names the
old path sends staff to a file that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = "actions|nlp_pipeline|server_plugins|channels|lexicon|insights|scripts|bench|tests|deploy|web"
# A path under one of the project's folders, ending in a file name with an extension or a "/".
PATH = re.compile(
    rf"(?<![\w./-])(?:{TOP_LEVEL})(?:/[\w-]+)*(?:/[\w-]+\.(?:py|yml|yaml|json|js|html|css|sql|conf)\b|/)"
)
# Made by `make web` (npm), not kept in git.
BUILT = ("web/vendor/",)
READERS = [
    ROOT / "README.md",
    ROOT / "Makefile",
    ROOT / "pyproject.toml",
    ROOT / "config.yml",
    ROOT / "endpoints.yml",
    ROOT / "credentials.yml",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "data").glob("**/*.yml")),
    *sorted((ROOT / "domain").glob("*.yml")),
    *sorted((ROOT / "deploy").glob("**/*.y*ml")),
]


def test_every_path_named_in_docs_and_config_exists():
    missing = sorted(
        f"{reader.relative_to(ROOT)}: {path}"
        for reader in READERS
        for path in set(PATH.findall(reader.read_text(encoding="utf-8")))
        if not (ROOT / path).exists() and not path.startswith(BUILT)
    )
    assert missing == []
