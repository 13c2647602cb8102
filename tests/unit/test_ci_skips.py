"""In CI (CI=true) a skipped test is a failure (tests/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.conftest import fail_skip_in_ci


def skipped_report(**extra: object) -> SimpleNamespace:
    return SimpleNamespace(
        skipped=True, outcome="skipped", longrepr=("tests/x.py", 3, "Skipped: Redis not reachable"), **extra
    )


def test_a_skip_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    report = skipped_report()
    fail_skip_in_ci(report)
    assert report.outcome == "failed"
    assert report.longrepr == "skipped in CI (CI=true), where it must run: Skipped: Redis not reachable"


def test_a_skip_stays_a_skip_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    report = skipped_report()
    fail_skip_in_ci(report)
    assert report.outcome == "skipped"


def test_an_expected_failure_is_not_turned_into_a_failure(monkeypatch):
    monkeypatch.setenv("CI", "true")
    report = skipped_report(wasxfail="known bug")
    fail_skip_in_ci(report)
    assert report.outcome == "skipped"
