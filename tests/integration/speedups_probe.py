"""Run by test_speedups.py in a fresh process: NLU and policy predictions as JSON.

``FAQBOT_SPEEDUPS`` decides whether server_plugins.speedups patches Rasa first, so
the test can compare the two runs. With ``PROBE_ALTER_GRAPH_RUNNER=1`` Rasa's
``DaskGraphRunner.run`` is first replaced by a copy whose source differs (as after a
Rasa upgrade), so that patch must step aside. Usage: python speedups_probe.py MODEL_PATH
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

TEXTS = [
    "hello",
    "what is acupuncture?",
    "does acupunture help with migrane",
    "is dry needling safe",
    "how many sessions of tui na would i need",
    "is dry needling legal in texas",
    "asdf qwerty",
    "thanks, bye",
]


def _ranking(items: list[dict[str, Any]], key: str) -> list[tuple[str, float]]:
    return [(str(item.get(key)), round(float(item.get("confidence") or 0.0), 5)) for item in items]


def altered_copy(function: Any, directory: Path) -> Any:
    """``function`` compiled from a file holding its source plus one comment line: the
    same behaviour, a different source (what a Rasa upgrade could bring)."""
    source = textwrap.dedent(inspect.getsource(function))
    header, _, body = source.partition(":\n")
    path = directory / f"altered_{function.__name__}.py"
    path.write_text(f"{header}:\n    # changed upstream\n{body}", encoding="utf-8")
    namespace = dict(function.__globals__)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    altered = namespace[function.__name__]
    altered.__qualname__ = function.__qualname__
    return altered


async def probe(model_path: str) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import UserUttered

    from server_plugins import speedups

    if os.environ.get("PROBE_ALTER_GRAPH_RUNNER") == "1":
        DaskGraphRunner.run = altered_copy(DaskGraphRunner.run, Path(tempfile.mkdtemp()))
    patched = speedups.install()
    agent = Agent.load(model_path)
    results = []
    for number, text in enumerate(TEXTS):
        parsed = await agent.parse_message(text)
        selector = (parsed.get("response_selector") or {}).get("faq") or {}
        tracker = await agent.processor.fetch_tracker_and_update_session(f"probe-{number}")
        tracker.update(UserUttered(text, parsed.get("intent"), parsed.get("entities"), parsed))
        prediction = agent.processor._predict_next_with_tracker(tracker)
        actions = agent.domain.action_names_or_texts
        results.append(
            {
                "text": text,
                "intent_ranking": _ranking(parsed.get("intent_ranking") or [], "name"),
                # Read by action_answer_faq only after the intent faq; the speed-ups
                # skip the selector for other intents.
                "faq_ranking": _ranking(selector.get("ranking") or [], "intent_response_key")
                if (parsed.get("intent") or {}).get("name") == "faq"
                else None,
                "selector_ran": bool(selector),
                "entities": sorted((e["entity"], str(e["value"])) for e in parsed.get("entities") or []),
                "next_action": actions[prediction.max_confidence_index],
                "confidence": round(prediction.max_confidence, 5),
                "policy": prediction.policy_name,
            }
        )
    return {
        "patched": patched,
        "refused": speedups.refused,
        "results": results,
        "conversation": await conversation(agent),
    }


# A long conversation (the rule policy's states grow with it): FAQ questions, small talk,
# a state question, a form started and interrupted, nonsense, and a restart of the topic.
CONVERSATION = [
    "hi",
    "what is dry needling",
    "does it hurt",
    "is it covered by insurance",
    "can a PT do dry needling in ohio",
    "what about texas",
    "thanks",
    "can you check a licence for me",
    "what is tui na",
    "TX",
    "asdf qwerty",
    "what can i expect from acupuncture for migraines",
    "chronic",
    "is acupuncture safe in pregnancy",
    "bye",
] * 3


async def conversation(agent: Any) -> list[list[Any]]:
    """Every prediction along :data:`CONVERSATION` (actions are not run: each predicted
    action is logged, and a predicted form is started or finished, as its action would)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered

    actions = agent.domain.action_names_or_texts
    forms = set(agent.domain.form_names)
    tracker = await agent.processor.fetch_tracker_and_update_session("probe-conversation")
    predictions = []
    for text in CONVERSATION:
        parsed = await agent.parse_message(text)
        tracker.update(UserUttered(text, parsed.get("intent"), parsed.get("entities"), parsed))
        for _ in range(4):
            prediction = agent.processor._predict_next_with_tracker(tracker)
            action = actions[prediction.max_confidence_index]
            predictions.append(
                [
                    text,
                    action,
                    round(prediction.max_confidence, 5),
                    prediction.policy_name,
                    json.dumps(prediction.action_metadata, sort_keys=True),
                ]
            )
            tracker.update(
                ActionExecuted(
                    action,
                    prediction.policy_name,
                    prediction.max_confidence,
                    hide_rule_turn=prediction.hide_rule_turn,
                    metadata=prediction.action_metadata,
                )
            )
            if action in forms:
                # A form starts when first predicted and is done the next time (as if the
                # visitor's answer filled it), so the rules after a form are exercised too.
                tracker.update(ActiveLoop(None if tracker.active_loop_name == action else action))
            if action == "action_listen":
                break
    return predictions


if __name__ == "__main__":
    print("PROBE " + json.dumps(asyncio.run(probe(sys.argv[1]))))
