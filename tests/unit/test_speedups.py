"""server_plugins.speedups: same results as Rasa's own code, computed once."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from server_plugins import speedups


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    monkeypatch.delenv("FAQBOT_SPEEDUPS", raising=False)
    # Restore Rasa's originals after each test: other tests must see unpatched classes.
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(Event.resolve_by_type))
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    from rasa.utils.tensorflow.models import RasaModel

    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    monkeypatch.setattr(speedups, "_installed", False)
    monkeypatch.setattr(speedups, "failed", [])
    assert speedups.install() is True


def test_install_is_idempotent():
    patched = RemoteAction._validate_action_result
    assert speedups.install() is True
    assert RemoteAction._validate_action_result is patched


def test_valid_action_reply_passes():
    reply = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert RemoteAction("action_x", None)._validate_action_result(reply) is True


def test_invalid_action_reply_raises_rasas_error():
    with pytest.raises(ValidationError, match="Failed to validate Action server response from API"):
        RemoteAction("action_x", None)._validate_action_result({"events": "not a list"})


def test_events_resolve_to_the_same_classes():
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("slot") is SlotSet  # from the cache


def test_unknown_event_names_keep_rasas_behaviour():
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event")


def test_round_trip_of_events_is_unchanged():
    events = [
        UserUttered("hello", {"name": "greet", "confidence": 1.0}),
        SlotSet("a", 1),
        ActionExecuted("x"),
    ]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("FAQBOT_SPEEDUPS", "0")
    monkeypatch.setattr(speedups, "_installed", False)
    assert speedups.install() is False


def test_a_patch_that_cannot_be_applied_is_skipped_and_reported(monkeypatch, caplog):
    def broken() -> None:
        raise AttributeError("Rasa changed")

    monkeypatch.setattr(speedups, "_installed", False)
    monkeypatch.setattr(speedups, "_run_graphs_in_order", broken)
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    assert speedups.install() is False
    assert speedups.failed == ["broken"]
    assert "Rasa speed-up broken not applied" in caplog.text
    # The other patches are still in place.
    assert Event.resolve_by_type("slot") is SlotSet


def test_graph_nodes_run_after_the_nodes_they_need():
    from types import SimpleNamespace

    nodes = {
        "c": SimpleNamespace(needs={"x": "b", "y": "__input__"}),
        "a": SimpleNamespace(needs={}),
        "b": SimpleNamespace(needs={"x": "a"}),
        "unused": SimpleNamespace(needs={}),
    }

    class Schema:
        def minimal_graph_schema(self, targets):
            assert targets == ["c"]
            return SimpleNamespace(nodes={k: v for k, v in nodes.items() if k != "unused"})

    assert speedups._execution_order(Schema(), ["c"]) == [
        ("a", ()),
        ("b", ("a",)),
        ("c", ("b", "__input__")),
    ]
