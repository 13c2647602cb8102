"""Benchmark our bot against a vanilla `rasa init` bot on the same machine, in one run.

    .venv/bin/python bench/compare_vanilla.py            # the full run (make bench), 10-20 min idle
    .venv/bin/python bench/compare_vanilla.py --quick    # small request counts, to check it works
    .venv/bin/python bench/compare_vanilla.py --our-model models/headache-faq.tar.gz \\
        --vanilla-dir /tmp/vanilla-bot                   # reuse models: no training measured

1. Training: `rasa init --no-prompt` in a temporary folder (the moodbot, trained by
   `rasa init` with its default config: DIET, TED, UnExpecTED...) and our project
   trained into a temporary folder with `rasa train --force` (empty cache for both).
2. Start-up: each server from process start to HTTP 200 on `/` (ours: the Rasa
   server and the action server are started together, as `make run` does).
3. Load over the REST channel on 127.0.0.1: closed-loop virtual users, each its own
   conversation, at 1 and 10 concurrent conversations, a bounded number of
   requests per phase; our messages are FAQ questions and small talk, the vanilla
   bot's its moodbot phrases. Our turns run the whole production path: guarded
   REST channel, NLU, RulePolicy, the action server reading answers from SQL, the
   SQL tracker store and the lock store.
4. Memory: resident memory (VmRSS, child processes included) of each server,
   idle after warm-up and the peak during load.

Prints a markdown table with the ratios ours/vanilla and the issue-9 targets, and
writes everything to results/bench_vanilla.json. Loopback only; every phase is
bounded in requests and seconds; all servers are stopped at the end, on failure
and on Ctrl-C. Figures taken while other work loads the machine are marked so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadResult, MemorySampler, rest_check, run_load  # noqa: E402
from bench.servers import (  # noqa: E402
    QUIET_ENV,
    RASA,
    VENV_BIN,
    Bot,
    ForeignCpu,
    connections_per_process,
    prepare_our_data,
    raise_on_sigterm,
    start_ours,
    start_vanilla,
    stop_servers,
    tree_rss_mb,
)

TRAIN_TIMEOUT_S = 1800
P95_TARGET_MS = 150.0
THROUGHPUT_TARGET_RATIO = 2.0
BUSY_LOAD_AVERAGE = 2.0
# CPU used by processes other than the bench and its servers during the load phases.
BUSY_FOREIGN_CORES = 0.3

# Website visitors: greetings, FAQ questions in their own words (typos included),
# follow-ups that rely on context, thanks and goodbyes.
OUR_CONVERSATIONS = [
    ["hi", "what is acupuncture?", "does it actually work for migraines?", "thanks"],
    ["what's dry needling", "is dry needling safe?", "how is it different from acupuncture", "bye"],
    ["hello", "what is tui na", "how many sessions would I need?", "thank you"],
    ["does insurance pay for acupuncture?", "does acupuncture hurt", "ok thanks, goodbye"],
    ["hey there", "can acupunture help with tension headaches", "what are the side effects", "thanks!"],
]
VANILLA_CONVERSATIONS = [
    ["hi", "I am feeling sad", "yes", "bye"],
    ["hello there", "I'm great", "goodbye"],
    ["hey", "not good", "no", "see you later"],
    ["good morning", "are you a bot?", "I feel very good", "bye bye"],
    ["hey dude", "I am sad", "yes it did", "have a nice day"],
]
APOLOGY_PREFIXES = ("Sorry, something went wrong on my side", "Sorry, I can't reach my answer library")


def our_check(status: int, body: Any) -> str | None:
    """A real reply: not the guarded channel's apology nor the data-outage message."""
    problem = rest_check(status, body)
    if problem:
        return problem
    text = " ".join(str(message.get("text") or "") for message in body if isinstance(message, dict))
    if text.startswith(APOLOGY_PREFIXES):
        return "apology instead of an answer"
    return None


# ---------------------------------------------------------------- training
def timed_run(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Run ``command`` to completion (bounded); return its wall time in seconds."""
    started = time.monotonic()
    with log.open("w") as handle:
        try:
            completed = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=TRAIN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"{command[1:3]} took more than {TRAIN_TIMEOUT_S} s; log {log}") from error
    if completed.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command[:3])} failed ({completed.returncode}); log {log}:\n{tail}")
    return time.monotonic() - started


def init_vanilla(work: Path) -> tuple[Path, float]:
    """`rasa init --no-prompt` (scaffold + training) in ``work``/vanilla; its wall time."""
    project = work / "vanilla"
    project.mkdir()
    env = {**os.environ, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(project / ".rasa" / "cache")}
    print("training the vanilla bot (rasa init --no-prompt)...", flush=True)
    seconds = timed_run(
        [RASA, "init", "--no-prompt", "--init-dir", str(project)], project, env, work / "vanilla_init.log"
    )
    if not list((project / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init produced no model; log {work / 'vanilla_init.log'}")
    return project, seconds


def train_ours(work: Path) -> tuple[Path, float]:
    """Our project trained into ``work``/models with an empty cache; its wall time."""
    out = work / "models"
    env = {**os.environ, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(work / "train-cache")}
    print("training our bot (rasa train --force)...", flush=True)
    seconds = timed_run(
        [
            RASA,
            "train",
            "--domain",
            "domain",
            "--data",
            "data/nlu",
            "data/rules",
            "data/stories",
            "--config",
            "config.yml",
            "--out",
            str(out),
            "--fixed-model-name",
            "bench",
            "--force",
        ],
        ROOT,
        env,
        work / "ours_train.log",
    )
    return out / "bench.tar.gz", seconds


# ---------------------------------------------------------------- load
async def measure(
    bot: Bot,
    conversations: list[list[str]],
    check: Any,
    concurrency: int,
    total: int,
    max_seconds: float,
    run_id: str,
) -> tuple[LoadResult, dict[str, float]]:
    pids = {server.name: server.pid for server in bot.servers}
    port = int(bot.rasa_url.rsplit(":", 1)[1])
    sampler = MemorySampler(pids, connection_probe=lambda: connections_per_process(port, bot.rasa.pid))
    result = await run_load(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        conversations,
        concurrency,
        total,
        max_seconds,
        sender_prefix=f"bench-{run_id}-{bot.label}-c{concurrency}",
        check=check,
        sampler=sampler,
    )
    # Keep-alive connections stay on the worker that accepted them: with several
    # Sanic workers, an uneven split (8 / 2 rather than 5 / 5) lengthens the tail.
    result.connections_per_worker = sorted(sampler.connections_per_process.values(), reverse=True)
    return result, sampler.peak_mb


def load_average() -> float:
    return os.getloadavg()[0]


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def ratio(ours: float | None, vanilla: float | None) -> str:
    if not ours or not vanilla:
        return "n/a"
    return f"{ours / vanilla:.2f}"


def report(results: dict[str, Any]) -> str:
    """The markdown table and the target lines."""
    ours, vanilla = results["ours"], results["vanilla"]
    rows: list[tuple[str, float | None, float | None, int]] = [
        ("training time (s)", ours["training_s"], vanilla["training_s"], 1),
        ("start-up to HTTP 200 on / (s)", ours["startup_s"], vanilla["startup_s"], 1),
    ]
    for level in results["concurrency_levels"]:
        o, v = ours["load"][str(level)], vanilla["load"][str(level)]
        for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
            rows.append((f"c={level} {label} latency (ms)", o[key], v[key], 1))
        rows.append((f"c={level} throughput (msgs/s)", o["msgs_per_s"], v["msgs_per_s"], 2))
        rows.append((f"c={level} requests / errors", o["requests"], v["requests"], 0))
    rows += [
        ("Rasa server RSS idle (MB)", ours["rss_idle_mb"]["rasa"], vanilla["rss_idle_mb"]["rasa"], 0),
        ("Rasa server RSS peak (MB)", ours["rss_peak_mb"]["rasa"], vanilla["rss_peak_mb"]["rasa"], 0),
        ("all servers RSS peak (MB)", ours["rss_peak_mb"]["total"], vanilla["rss_peak_mb"]["total"], 0),
    ]
    lines = ["| metric | ours | vanilla | ours/vanilla |", "|---|---:|---:|---:|"]
    for label, o_value, v_value, digits in rows:
        if label.endswith("requests / errors"):
            level = label.split()[0][2:]
            o_errors = ours["load"][level]["errors"]
            v_errors = vanilla["load"][level]["errors"]
            lines.append(f"| {label} | {o_value} / {o_errors} | {v_value} / {v_errors} | |")
            continue
        lines.append(
            f"| {label} | {fmt(o_value, digits)} | {fmt(v_value, digits)} | {ratio(o_value, v_value)} |"
        )
    lines.append(
        f"\nours: action server start-up {fmt(ours['startup_detail_s'].get('actions'))} s, "
        f"RSS idle {fmt(ours['rss_idle_mb'].get('actions'), 0)} MB, "
        f"peak {fmt(ours['rss_peak_mb'].get('actions'), 0)} MB (included in 'all servers')."
    )
    for level in results["concurrency_levels"]:
        split = ours["load"][str(level)].get("connections_per_worker") or []
        if level > 1 and split:
            lines.append(
                f"ours c={level}: most connections held at once, per Rasa worker: "
                f"{' / '.join(map(str, split))} (a keep-alive connection stays with the worker "
                "that accepted it)."
            )
    top = str(max(results["concurrency_levels"]))
    p95 = ours["load"][top]["p95_ms"]
    o_rate, v_rate = ours["load"][top]["msgs_per_s"], vanilla["load"][top]["msgs_per_s"]
    rate_ratio = o_rate / v_rate if o_rate and v_rate else None
    lines.append(
        f"target c={top} p95 <= {P95_TARGET_MS:.0f} ms: {fmt(p95)} ms -> "
        f"{'met' if p95 is not None and p95 <= P95_TARGET_MS else 'NOT met'}"
    )
    lines.append(
        f"target c={top} throughput >= {THROUGHPUT_TARGET_RATIO:.0f}x vanilla: {fmt(rate_ratio, 2)}x -> "
        f"{'met' if rate_ratio is not None and rate_ratio >= THROUGHPUT_TARGET_RATIO else 'NOT met'}"
    )
    machine = results["machine"]
    if machine["busy"]:
        lines.append(
            f"\nWARNING: measured UNDER LOAD: load average {machine['load_before']:.1f} before the run; "
            f"other processes used {machine.get('foreign_cpu_cores_during_load', 0):.2f} of "
            f"{machine['cpus']} CPUs during the load phases. Rerun on an idle machine for figures to quote."
        )
    else:
        lines.append(
            f"\nmachine idle apart from the bench: other processes used "
            f"{machine.get('foreign_cpu_cores_during_load', 0):.2f} of {machine['cpus']} CPUs "
            "during the load."
        )
    return "\n".join(lines)


async def load_phases(
    bots: dict[str, Bot], args: argparse.Namespace, run_id: str, results: dict[str, Any]
) -> None:
    scripts = {
        "ours": (OUR_CONVERSATIONS, our_check),
        "vanilla": (VANILLA_CONVERSATIONS, rest_check),
    }
    # Warm-up (not measured): the first turns build TensorFlow graphs and caches.
    for name, bot in bots.items():
        conversations, check = scripts[name]
        warm = await run_load(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            conversations,
            1,
            args.warmup,
            args.max_phase_seconds,
            sender_prefix=f"warmup-{run_id}-{name}",
            check=check,
        )
        if warm.errors:
            raise RuntimeError(f"{name}: warm-up replies were not answers: {warm.errors}; see the logs")
        idle = {server.name: tree_rss_mb(server.pid) for server in bot.servers}
        results[name]["rss_idle_mb"] = _by_role(idle)
        results[name]["warmup_first_ms"] = round(warm.latencies_ms[0], 1) if warm.latencies_ms else None
    peaks: dict[str, dict[str, float]] = {name: {} for name in bots}
    foreign = ForeignCpu(server.pid for bot in bots.values() for server in bot.servers)
    foreign.start()
    # Levels interleaved (ours, vanilla, ours, vanilla) so drifting background load hits both.
    for level, total in zip(args.concurrency, args.requests, strict=True):
        for name, bot in bots.items():
            conversations, check = scripts[name]
            print(f"  {name}: {total} requests at concurrency {level}...", flush=True)
            result, peak = await measure(
                bot, conversations, check, level, total, args.max_phase_seconds, run_id
            )
            results[name]["load"][str(level)] = result.summary()
            for server, value in peak.items():
                peaks[name][server] = max(peaks[name].get(server, 0.0), value)
    for name in bots:
        results[name]["rss_peak_mb"] = _by_role(peaks[name])
    results["machine"]["foreign_cpu_cores_during_load"] = round(foreign.stop(), 2)


def _by_role(values: dict[str, float]) -> dict[str, float]:
    """{'rasa (ours)': x, 'actions': y} -> {'rasa': x, 'actions': y, 'total': x + y} (MB, rounded)."""
    out = {("rasa" if name.startswith("rasa") else name): round(value, 1) for name, value in values.items()}
    out["total"] = round(sum(values.values()), 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 and 50 requests: checks that it works")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--requests", type=int, nargs="+", help="per concurrency level (default 200 500)")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per bot first")
    parser.add_argument("--max-phase-seconds", type=float, default=240, help="time bound of each load phase")
    parser.add_argument("--our-model", type=Path, help="use this model: our training is not measured")
    parser.add_argument("--vanilla-dir", type=Path, help="a `rasa init` project to reuse (not retrained)")
    parser.add_argument(
        "--our-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for our servers (e.g. SANIC_WORKERS=2 with REDIS_URL=...)",
    )
    parser.add_argument(
        "--our-launcher",
        type=Path,
        help="a Python file run instead of `rasa` for our server (to measure a candidate patch)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_vanilla.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, models)")
    args = parser.parse_args()
    if args.requests is None:
        args.requests = [20, 50] if args.quick else [200, 500]
    if len(args.requests) != len(args.concurrency):
        parser.error("give one --requests count per --concurrency level")
    if args.quick:
        args.warmup = min(args.warmup, 5)
    our_env = dict(item.split("=", 1) for item in args.our_env)
    raise_on_sigterm()

    load_before = load_average()
    if load_before > BUSY_LOAD_AVERAGE:
        print(
            f"note: load average {load_before:.1f} > {BUSY_LOAD_AVERAGE}: other work is running, "
            "figures will be marked as measured under load",
            flush=True,
        )
    run_id = secrets.token_hex(3)
    work = Path(tempfile.mkdtemp(prefix="bench-vanilla-"))
    print(f"working folder: {work}", flush=True)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": round(load_before, 2),
        },
        "settings": {
            "concurrency": args.concurrency,
            "requests": args.requests,
            "warmup": args.warmup,
            "max_phase_seconds": args.max_phase_seconds,
            "our_extra_env": our_env,
            "our_launcher": str(args.our_launcher) if args.our_launcher else None,
            "quick": args.quick,
        },
        "concurrency_levels": args.concurrency,
        "ours": {"load": {}},
        "vanilla": {"load": {}},
    }
    bots: dict[str, Bot] = {}
    try:
        from importlib.metadata import version

        results["rasa_version"] = version("rasa")
        if args.vanilla_dir:
            vanilla_project, results["vanilla"]["training_s"] = args.vanilla_dir.resolve(), None
        else:
            vanilla_project, seconds = init_vanilla(work)
            results["vanilla"]["training_s"] = round(seconds, 1)
        if args.our_model:
            model, results["ours"]["training_s"] = args.our_model.resolve(), None
        else:
            model, seconds = train_ours(work)
            results["ours"]["training_s"] = round(seconds, 1)
        results["ours"]["model"] = str(model)

        env = prepare_our_data(work)
        print("starting our bot (action server + Rasa server)...", flush=True)
        launcher = [str(VENV_BIN / "python"), str(args.our_launcher.resolve())] if args.our_launcher else None
        bots["ours"] = start_ours(work, model, env, extra_env=our_env, rasa_command=launcher)
        print("starting the vanilla bot...", flush=True)
        bots["vanilla"] = start_vanilla(vanilla_project, work)
        for name, bot in bots.items():
            results[name]["startup_detail_s"] = {k: round(v, 2) for k, v in bot.startup_s.items()}
            results[name]["startup_s"] = round(max(bot.startup_s.values()), 2)

        print("load (loopback, closed loop)...", flush=True)
        asyncio.run(load_phases(bots, args, run_id, results))
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the servers", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        stop_servers([server for bot in bots.values() for server in bot.servers])
        if args.keep:
            print(f"kept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    machine = results["machine"]
    machine["busy"] = (
        load_before > BUSY_LOAD_AVERAGE
        or machine.get("foreign_cpu_cores_during_load", 0) > BUSY_FOREIGN_CORES
    )
    table = report(results)
    print()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**results, "table": table}, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
