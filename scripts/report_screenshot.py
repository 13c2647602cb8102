"""Refresh docs/img/report.png: the report on demo traffic, photographed in headless Chromium.

Seeds a throw-away SQLite tracker store with 600 demo conversations over two weeks
(insights.sample), writes the report, and runs tests/browser/report_test.js with SCREENSHOT
set (Debian's chromium through playwright-core, as the browser tests do).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.settings import PROJECT_ROOT, get_settings
from actions.store.database import build_engine
from insights.report import build_report, write_report
from insights.sample import demo_traffic, seed
from insights.store import report_window

TARGET = PROJECT_ROOT / "docs" / "img" / "report.png"


def main() -> int:
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(f"sqlite:///{Path(folder) / 'tracker.db'}")
        seed(engine, demo_traffic(600, now - 14 * 86400, 14))
        report = build_report(engine, report_window(None, None, 30, now=now), get_settings().content_dir)
        engine.dispose()
        page = write_report(report, Path(folder) / "report")[0]
        subprocess.run(
            ["node", str(PROJECT_ROOT / "tests" / "browser" / "report_test.js")],
            cwd=PROJECT_ROOT,
            env={**os.environ, "REPORT": str(page), "SCREENSHOT": str(TARGET)},
            check=True,
        )
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
