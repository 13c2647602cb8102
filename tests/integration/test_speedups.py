"""The Rasa speed-ups (server_plugins/speedups.py) change nothing a user could see:
the trained model gives the same intents, FAQ rankings, entities and next actions
with and without them. Each side runs in its own process (the patches are global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actions.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "headache-faq.tar.gz"
PROBE = Path(__file__).with_name("speedups_probe.py")


def run_probe(speedups: str, alter_graph_runner: bool = False) -> dict:
    env = {
        **os.environ,
        "FAQBOT_SPEEDUPS": speedups,
        "PROBE_ALTER_GRAPH_RUNNER": "1" if alter_graph_runner else "0",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, str(PROBE), str(MODEL)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line[len("PROBE ") :])


@pytest.fixture(scope="module")
def plain() -> dict:
    """The model's outputs with Rasa's own code only."""
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train`")
    return run_probe("0")


def test_predictions_are_identical_with_and_without_speedups(plain):
    fast = run_probe("1")
    assert plain["patched"] is False
    assert fast["patched"] is True
    assert fast["results"] == plain["results"]
    # The FAQ topic classifier (nlp_pipeline.faq_topics) ranks FAQ questions only.
    ran = {result["text"]: result["selector_ran"] for result in fast["results"]}
    assert ran["hello"] is False and ran["what is acupuncture?"] is True
    # The probe covers the FAQ answer path and the rules, not only small talk.
    assert any(result["faq_ranking"] for result in fast["results"])
    assert {result["policy"] for result in fast["results"]} >= {"RulePolicy"}
    # A long conversation: the rule policy's trailing states give the same predictions and
    # the same metadata (incl. the whole history's feature key where no rule applied).
    assert fast["conversation"] == plain["conversation"]
    assert len(fast["conversation"]) > 80


def test_a_patch_over_changed_rasa_source_steps_aside_and_the_model_still_answers(plain):
    guarded = run_probe("1", alter_graph_runner=True)
    assert guarded["patched"] is False
    assert guarded["refused"] == ["DaskGraphRunner.run"]
    assert guarded["results"] == plain["results"]
