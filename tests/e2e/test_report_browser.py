"""The staff report's HTML (issue 21) in real headless Chromium: no console errors, no network
request, every section and chart rendered (tests/browser/report_test.js)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from actions.settings import PROJECT_ROOT, get_settings
from actions.store.database import build_engine
from insights.report import build_report, write_report
from insights.sample import demo_traffic, seed
from insights.store import report_window
from tests.e2e.test_browser_widget import CHROMIUM, NODE, missing_tools

pytestmark = pytest.mark.e2e
SCRIPT = PROJECT_ROOT / "tests" / "browser" / "report_test.js"


def test_report_opens_offline_in_headless_chromium(tmp_path):
    reason = missing_tools()
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser test must run in CI: {reason}")
    if reason:
        pytest.skip(reason)
    now = time.time()
    engine = build_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    seed(engine, demo_traffic(300, now - 14 * 86400, 14))
    report = build_report(engine, report_window(None, None, 30, now=now), get_settings().content_dir)
    engine.dispose()
    page = write_report(report, tmp_path / "report")[0]
    result = subprocess.run(
        [NODE or "node", str(SCRIPT)],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "REPORT": str(page),
            "CHROMIUM": CHROMIUM,
            "SCREENSHOT": str(tmp_path / "shot.png"),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["consoleErrors"] == [] and seen["pageErrors"] == []
    assert seen["requests"] == []
    assert seen["sections"] == [
        "channels",
        "daily",
        "topics",
        "unanswered",
        "did_you_mean",
        "languages",
        "triage",
        "requests",
        "unanswered_groups",
    ]
    assert seen["charts"] == 6
    assert (tmp_path / "shot.png").stat().st_size > 20_000
