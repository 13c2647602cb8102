"""server_plugins.speedups: same results as Rasa's own code, computed once."""

from __future__ import annotations

import asyncio

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from server_plugins import speedups
from tests.unit.rasa_originals import OWNERS, REPLACED

RASAS_SESSION = EndpointConfig.session  # before any test patches it


@pytest.fixture(autouse=True)
def installed(rasa_unpatched):
    """Every test starts with the speed-ups installed over Rasa's own code."""
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

    for name, (owner, attribute) in OWNERS.items():  # back to Rasa's own code
        monkeypatch.setattr(
            owner, attribute, staticmethod(REPLACED[name]) if owner is Event else REPLACED[name]
        )
    monkeypatch.setattr(speedups, "_installed", False)
    monkeypatch.setattr(speedups, "_run_graphs_in_order", broken)
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


# ---------------------------------------------------------------- endpoint sessions
def test_endpoint_session_has_rasas_headers_auth_and_timeout():
    endpoint = EndpointConfig(
        url="http://127.0.0.1:9/x", headers={"X-Clinic": "a"}, basic_auth={"username": "u", "password": "p"}
    )

    async def compare() -> None:
        async with EndpointConfig.session(endpoint) as ours:
            async with RASAS_SESSION(endpoint) as theirs:
                assert dict(ours.headers) == dict(theirs.headers)
                assert ours.auth == theirs.auth
                assert ours.timeout == theirs.timeout
        await speedups.close_pooled_sessions()

    asyncio.run(compare())


def test_each_event_loop_gets_its_own_session_and_a_closed_one_is_replaced():
    endpoint = EndpointConfig(url="http://127.0.0.1:9/x")

    async def session_of_this_loop(close: bool) -> object:
        async with endpoint.session() as first:
            pass
        async with endpoint.session() as again:
            assert again is first and not first.closed
        if close:
            await first.close()
            async with endpoint.session() as replaced:
                assert replaced is not first
        await speedups.close_pooled_sessions()
        return first

    assert asyncio.run(session_of_this_loop(close=False)) is not asyncio.run(session_of_this_loop(close=True))


def test_idle_connections_are_dropped_before_the_action_server_closes_them():
    """The action server (rasa-sdk on Sanic) closes idle keep-alive connections after
    Sanic's KEEP_ALIVE_TIMEOUT; the client must give them up first, or a request could
    go out on a connection the server is closing."""
    from sanic.config import DEFAULT_CONFIG

    assert speedups.KEEPALIVE_SECONDS < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
