"""Write a generated file, or with ``--check`` say whether it is up to date: one way for
every generator in scripts/ (the FAQ domain, the safety review sheet)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_or_check(path: Path, wanted: str, command: str, check: bool) -> int:
    """0 when ``path`` holds ``wanted`` (after writing it, unless ``check``); 1 when a
    check finds it out of date."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if check:
        if current != wanted:
            print(f"{path} is out of date: run `{command}`")
            return 1
        return 0
    if current != wanted:
        path.write_text(wanted, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
