"""server_plugins.rasa_guard: a patch over Rasa's private code steps aside when that
code is not the code it was written against."""

from __future__ import annotations

import logging

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event, SlotSet

from server_plugins import rasa_guard, speedups, tracker_store
from tests.integration.speedups_probe import altered_copy
from tests.unit.rasa_originals import REPLACED

# Every test starts from Rasa's own code (tests/unit/rasa_originals.py).
pytestmark = pytest.mark.usefixtures("rasa_unpatched")


def test_every_patched_rasa_function_is_the_source_its_patch_was_written_for():
    # Fails when a Rasa upgrade changes a function under a patch: re-read the new
    # source, adapt the patch, then record the new fingerprint.
    assert rasa_guard.installed_rasa_version() == rasa_guard.EXPECTED_RASA_VERSION
    assert {name: rasa_guard.source_fingerprint(function) for name, function in REPLACED.items()} == (
        speedups.FINGERPRINTS
    )


def test_every_rasa_function_the_rule_policy_patch_relies_on_is_the_source_it_was_written_for():
    assert {
        name: rasa_guard.source_fingerprint(speedups._rasa_function(name)) for name in speedups.RELIED_ON
    } == speedups.RELIED_ON


def test_a_changed_function_the_rule_policy_patch_relies_on_keeps_rasas_rule_policy(
    monkeypatch, tmp_path, caplog
):
    monkeypatch.setattr(
        RulePolicy, "_get_possible_keys", altered_copy(RulePolicy._get_possible_keys, tmp_path)
    )
    with caplog.at_level(logging.WARNING, logger="server_plugins.rasa_guard"):
        assert speedups.install() is False
    assert speedups.refused == ["RulePolicy._get_possible_keys"]
    assert RulePolicy._prediction_states is REPLACED["Policy._prediction_states"]
    assert len(caplog.records) == 1 and "relies on RulePolicy._get_possible_keys" in caplog.text
    # The other patches are in place.
    assert Event.resolve_by_type("slot") is SlotSet


def test_every_overridden_tracker_store_method_is_the_source_it_was_written_for():
    assert {
        name: rasa_guard.source_fingerprint(getattr(SQLTrackerStore, name))
        for name in tracker_store.OVERRIDDEN_FINGERPRINTS
    } == tracker_store.OVERRIDDEN_FINGERPRINTS


def test_a_changed_rasa_function_keeps_rasas_code_and_logs_one_line(monkeypatch, tmp_path, caplog):
    altered = altered_copy(DaskGraphRunner.run, tmp_path)
    monkeypatch.setattr(DaskGraphRunner, "run", altered)
    with caplog.at_level(logging.WARNING, logger="server_plugins.rasa_guard"):
        assert speedups.install() is False
    assert speedups.refused == ["DaskGraphRunner.run"]
    assert DaskGraphRunner.run is altered  # Rasa's (changed) code still runs
    expected = speedups.FINGERPRINTS["DaskGraphRunner.run"]
    assert [record.getMessage() for record in caplog.records] == [
        "Rasa speed-up for DaskGraphRunner.run not applied: the source of DaskGraphRunner.run changed "
        f"(fingerprint {rasa_guard.source_fingerprint(altered)}, expected {expected}); using Rasa's own code"
    ]
    # The other patches are in place.
    assert RemoteAction._validate_action_result is not REPLACED["RemoteAction._validate_action_result"]
    assert Event.resolve_by_type("slot") is SlotSet


def test_another_rasa_version_keeps_rasas_code_everywhere(monkeypatch, caplog):
    monkeypatch.setattr(rasa_guard, "installed_rasa_version", lambda: "3.7.0")
    with caplog.at_level(logging.WARNING, logger="server_plugins.rasa_guard"):
        assert speedups.install() is False
    assert sorted(speedups.refused) == sorted(REPLACED)
    assert DaskGraphRunner.run is REPLACED["DaskGraphRunner.run"]
    assert len(caplog.records) == len(REPLACED)
    assert "written for Rasa 3.6.21, found 3.7.0" in caplog.records[0].getMessage()


def test_the_tracker_store_uses_rasas_methods_when_they_changed(monkeypatch):
    monkeypatch.setattr(rasa_guard, "installed_rasa_version", lambda: "3.7.0")
    assert tracker_store.own_overrides_apply() is False
    monkeypatch.setattr(rasa_guard, "installed_rasa_version", lambda: rasa_guard.EXPECTED_RASA_VERSION)
    assert tracker_store.own_overrides_apply() is True
