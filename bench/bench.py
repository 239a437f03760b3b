"""`make bench`: how much load indgang holds, and whether its cost grows with the data.

For each stack (empty, and preloaded with --preload historic inquiries, side by side) the
bench starts its own four services, SMTP sink, topics and databases; measures the idle
cost; steps the open-loop load up (10, 25, 50, 100, 200 inquiries/s by default) beside a
plain aiokafka consume→produce loop at the same rates, until a step does not hold, the
two stacks' steps of one rate one after the other; takes every process's memory; runs a
sustained load; with --profile, py-spies the busiest service in a step of its own at the
highest rate that held; and tears it all down.
It needs the broker and the store (`make up`, or `bash deploy/infra.sh up`). See
bench/README.md for what each number means.

    uv run --frozen python bench/bench.py [--preload 0 --rates 5,10 --step-seconds 5 ...]

Exit status: 0; 1 when an inquiry was lost (never routed, even after the final drain) or
duplicated (two different case-routed events for one inquiry); 2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop
from load import ARRIVALS
from plot import latency_plot
from report import LEGEND, comparison, stack_table
from scenario import Plan, StackResult, run_stacks

ROOT = Path(__file__).resolve().parents[1]


def reachable(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def _json_safe(value: Any) -> Any:
    """NaN (no sample) becomes null, so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


async def run(args: argparse.Namespace, plan: Plan) -> list[StackResult]:
    stacks = [("empty", 0)] if args.preload == 0 else [("empty", 0), ("preloaded", args.preload)]
    if args.only:
        stacks = [s for s in stacks if s[0] == args.only]
    results: list[StackResult] = await run_stacks(plan, stacks)
    return results


def main(args: argparse.Namespace) -> int:
    store = args.mongodb_uri.split("//")[-1].split("/")[0].split(",")[0]
    down = [
        f"{name} at {where}"
        for name, where in (("Kafka", args.bootstrap.split(",")[0]), ("the store", store))
        if not reachable(where)
    ]
    if down:
        print(f"bench: {' and '.join(down)} not reachable: run `make up` first", file=sys.stderr)
        return 2
    run_dir = ROOT / "var" / "bench" / time.strftime("%Y%m%d-%H%M%S")
    plan = Plan(
        rates=args.rates, step_seconds=args.step_seconds, drain_s=args.drain,
        final_drain_s=args.final_drain, max_p99_ms=args.max_p99_ms,
        sustain_rate=args.sustain_rate, sustain_seconds=args.sustain_seconds,
        idle_seconds=args.idle_seconds,
        warm_up_seconds=args.warm_up_seconds, warm_up_rate=args.warm_up_rate,
        concurrency=args.concurrency, arrivals=args.arrivals,
        plain_loop=not args.no_loop, profile=args.profile, keep=args.keep,
        ready_timeout=args.ready_timeout, bootstrap=args.bootstrap,
        mongodb_uri=args.mongodb_uri, run_dir=run_dir,
    )  # fmt: skip
    print(f"indgang bench  nproc={os.cpu_count()}  logs and profiles: {run_dir}", flush=True)
    try:
        # uvloop, as the services run: the load's own side shares the two cores with
        # what it measures, and the stock loop costs it more CPU per request.
        results = uvloop.run(run(args, plan))
    except KeyboardInterrupt:  # the stacks were torn down on the way out
        print("bench: interrupted", file=sys.stderr)
        return 130

    print(
        f"\nindgang bench  nproc={os.cpu_count()}  rates={','.join(f'{r:g}' for r in args.rates)}"
        f"/s x {args.step_seconds:g} s  drain={args.drain:g}s  sustained={args.sustain_rate:g}/s"
        f" x {args.sustain_seconds:g} s  concurrency={args.concurrency}  "
        f"arrivals={args.arrivals}  store={store}\n"
    )
    for result in results:
        print("\n".join(stack_table(result)) + "\n")
    ran = {r.label: r for r in results if not r.problem}
    if "empty" in ran and "preloaded" in ran:
        print("\n".join(comparison(ran["empty"], ran["preloaded"])) + "\n")
    print(LEGEND)

    plot = Path(args.plot) if args.plot else run_dir / "bench-latency.png"
    title = f"indgang e2e latency, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    if latency_plot(results, plot, title):
        print(f"\nplot: {plot}")
    if args.json:
        document = {
            "params": {k: v for k, v in vars(args).items()},
            "nproc": os.cpu_count(),
            "run_dir": run_dir,
            "stacks": [r.summary() for r in results],
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(_json_safe(document), indent=1))
        print(f"json: {args.json}")

    if any(r.problem for r in results):
        print("\nbench: a stack could not be run (see above)", file=sys.stderr)
        return 2
    lost, duplicated = sum(r.lost for r in results), sum(r.duplicated for r in results)
    if lost or duplicated:
        print(f"\nbench: {lost} inquiries lost, {duplicated} duplicated", file=sys.stderr)
        return 1
    return 0


def _rates(text: str) -> list[float]:
    rates = [float(part) for part in text.split(",") if part.strip()]
    if not rates or any(r <= 0 for r in rates):
        raise argparse.ArgumentTypeError("a comma-separated list of positive rates")
    return rates


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    a = p.add_argument
    a("--rates", type=_rates, default=[10.0, 25.0, 50.0, 100.0, 200.0],
      help="step-up rates, inquiries/s (default 10,25,50,100,200)")  # fmt: skip
    a("--step-seconds", type=float, default=30.0, help="seconds of sending per step (30)")
    a("--drain", type=float, default=30.0,
      help="most seconds after a step's last send to wait for its outputs (30)")  # fmt: skip
    a("--final-drain", type=float, default=120.0,
      help="most seconds to wait for unrouted inquiries before they count as lost")  # fmt: skip
    a("--max-p99-ms", type=float, default=2000.0,
      help="a step whose e2e p99 exceeds this did not hold: it was queueing (2000)")  # fmt: skip
    a("--sustain-rate", type=float, default=50.0, help="sustained run's rate (50/s)")
    a("--sustain-seconds", type=float, default=60.0, help="sustained run's length; 0 skips it (60)")
    a("--idle-seconds", type=float, default=60.0, help="idle CPU measured over (60 s)")
    a("--warm-up-seconds", type=float, default=10.0,
      help="unmeasured load before the idle window; 0 skips it (10 s)")  # fmt: skip
    a("--warm-up-rate", type=float, default=25.0, help="the warm-up's rate (25/s)")
    a("--preload", type=int, default=100_000,
      help="historic inquiries for the preloaded stack; 0: only the empty one")  # fmt: skip
    a("--only", choices=("empty", "preloaded"), help="run one of the two stacks")
    a(
        "--profile",
        action="store_true",
        help="py-spy the busiest service in an extra step at the highest rate that held",
    )
    a("--concurrency", type=int, default=50, help="most requests in flight (50)")
    a("--arrivals", choices=ARRIVALS, default="random",
      help="send times: random, as inquirers arrive (Poisson), or evenly spaced")  # fmt: skip
    a("--no-loop", action="store_true", help="skip the plain aiokafka loop")
    # A service's start on a store of 100,000 documents that lacks its first-start work:
    # 88-211 s here (the outbox's upgrade scan, the jobs' first days). The preload does
    # that work on the empty store, and the stacks are ready in 12-16 s.
    a("--ready-timeout", type=float, default=600.0, help="seconds for the services to start")
    a("--keep", action="store_true", help="leave the stacks, databases and topics in place")
    a("--json", metavar="FILE", help="write everything (with every e2e sample) as JSON")
    a("--plot", metavar="PNG", help="latency plot (default var/bench/<run>/bench-latency.png)")
    a("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    a("--mongodb-uri", default=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017"))
    args = p.parse_args(argv)
    if args.step_seconds <= 0 or args.concurrency < 1 or args.preload < 0:
        p.error("--step-seconds and --concurrency must be positive, --preload not negative")
    if args.only == "preloaded" and args.preload == 0:
        p.error("--only preloaded needs --preload N > 0")
    # Loopback only: this is a load generator and must not be aimed at anyone else's servers.
    hosts = [s.rpartition(":")[0].strip(" []") for s in args.bootstrap.split(",")]
    hosts.append(httpx.URL(args.mongodb_uri.split(",")[0]).host)
    for host in hosts:
        if not (host in ("localhost", "::1") or host.startswith("127.")):
            p.error(f"--bootstrap and --mongodb-uri must be loopback addresses, not {host!r}")
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # aiokafka's warnings on new topics are retried
    sys.exit(main(parse()))
