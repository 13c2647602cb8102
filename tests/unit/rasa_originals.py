"""Rasa's own functions that server_plugins.speedups replaces, taken before any test
patches them, and a fixture that puts them back around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

from server_plugins import speedups

# (class, attribute) of each replaced function, by its speedups.FINGERPRINTS name.
OWNERS = {
    "RemoteAction._validate_action_result": (RemoteAction, "_validate_action_result"),
    "Event.resolve_by_type": (Event, "resolve_by_type"),
    "DaskGraphRunner.run": (DaskGraphRunner, "run"),
    "EndpointConfig.session": (EndpointConfig, "session"),
    # Inherited by RulePolicy, which the patch gives its own.
    "Policy._prediction_states": (RulePolicy, "_prediction_states"),
    "RulePolicy._create_feature_key": (RulePolicy, "_create_feature_key"),
    "RulePolicy._is_rule_applicable": (RulePolicy, "_is_rule_applicable"),
}
REPLACED = {name: getattr(owner, attribute) for name, (owner, attribute) in OWNERS.items()}


@pytest.fixture
def rasa_unpatched(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rasa's originals in place and speedups not yet installed; restored afterwards."""
    monkeypatch.delenv("FAQBOT_SPEEDUPS", raising=False)
    for name, (owner, attribute) in OWNERS.items():
        original = REPLACED[name]
        monkeypatch.setattr(owner, attribute, staticmethod(original) if owner is Event else original)
    monkeypatch.setattr(speedups, "_installed", False)
    monkeypatch.setattr(speedups, "failed", [])
    monkeypatch.setattr(speedups, "refused", [])
    yield
