"""server_plugins.speedups: same results as Rasa's own code, computed once."""

from __future__ import annotations

import asyncio
from typing import Any

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


def conversation_events() -> list[Event]:
    """Turns with slots, a form that starts and ends, a reverted utterance and a new session."""
    from rasa.shared.core.events import ActiveLoop, SessionStarted, UserUtteranceReverted

    def turn(intent: str, *actions: str) -> list[Event]:
        return [
            UserUttered(intent, {"name": intent, "confidence": 1.0}),
            *(ActionExecuted(action) for action in actions),
            ActionExecuted("action_listen"),
        ]

    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *turn("greet", "action_greet"),
        *turn("faq", "action_answer_faq"),
        SlotSet("treatment_context", "dry_needling"),
        *turn("faq", "action_answer_faq"),
        UserUttered("nonsense", {"name": "nonsense", "confidence": 1.0}),
        UserUtteranceReverted(),
        *turn("check_licence"),
        ActionExecuted("licence_check_form"),
        ActiveLoop("licence_check_form"),
        SlotSet("requested_slot", "us_state"),
        ActionExecuted("action_listen"),
        *turn("inform_state", "licence_check_form"),
        ActiveLoop(None),
        *turn("thanks", "utter_youre_welcome"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *turn("faq", "action_answer_faq"),
        *turn("goodbye", "utter_goodbye"),
    ]


def conversation_domain() -> Any:
    """Intents, actions, a slot that shapes the conversation and a form, as the project's
    domain has (Domain.from_dict: the YAML schema check warns on Python 3.10)."""
    import warnings

    from rasa.shared.core.domain import Domain

    intents = ["greet", "faq", "nonsense", "check_licence", "inform_state", "thanks", "goodbye"]
    custom = [{"type": "custom"}]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Slot auto-fill has been removed", category=UserWarning)
        return Domain.from_dict(
            {
                "intents": intents,
                "actions": ["action_greet", "action_answer_faq"],
                "responses": {"utter_youre_welcome": [{"text": "x"}], "utter_goodbye": [{"text": "y"}]},
                "slots": {
                    "treatment_context": {
                        "type": "categorical",
                        "values": ["dry_needling", "acupuncture"],
                        "mappings": custom,
                    },
                    "us_state": {"type": "text", "influence_conversation": False, "mappings": custom},
                },
                "forms": {"licence_check_form": {"required_slots": ["us_state"]}},
            }
        )


def test_trailing_states_are_the_last_states_of_rasas_whole_history():
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = conversation_domain()
    events = conversation_events()
    for length in range(1, len(events) + 1):  # every prefix of the conversation
        tracker = DialogueStateTracker.from_events("someone", events[:length], domain.slots)
        everything = domain.states_for_tracker_history(tracker)
        for keep in (1, 2, 3, 5, 40):
            states, longer = speedups.trailing_states(tracker, domain, keep)
            assert states == everything[-keep:]
            assert longer is (len(everything) > keep)


def test_the_rule_policy_gets_only_the_trailing_states_and_the_whole_feature_key(storage):
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RULES, RulePolicy
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.unit.conftest import context
    from tests.unit.rasa_originals import REPLACED

    domain = conversation_domain()
    policy = RulePolicy.create(RulePolicy.get_default_config(), storage, Resource("rules"), context())
    policy.lookup = {RULES: {'[{"prev_action": {"action_name": "action_listen"}}, {}, {}]': "x"}}
    tracker = DialogueStateTracker.from_events("someone", conversation_events(), domain.slots)
    assert RulePolicy._prediction_states is not REPLACED["Policy._prediction_states"]

    original_key = REPLACED["RulePolicy._create_feature_key"]
    for use_text in (True, False, True):  # the second and third reuse the first computation
        expected = Policy._prediction_states(policy, tracker, domain, use_text)
        states = policy._prediction_states(tracker, domain, use_text)
        assert states == expected[-3:]
        # Longer than the rule: its key is no rule's (Rasa only checks that).
        assert policy._create_feature_key(states) == speedups.LONGER_THAN_ANY_RULE
        assert original_key(policy, expected) not in policy.lookup[RULES]
    # A history no longer than the rules: Rasa's own key, from every state.
    short = DialogueStateTracker.from_events("other", conversation_events()[:2], domain.slots)
    states = policy._prediction_states(short, domain)
    assert states.longer_than_any_rule is False
    assert policy._create_feature_key(states) == original_key(
        policy, Policy._prediction_states(policy, short, domain)
    )
    # A new event: computed again.
    tracker.update(ActionExecuted("action_listen"))
    assert (
        policy._prediction_states(tracker, domain) == Policy._prediction_states(policy, tracker, domain)[-3:]
    )


def test_rule_names_count_as_no_states():
    # Rasa lists its default and loop rules by name among the rules not in stories.
    assert speedups._states_in("handling active loops and forms - a_form - action_listen") == 0
    assert speedups._states_in('[{"prev_action": {"action_name": "action_listen"}}, {}]') == 2


def _all_kinds_of_events() -> list[dict[str, Any]]:
    """One event of every type the action server may return, as rasa_sdk writes them."""
    from rasa_sdk import events as sdk

    return [
        sdk.SlotSet("x", 1),
        sdk.SlotSet("x", None),
        sdk.AllSlotsReset(),
        sdk.FollowupAction("action_y"),
        sdk.ActionExecuted("action_y"),
        sdk.UserUttered("hi", {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}),
        sdk.BotUttered("hello", {"buttons": []}),
        sdk.ActiveLoop("state_form"),
        sdk.ActiveLoop(None),
        sdk.Restarted(),
        sdk.UserUtteranceReverted(),
        sdk.ActionReverted(),
        sdk.ConversationPaused(),
        sdk.ConversationResumed(),
        sdk.SessionStarted(),
        sdk.ReminderScheduled("remind", __import__("datetime").datetime(2026, 1, 1)),
        sdk.ReminderCancelled("remind"),
        sdk.ActionExecutionRejected("action_y"),
        sdk.LoopInterrupted(True),
        sdk.AgentUttered("hi"),
    ]


@pytest.mark.parametrize(
    "event",
    [
        *_all_kinds_of_events(),
        # Invalid: no type, an unknown type, wrong field types, not an object.
        {"name": "x"},
        {"event": "no-such-event"},
        {"event": "slot", "name": 3},
        {"event": "slot", "timestamp": "yesterday"},
        {"event": "action", "name": None, "policy": 5},
        {"event": "user", "text": 5},
        {"event": 7},
        "slot",
        None,
    ],
)
def test_checking_events_by_type_decides_as_the_whole_schema(rasa_unpatched, event):
    # The per-type validators decide exactly as jsonschema on Rasa's whole schema.
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    whole = validator_for(schema)(schema)
    reply = {"events": [event], "responses": [{"text": "hi"}]}
    expected = whole.is_valid(reply)
    try:
        got = RemoteAction("action_x", None)._validate_action_result(reply)
    except ValidationError:
        got = False
    assert got is expected


def test_rule_applicability_with_the_reversed_states_kept_is_rasas(rasa_unpatched):
    # Every rule key of the trained model, against states of a real conversation, at every
    # turn index: the same answers as Rasa's own _is_rule_applicable.
    from rasa.core.policies.rule_policy import RulePolicy

    from tests.unit.rasa_originals import REPLACED

    original = REPLACED["RulePolicy._is_rule_applicable"]
    assert RulePolicy._is_rule_applicable is not original  # the speed-up is in place
    policy = RulePolicy.__new__(RulePolicy)
    rules = [
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]',
        '[{}, {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "faq"}}]',
        '[{"active_loop": {"name": "state_form"}, "prev_action": {"action_name": "state_form"}}]',
        '[{"prev_action": {"action_name": "action_answer_legal"}}, '
        '{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "inform_treatment"}}]',
    ]
    states = [
        {},
        {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}},
        {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "faq"}},
        {"prev_action": {"action_name": "action_answer_legal"}},
        {"prev_action": {"action_name": "state_form"}, "active_loop": {"name": "state_form"}},
    ]
    for rule in rules:
        for turn_index in range(3):
            for state in states:
                for _ in range(2):  # the second time from the kept states
                    assert policy._is_rule_applicable(rule, turn_index, state) == original(
                        policy, rule, turn_index, state
                    )
