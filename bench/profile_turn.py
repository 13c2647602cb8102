"""Where the time of one turn of our bot goes (used to decide optimisations).

    .venv/bin/python bench/profile_turn.py                      # timings, models/headache-faq.tar.gz
    .venv/bin/python bench/profile_turn.py --cprofile           # + cProfile of the Rasa server
    .venv/bin/python bench/profile_turn.py --model /tmp/x.tar.gz --repeat 60
    .venv/bin/python bench/profile_turn.py --launcher /tmp/patched_rasa.py  # try a patch first

Starts our bot as `make run` does, plus `--enable-api --auth-token <random>` so that
NLU can be timed alone (POST /model/parse), and times, one request at a time over
loopback (median and p95 of --repeat requests each):

  http floor        GET /                                   (Sanic + loopback)
  nlu only          POST /model/parse                        (the NLU pipeline)
  small-talk turn   REST "hello" in a new conversation       (NLU + rules + response, no action server)
  faq turn (new)    REST FAQ question, new conversation      (+ action server + SQL answer)
  faq turn (long)   REST FAQ question, turn 20+ of one conversation (tracker growth)
  action server     POST <action server>/webhook directly    (the action alone, real payload)
  tracker read      GET /conversations/<id>/tracker          (tracker store read + JSON)

With --cprofile the Rasa server runs under cProfile (main thread = Sanic's event
loop, where Rasa 3.6 runs NLU, policies and the tracker store) and the top functions
are printed. Loopback only, bounded, all servers stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import (  # noqa: E402
    VENV_BIN,
    Bot,
    prepare_our_data,
    raise_on_sigterm,
    start_ours,
    stop_servers,
    tree_rss_mb,
)
from channels.base import REST, conversation_id  # noqa: E402

FAQ_QUESTIONS = [
    "what is acupuncture?",
    "does acupuncture help migraines",
    "is dry needling safe?",
    "what is tui na",
    "does insurance cover acupuncture?",
]
# Functions whose cumulative time shows where a turn goes (cProfile names), and which
# requests call them: REST turns only, or also /model/parse, or also GET .../tracker.
AREAS = {
    "whole turn (handle_message)": ("rasa/core/processor.py", "handle_message", "turns"),
    "NLU (parse_message)": ("rasa/core/processor.py", "parse_message", "turns+parse"),
    "policies (predict_next_with_tracker_if_should)": (
        "rasa/core/processor.py",
        "predict_next_with_tracker_if_should",
        "turns",
    ),
    "custom action call (RemoteAction.run)": ("rasa/core/actions/action.py", "run", "turns"),
    "tracker store read (SQLTrackerStore.retrieve)": (
        "rasa/core/tracker_store.py",
        "retrieve",
        "turns+reads",
    ),
    "tracker store write (SQLTrackerStore.save)": ("rasa/core/tracker_store.py", "save", "turns"),
}


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[float, bytes]:
    """(milliseconds, response body) of one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as response:
        payload = response.read()
    return (time.perf_counter() - started) * 1000, payload


def timed(repeat: int, call: Callable[[int], float]) -> dict[str, float]:
    values = [call(i) for i in range(repeat)]
    values.sort()
    return {
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(values[min(len(values) - 1, int(0.95 * len(values)))], 1),
        "n": len(values),
    }


def say(bot: Bot, sender: str, text: str) -> tuple[float, list[dict]]:
    ms, body = request("POST", f"{bot.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
    return ms, json.loads(body)


def measure(bot: Bot, token: str, repeat: int) -> dict[str, Any]:
    api = f"?token={token}"
    results: dict[str, Any] = {}
    for i in range(5):  # warm-up
        say(bot, f"warm-{i}", FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)])

    results["http floor"] = timed(repeat, lambda i: request("GET", f"{bot.rasa_url}/")[0])
    results["nlu only"] = timed(
        repeat,
        lambda i: request(
            "POST", f"{bot.rasa_url}/model/parse{api}", {"text": FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)]}
        )[0],
    )
    results["small-talk turn"] = timed(
        repeat, lambda i: say(bot, f"hello-{uuid.uuid4().hex[:8]}", "hello")[0]
    )
    results["faq turn (new conversation)"] = timed(
        repeat,
        lambda i: say(bot, f"faq-{uuid.uuid4().hex[:8]}", FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)])[0],
    )
    long_sender = f"long-{uuid.uuid4().hex[:8]}"
    for i in range(20):
        say(bot, long_sender, FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)])
    results["faq turn (turn 20+ of one conversation)"] = timed(
        repeat, lambda i: say(bot, long_sender, FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)])[0]
    )

    # The action alone, with the payload Rasa sends: the tracker state, and the whole
    # domain only without endpoints.yml's enable_selective_domain.
    sender = f"direct-{uuid.uuid4().hex[:8]}"
    say(bot, sender, "what is acupuncture?")
    # The REST visitor "direct-..." is the conversation "rest:direct-..." (channels.base).
    conversation = conversation_id(REST, sender)
    _, tracker_raw = request(
        "GET", f"{bot.rasa_url}/conversations/{conversation}/tracker{api}&include_events=ALL"
    )
    _, domain_raw = request("GET", f"{bot.rasa_url}/domain{api}", headers={"Accept": "application/json"})
    tracker, domain = json.loads(tracker_raw), json.loads(domain_raw)
    payload = {
        "next_action": "action_answer_faq",
        "sender_id": conversation,
        "tracker": tracker,
        "version": "3.6.21",
    }
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    if not (endpoints.get("action_endpoint") or {}).get("enable_selective_domain"):
        payload["domain"] = domain
    results["action server (direct)"] = timed(
        repeat, lambda i: request("POST", f"{bot.action_url}/webhook", payload)[0]
    )
    results["action payload bytes"] = {
        "total": len(json.dumps(payload)),
        "domain": len(json.dumps(domain)) if "domain" in payload else 0,
        "tracker": len(json.dumps(tracker)),
    }
    results["tracker read (GET tracker, 20+ turns)"] = timed(
        repeat,
        lambda i: request(
            "GET", f"{bot.rasa_url}/conversations/{conversation_id(REST, long_sender)}/tracker{api}"
        )[0],
    )
    results["rss_mb"] = {server.name: round(tree_rss_mb(server.pid), 1) for server in bot.servers}
    return results


def print_profile(path: Path, counts: dict[str, int]) -> dict[str, float]:
    stats = pstats.Stats(str(path))
    areas: dict[str, float] = {}
    raw = stats.stats  # type: ignore[attr-defined]
    for label, (file_suffix, function, calls) in AREAS.items():
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in raw.items():
            if name == function and filename.endswith(file_suffix):
                total = max(total, ct)
        areas[label] = round(total / max(counts[calls], 1) * 1000, 2)
    print(f"\ncProfile of the Rasa server (main thread), ms per call ({counts['turns']} REST turns):")
    for label, value in areas.items():
        print(f"  {label:<58} {value:8.2f}")
    print("\ntop 25 functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(25)
    print("top 25 functions by own time:")
    stats.sort_stats("tottime").print_stats(25)
    return areas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "headache-faq.tar.gz")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, rasa.prof)")
    parser.add_argument("--our-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--launcher",
        type=Path,
        help="a Python file run instead of `rasa` (applies a candidate patch, then calls rasa's main)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "profile_turn.json")
    args = parser.parse_args()
    if not args.model.exists():
        parser.error(f"{args.model} is missing: run `make train` or pass --model")
    raise_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        return run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    token = secrets.token_urlsafe(16)
    profile_path = work / "rasa.prof"
    python = str(VENV_BIN / "python")
    rasa_entry = [str(args.launcher.resolve())] if args.launcher else ["-m", "rasa"]
    if args.cprofile:
        command: list[str] | None = [python, "-m", "cProfile", "-o", str(profile_path), *rasa_entry]
    else:
        command = [python, *rasa_entry] if args.launcher else None
    bot: Bot | None = None
    try:
        env = prepare_our_data(work)
        bot = start_ours(
            work,
            args.model.resolve(),
            env,
            extra_env=dict(item.split("=", 1) for item in args.our_env),
            extra_rasa_args=["--enable-api", f"--auth-token={token}"],
            rasa_command=command,
        )
        print(f"started (Rasa {bot.startup_s['rasa']:.1f} s, actions {bot.startup_s['actions']:.1f} s)")
        results = measure(bot, token, args.repeat)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        if bot is not None:
            stop_servers(bot.servers)

    print(f"\none request at a time, {args.repeat} each (ms):")
    for label, value in results.items():
        if isinstance(value, dict) and "median_ms" in value:
            print(f"  {label:<42} median {value['median_ms']:8.1f}   p95 {value['p95_ms']:8.1f}")
    print(f"  action payload bytes: {results['action payload bytes']}")
    print(f"  resident memory (MB): {results['rss_mb']}")
    new = results["faq turn (new conversation)"]["median_ms"]
    talk = results["small-talk turn"]["median_ms"]
    print(f"\n  faq turn - small-talk turn (action server in the loop): {new - talk:.1f} ms")
    longer = results["faq turn (turn 20+ of one conversation)"]["median_ms"]
    print(f"  turn 20+ - new conversation (tracker growth): {longer - new:.1f} ms")

    if args.cprofile:
        if profile_path.exists():
            turns = 5 + 3 * args.repeat + 20 + 1  # warm-up, three turn kinds, long conversation, direct
            counts = {
                "turns": turns,
                "turns+parse": turns + args.repeat,
                "turns+reads": turns + args.repeat + 1,
            }
            results["cprofile_ms_per_call"] = print_profile(profile_path, counts)
        else:
            print("no profile written (the Rasa server did not exit cleanly)", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
