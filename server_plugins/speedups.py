"""Per-turn costs of Rasa 3.6 found by profiling, removed with the same results.

Each patch replaces one private Rasa function. It is applied only when the
installed Rasa is the version it was written for and the replaced function's
source has the fingerprint recorded in :data:`FINGERPRINTS`
(``server_plugins/rasa_guard.py``); otherwise that patch steps aside with one log
line and Rasa's own code runs. What each patch saved, and how it was measured, is
in docs/deployment.md ("Speed"): ``bench/profile_turn.py --cprofile`` for the
per-turn profile, ``bench/load.py`` with ``FAQBOT_SPEEDUPS=0`` and ``=1`` for
throughput.

- ``RemoteAction._validate_action_result`` called ``jsonschema.validate()`` on every
  reply from the action server, which checks the schema itself and builds a new
  validator each time. Here the schema is checked once and the validator kept; a
  reply is validated exactly as before and an invalid one raises the same
  ``ValidationError`` with Rasa's message. Each event is checked against the one branch
  of the schema's 23-way ``oneOf`` that can match it (the branch whose ``event`` constant
  is its type) instead of all 23.
- ``Event.resolve_by_type`` walks every subclass of ``Event`` for every event it
  deserialises (tracker store reads, action replies). Found classes are remembered
  by type name; unknown names still take Rasa's own path (default, error).
- ``DaskGraphRunner.run`` hands the model's graph to ``dask.get`` for every NLU parse
  and every action prediction: dask rebuilds the task graph and orders it each time,
  for a graph that runs one node after another anyway. Here the graph runs in a
  topological order computed once per set of targets, with dask's conventions kept:
  inputs are ``(name, value)`` pairs, an input replaces a node of the same name, a
  name that resolves to nothing is passed as the bare name, and the same clash check
  and error wrapping apply. Training (``rasa train``) does not load our plug-ins and
  keeps dask.
- ``EndpointConfig.session`` (every call to the action server) opened a new
  ``aiohttp.ClientSession`` per call, so every custom action paid for a new TCP
  connection on both servers. Here ``async with endpoint.session()`` yields one
  session per endpoint and event loop that stays open, so its keep-alive connections
  are reused. Idle connections are dropped after ``KEEPALIVE_SECONDS``, before the
  action server's own keep-alive timeout (Sanic's 5 s), so a request is never sent on
  a connection the server is closing. Headers, authentication and timeouts are
  Rasa's; a worker closes its sessions when it stops (:func:`close_pooled_sessions`).

- ``RulePolicy`` computed the dialogue state at every step of the whole conversation
  (replaying every event) for each prediction, three times per turn (after the user's
  message with text, then with intent; after the action), so a turn's cost grew with
  the conversation. A rule can only look at as many states as the longest rule has:
  here only that many trailing states are computed (the events are still replayed to
  reach them), and the second computation of a turn with the same events reuses the
  first. Where no rule applies, Rasa makes the whole history's feature key only to ask
  whether it is one of its rules' keys (``hide_rule_turn``): a history longer than every
  rule is none, so :data:`LONGER_THAN_ANY_RULE` stands for its key; a shorter one's key is
  made from every state, as before. Only Rasa's DEBUG log lines show fewer states.
  ``RulePolicy._is_rule_applicable`` (about 400 calls a turn) keeps each rule key's
  reversed states instead of building a new reversed list on every call.

None of these changes what ``/model/parse`` returns or which action runs
(tests/integration/test_speedups.py compares a model's outputs with and without
them). ``install()`` is called by our plug-ins' constructors (tracker store, lock
store, REST channel), so the Rasa server applies it at start-up; importing this
module changes nothing. ``FAQBOT_SPEEDUPS=0`` turns it off (to measure the
difference).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import Any

from actions.settings import speedups_enabled
from server_plugins import rasa_guard

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_installed = False
# Names of patches that could not be applied (the server then runs Rasa's own code).
failed: list[str] = []
# Names of patches that stepped aside because Rasa's source is not what they replace.
refused: list[str] = []

# rasa_guard.source_fingerprint of each Rasa function a patch replaces, in Rasa 3.6.21.
FINGERPRINTS = {
    "RemoteAction._validate_action_result": "f8cdb4be68123961",
    "Event.resolve_by_type": "b5cf570fa7f286c7",
    "DaskGraphRunner.run": "45f0f52f574f3aa9",
    "EndpointConfig.session": "e55aa13d9d4fb4bc",
    "Policy._prediction_states": "ed9b82bed2f26ad7",
    "RulePolicy._create_feature_key": "641eda8d019918ce",
    "RulePolicy._is_rule_applicable": "64a108b016b46e57",
}
# Rasa functions whose behaviour the RulePolicy patch relies on without replacing them:
# how rules are matched against the trailing states, and how those states are made.
RELIED_ON = {
    "RulePolicy._find_action_from_rules": "be6da6ee0f5429bd",
    "RulePolicy._get_possible_keys": "2915fd81711e194c",
    "RulePolicy._is_rule_applicable": "64a108b016b46e57",
    "RulePolicy._predict": "f5182d8a10639e14",
    "RulePolicy._rule_prediction": "90316ddf7eb4b314",
    "MaxHistoryTrackerFeaturizer.prediction_states": "451caf09a389e871",
    "TrackerFeaturizer._create_states": "2fed265eee3bfa38",
    "Domain.states_for_tracker_history": "035111ce73ac90ba",
    "DialogueStateTracker.generate_all_prior_trackers": "a1f6954347b52649",
}


def _may_replace(original: Any) -> bool:
    """Whether ``original`` is the Rasa code its patch was written against."""
    name = original.__qualname__
    if rasa_guard.unchanged(f"Rasa speed-up for {name}", original, FINGERPRINTS[name]):
        return True
    refused.append(name)
    return False


def enabled() -> bool:
    return speedups_enabled()


def install() -> bool:
    """Apply the patches once per process; return whether all of them are active.

    A patch whose Rasa source changed steps aside (one WARNING line); one that fails
    while being applied is logged at ERROR and skipped: the server is slower, not
    down."""
    global _installed
    if not enabled():
        return False
    with _lock:
        if not _installed:
            for patch in (
                _cache_action_response_validator,
                _cache_event_classes,
                _run_graphs_in_order,
                _keep_endpoint_sessions_open,
                _rule_states_of_the_recent_turns,
                # Last: the patch above checks that Rasa's _is_rule_applicable is unchanged.
                _reversed_rule_states_once,
            ):
                try:
                    patch()
                except Exception:
                    failed.append(patch.__name__)
                    logger.exception("Rasa speed-up %s not applied", patch.__name__)
            _installed = True
            logger.debug(
                "Rasa speed-ups installed (%s failed, %s refused)", failed or "none", refused or "none"
            )
    return not failed and not refused


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if not _may_replace(RemoteAction._validate_action_result):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    by_event = _validators_by_event_type(schema, validator_class)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            if by_event is None:
                validator.validate(result)
                return True
            whole, events, item = by_event
            whole.validate(result)
            for event in result.get("events") or ():
                # The one branch of "oneOf" that can match: the one whose "event" is this
                # event's type; anything else goes through the whole "oneOf".
                kind = event.get("event") if isinstance(event, dict) else None
                branch = events.get(kind) if isinstance(kind, str) else None
                (branch or item).validate(event)
            return True
        except ValidationError as error:
            # The same message as Rasa's own implementation.
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result


def _validators_by_event_type(
    schema: dict[str, Any], validator_class: Any
) -> tuple[Any, dict[str, Any], Any] | None:
    """Rasa's action response schema checks each event against a ``oneOf`` of 23 event schemas,
    each fixing ``event`` to one constant: jsonschema tries all 23 for every event (most of a
    turn's validation time). An event can only match the branch whose constant is its type, so
    validating it against the item schema without ``oneOf`` plus that branch decides the same.
    Returns (the response without the event items, validators by event type, the whole item
    schema), or None when the schema is not of that shape (then the whole schema is used)."""
    try:
        events = schema["properties"]["events"]
        item = events["items"]
        branches = item["oneOf"]
        constants = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if len(set(constants)) != len(constants) or not all(isinstance(c, str) for c in constants):
        return None
    base = {key: value for key, value in item.items() if key != "oneOf"}
    response = {
        **schema,
        "properties": {**schema["properties"], "events": {k: v for k, v in events.items() if k != "items"}},
    }
    return (
        validator_class(response),
        {
            c: validator_class({"allOf": [base, branch]})
            for c, branch in zip(constants, branches, strict=True)
        },
        validator_class(item),
    )


def _cache_event_classes() -> None:
    from rasa.shared.core.events import Event

    resolve = Event.resolve_by_type  # Rasa's staticmethod, as a plain function
    if not _may_replace(resolve):
        return
    known: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = known.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            # Only real matches are remembered: a default or None depends on the call.
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                known[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _execution_order(schema: Any, targets: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Nodes needed for ``targets``, each after the nodes it needs, with their needs."""
    nodes = schema.minimal_graph_schema(targets).nodes
    order: list[tuple[str, tuple[str, ...]]] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in nodes:
            return
        placed.add(name)
        needs = tuple(nodes[name].needs.values())
        for needed in needs:
            place(needed)
        order.append((name, needs))

    for name in nodes:
        place(name)
    return order


def _run_graphs_in_order() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if not _may_replace(DaskGraphRunner.run):
        return

    def run(
        self: DaskGraphRunner,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        run_targets = list(targets if targets else self._graph_schema.target_names)
        orders = self.__dict__.setdefault("_faqbot_execution_orders", {})
        order = orders.get(tuple(run_targets))
        if order is None:
            order = orders[tuple(run_targets)] = _execution_order(self._graph_schema, run_targets)
        results: dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and (
                input_value in results or any(input_value == name for name, _ in order)
            ):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            results[input_name] = (input_name, input_value)
        try:
            for node_name, needs in order:
                if node_name not in results:
                    node = self._instantiated_nodes[node_name]
                    results[node_name] = node(*(results.get(needed, needed) for needed in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results.get(target, target) for target in run_targets)

    DaskGraphRunner.run = run


# Below the 5 s keep-alive timeout of the action server (Sanic's default), so the
# client always drops an idle connection before the server closes it.
KEEPALIVE_SECONDS = 2.0
# Attribute of an EndpointConfig: {event loop -> its open session} (weak on loops).
# EndpointConfig defines __eq__ without __hash__, so it cannot be a dictionary key.
SESSIONS_ATTRIBUTE = "_faqbot_sessions"
# Event loop -> every session opened in it, to close them when the worker stops.
_opened: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


class _KeptSession:
    """What ``async with endpoint.session()`` yields: the endpoint's open session for
    the running loop, left open on exit for the next call."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: object) -> None:
        return None


def pooled_session(endpoint: Any) -> _KeptSession:
    """The open session of ``endpoint`` for the running loop: Rasa's
    ``EndpointConfig.session()`` settings, with a keep-alive connector."""
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    per_loop = endpoint.__dict__.setdefault(SESSIONS_ATTRIBUTE, weakref.WeakKeyDictionary())
    session = per_loop.get(loop)
    if session is None or session.closed:
        basic_auth = endpoint.basic_auth
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=aiohttp.BasicAuth(basic_auth["username"], basic_auth["password"]) if basic_auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )
        per_loop[loop] = session
        _opened.setdefault(loop, []).append(session)
    return _KeptSession(session)


async def close_pooled_sessions() -> None:
    """Close every endpoint session opened in the running loop (a worker stopping)."""
    for session in _opened.pop(asyncio.get_running_loop(), []):
        if not session.closed:
            await session.close()


def _keep_endpoint_sessions_open() -> None:
    from rasa.utils.endpoints import EndpointConfig

    if not _may_replace(EndpointConfig.session):
        return
    EndpointConfig.session = pooled_session


# Stands for the feature key of a history longer than any rule: Rasa only checks whether
# the key is one of its rules' keys (``hide_rule_turn``), which such a key never is.
LONGER_THAN_ANY_RULE = "(a history longer than any rule)"


class TrailingStates(list[Any]):
    """The last states of a conversation (what rules can match). ``longer_than_any_rule``:
    earlier states were left out (and no rule snippet cuts the key short), so the whole
    history's feature key has more states than any rule; ``all_states`` computes them all."""

    def __init__(self, states: list[Any], longer_than_any_rule: bool, all_states: Any) -> None:
        super().__init__(states)
        self.longer_than_any_rule = longer_than_any_rule
        self.all_states = all_states


def longest_rule(policy: Any) -> int:
    """How many states the longest of the policy's rules has (kept on the policy)."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RULES_NOT_IN_STORIES

    cached = policy.__dict__.get("_faqbot_longest_rule")
    if cached is None:
        keys = [
            *policy.lookup.get(RULES, {}),
            *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}),
            *policy.lookup.get(RULES_NOT_IN_STORIES, []),
        ]
        cached = policy.__dict__["_faqbot_longest_rule"] = max(map(_states_in, keys), default=1)
    return int(cached)


def _states_in(key: str) -> int:
    """How many states a rule key holds (0 for the names Rasa gives its default and loop
    rules, which no feature key can equal)."""
    import json

    try:
        states = json.loads(key)
    except ValueError:
        return 0
    return len(states) if isinstance(states, list) else 0


def trailing_states(tracker: Any, domain: Any, keep: int) -> tuple[list[Any], bool]:
    """``domain.states_for_tracker_history(tracker)[-keep:]`` (no rule-only turns hidden,
    unset slots kept), and whether earlier states were left out in a history with no rule
    snippet (``...``, which cuts a feature key short; live conversations have none): every
    event is replayed, states are made for the last ``keep`` steps only."""
    from rasa.shared.core.constants import RULE_SNIPPET_ACTION_NAME
    from rasa.shared.core.events import ActionExecuted

    events = tracker.applied_events()
    steps = 1 + sum(1 for event in events if isinstance(event, ActionExecuted))
    first_kept = steps - keep
    replayed = tracker.init_copy()
    states = []
    step = 0
    snippet = False
    for event in events:
        if isinstance(event, ActionExecuted):
            if step >= first_kept:
                states.append(domain._clean_state(domain.get_active_state(replayed)))
            snippet |= event.action_name == RULE_SNIPPET_ACTION_NAME
            step += 1
        replayed.update(event)
    states.append(domain._clean_state(domain.get_active_state(replayed)))
    return states, first_kept > 0 and not snippet


def _rule_states_of_the_recent_turns() -> None:
    import copy

    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.policy import Policy, SupportedData
    from rasa.core.policies.rule_policy import RulePolicy

    replaced = (Policy._prediction_states, RulePolicy._create_feature_key)
    if not all([_may_replace(function) for function in replaced]):  # one line per refusal
        return
    for name, fingerprint in RELIED_ON.items():
        function = _rasa_function(name)
        if not rasa_guard.unchanged(
            f"Rasa speed-up for RulePolicy (relies on {name})", function, fingerprint
        ):
            refused.append(name)
            return
    all_prediction_states = Policy._prediction_states
    create_feature_key = RulePolicy._create_feature_key

    def _prediction_states(
        self: RulePolicy,
        tracker: Any,
        domain: Any,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[Any]:
        def everything() -> list[Any]:
            return list(
                all_prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
            )

        featurizer = self.featurizer
        if (
            type(featurizer) is not MaxHistoryTrackerFeaturizer
            or featurizer.max_history is not None
            or self.supported_data() == SupportedData.ML_DATA
        ):
            return everything()
        remembered = self.__dict__.get("_faqbot_trailing")
        signature = (len(tracker.events), id(tracker.events[-1]) if tracker.events else None)
        if remembered is not None and remembered[0]() is tracker and remembered[1] == signature:
            made, longer = remembered[2]
        else:
            made, longer = trailing_states(tracker, domain, longest_rule(self))
            self.__dict__["_faqbot_trailing"] = (weakref.ref(tracker), signature, (made, longer))
        # Rasa trims the last user input in place: each prediction gets its own copy.
        states = copy.deepcopy(made)
        featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return TrailingStates(states, longer, everything)

    def _create_feature_key(self: RulePolicy, states: list[Any]) -> str | None:
        if isinstance(states, TrailingStates):
            if states.longer_than_any_rule:
                return LONGER_THAN_ANY_RULE
            states = states.all_states()
        return create_feature_key(self, states)

    RulePolicy._prediction_states = _prediction_states
    RulePolicy._create_feature_key = _create_feature_key


def _reversed_rule_states_once() -> None:
    """RulePolicy._is_rule_applicable reversed the states of the rule it checks into a new list
    on each of its ~400 calls a turn (every rule key, against each trailing state); each rule
    key's reversed states are kept instead. The same checks in the same order otherwise."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION

    if not _may_replace(RulePolicy._is_rule_applicable):
        return
    # Rule keys are the trained rules' JSON states: a few hundred per model.
    reversed_by_key: dict[str, list[Any]] = {}

    def _is_rule_applicable(
        self: RulePolicy, rule_key: str, turn_index: int, conversation_state: Any
    ) -> bool:
        reversed_rule_states = reversed_by_key.get(rule_key)
        if reversed_rule_states is None:
            reversed_rule_states = list(reversed(self._rule_key_to_state(rule_key)))
            reversed_by_key[rule_key] = reversed_rule_states
        if turn_index >= len(reversed_rule_states):
            return True
        current_previous_action = conversation_state.get(PREVIOUS_ACTION)
        rule_previous_action = reversed_rule_states[turn_index].get(PREVIOUS_ACTION)
        if not rule_previous_action and not current_previous_action:
            return True
        if not rule_previous_action or not current_previous_action:
            return False
        return bool(self._does_rule_match_state(reversed_rule_states[turn_index], conversation_state))

    RulePolicy._is_rule_applicable = _is_rule_applicable


def _rasa_function(name: str) -> Any:
    """The Rasa function called ``name`` in :data:`RELIED_ON`."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    owners = {
        "RulePolicy": RulePolicy,
        "MaxHistoryTrackerFeaturizer": MaxHistoryTrackerFeaturizer,
        "TrackerFeaturizer": TrackerFeaturizer,
        "Domain": Domain,
        "DialogueStateTracker": DialogueStateTracker,
    }
    owner, _, attribute = name.partition(".")
    return getattr(owners[owner], attribute)  # a staticmethod gives its plain function too
