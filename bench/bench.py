"""End-to-end latency of indgang against a plain Kafka consume→produce loop on the same broker.

System: POST /api/v1/inquiries → 202 → (intake outbox, relay) inquiry-received → routing →
(routing outbox, relay) case-routed. Baseline: temp topic → consumer group → produce
(acks=all, idempotent) → commit, in its own process. Both are fed open-loop at the same
rate; latency runs from the input being durable (202 / broker ack) until our own
group-less consumer sees the output record. See bench/README.md.

    uv run --frozen python bench/bench.py [--rate 20 --duration 30 --json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

RECEIVED = "indgang.inquiry-received.v1"
ROUTED = "indgang.case-routed.v1"
PARTITIONS = 6
DURABLE: dict[str, Any] = {"acks": "all", "enable_idempotence": True}  # as the services publish
now = time.perf_counter


class Unreachable(Exception):
    """The running system is not there; the message says what to do."""


def inquiry(n: int) -> dict[str, Any]:
    return {
        "organisation": {"name": "Bench ApS", "stage": "idea"},
        "contact": {"name": "Bench Person", "email": f"bench-{n}@example.dk"},
        "needs": ["business_development"],
        "description": "benchmark",
        "privacy_notice_accepted": True,
    }


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every number printed was measured)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def pcts(values: list[float]) -> str:
    return "/".join("-" if not values else f"{pct(values, q):.0f}" for q in (50, 95, 99))


@dataclass
class Sample:
    scheduled: float
    accepted: float | None = None  # HTTP 202 received / broker acked the input
    key: str | None = None  # inquiry_id
    outcome: str = ""  # "202", another status, or an exception name


@dataclass
class Result:
    sent: int
    accepted: int
    routed: int
    lost: int
    duplicates: int
    late_starts: int  # sends that left > 10 ms after their slot (concurrency cap or busy loop)
    span_s: float  # first scheduled send → last output seen
    failures: dict[str, int]
    e2e_ms: list[float]
    input_ms: list[float]
    stages_ms: dict[str, list[float]]

    @property
    def throughput(self) -> float:
        return self.routed / self.span_s if self.span_s > 0 else 0.0

    def counts(self) -> list[str]:
        routed = f"{self.routed}/{self.lost}/{self.duplicates}"
        return [pcts(self.input_ms), f"{self.sent}/{self.accepted}", routed, str(self.late_starts)]


class Seen:
    """A group-less consumer of every partition of a topic, from its end: no group to join or
    rebalance, no records taken from the services, end offsets resolved before the first send."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.tps = [TopicPartition(topic, p) for p in range(partitions)]
        self.first: dict[str, float] = {}
        self.count: Counter[str] = Counter()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign(self.tps)
        await self._consumer.seek_to_end(*self.tps)
        for tp in self.tps:
            await self._consumer.position(tp)  # resolves the end offset now, not lazily
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            t = now()
            for records in batches.values():
                for record in records:
                    try:
                        key = str(json.loads(record.value)["inquiry_id"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    self.count[key] += 1
                    self.first.setdefault(key, t)

    async def wait_for(self, keys: set[str], within: float) -> bool:
        """Whether all keys were seen within `within` s (polls: _pump takes the arrival times)."""
        deadline = now() + within
        while not keys <= self.first.keys() and now() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return keys <= self.first.keys()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()


async def measure(
    args: argparse.Namespace,
    seen: Seen,
    send: Callable[[int, Sample], Awaitable[None]],
    via: Seen | None = None,
) -> Result:
    """Start send i at t0 + i/rate whatever happened to earlier ones (no coordinated omission),
    then wait for the outputs at most --drain seconds after the sending window."""
    limit = asyncio.Semaphore(args.concurrency)
    samples = [Sample(0.0) for _ in range(int(args.rate * args.duration))]
    late = 0

    async def one(i: int, sample: Sample) -> None:
        nonlocal late
        async with limit:
            late += now() - sample.scheduled > 0.010
            try:
                await asyncio.wait_for(send(i, sample), timeout=15)
            except Exception as exc:  # counted, not fatal: the point is to see failures
                sample.outcome = type(exc).__name__

    t0 = now() + 0.05
    tasks = []
    for i, sample in enumerate(samples):
        sample.scheduled = t0 + i / args.rate
        await asyncio.sleep(max(0.0, sample.scheduled - now()))
        tasks.append(asyncio.create_task(one(i, sample)))
    await asyncio.gather(*tasks)
    keys = {s.key for s in samples if s.accepted is not None and s.key}
    await seen.wait_for(keys, args.drain)
    done = [(s.key, s.accepted) for s in samples if s.key in seen.first and s.accepted]
    end = max((seen.first[k] for k, _ in done), default=now())
    mid = [(t, via.first[k], seen.first[k]) for k, t in done if via and k in via.first]
    stages = {
        "intake: 202 → inquiry-received": [(m - t) * 1000 for t, m, _ in mid],
        "routing: → case-routed": [(e - m) * 1000 for _, m, e in mid],
    }
    return Result(
        sent=len(samples),
        accepted=len(keys),
        routed=len(done),
        lost=len(keys) - len(done),
        duplicates=sum(seen.count[k] - 1 for k in keys if seen.count[k] > 1),
        late_starts=late,
        span_s=end - samples[0].scheduled if samples else 0.0,
        failures=dict(Counter(s.outcome for s in samples if s.accepted is None)),
        e2e_ms=[(seen.first[k] - t) * 1000 for k, t in done],
        # From the scheduled slot, so time queued behind the concurrency cap counts too.
        input_ms=[(s.accepted - s.scheduled) * 1000 for s in samples if s.accepted],
        stages_ms=stages if via else {},
    )


async def run_system(args: argparse.Namespace, partitions: list[int]) -> Result:
    url = f"{args.intake_url.rstrip('/')}/api/v1/inquiries"
    # Watching inquiry-received too splits the latency into intake's and routing's share.
    received = Seen(args.bootstrap, args.topic_prefix + RECEIVED, partitions[0])
    routed = Seen(args.bootstrap, args.topic_prefix + ROUTED, partitions[1])
    try:
        await received.start()
        await routed.start()
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:

            async def post(n: int, sample: Sample) -> None:
                # Many inquirers, not one client hammering the form: intake limits each
                # client address, so every request claims its own (TEST-NET-3) address
                # through the proxy header intake trusts from loopback.
                client = f"203.0.113.{n % 250 + 1}" if n >= 0 else "203.0.113.254"
                response = await http.post(
                    url, json=inquiry(n), headers={"X-Forwarded-For": client}
                )
                sample.outcome = str(response.status_code)
                if response.status_code == 202:
                    sample.accepted = now()
                    sample.key = str(response.json()["inquiry_id"])

            # Warm-up (not measured): proves the whole path works and opens the connection.
            warm = Sample(now())
            await post(-1, warm)
            if warm.key is None:
                raise Unreachable(f"POST {url} answered {warm.outcome}, not 202")
            if not await routed.wait_for({warm.key}, 30):
                hint = "is routing up (`make up`) and --topic-prefix right?"
                raise Unreachable(f"warm-up inquiry not routed within 30 s: {hint}")
            return await measure(args, routed, post, via=received)
    finally:
        await received.stop()
        await routed.stop()


async def run_baseline(args: argparse.Namespace, admin: Any) -> Result:
    run = uuid.uuid4().hex[:8]
    source, sink = (f"{args.topic_prefix}bench-loop-{run}.{s}" for s in ("in", "out"))
    await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (source, sink)])
    worker: asyncio.subprocess.Process | None = None
    seen = Seen(args.bootstrap, sink, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, **DURABLE)
    try:
        # Its own process, as each service is, so it does not share our event loop.
        worker = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--loop-worker", source, sink, f"bench-loop-{run}",
            "--bootstrap", args.bootstrap, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert worker.stdout is not None
        if await asyncio.wait_for(worker.stdout.readline(), 60) != b"ready\n":
            raise RuntimeError("baseline loop worker did not get its partitions")
        await seen.start()  # after the group join: by now the new topics have their leaders
        await producer.start()
        body = json.dumps(inquiry(0))

        async def produce(n: int, sample: Sample) -> None:
            key = str(uuid.uuid4())
            value = f'{{"inquiry_id": "{key}", "inquiry": {body}}}'.encode()
            await producer.send_and_wait(source, value=value, key=key.encode())
            sample.accepted, sample.key = now(), key

        return await measure(args, seen, produce)
    finally:
        await producer.stop()
        await seen.stop()
        if worker is not None and worker.returncode is None:
            worker.terminate()
            await worker.wait()
        await admin.delete_topics([source, sink])


async def loop_worker(bootstrap: str, source: str, sink: str, group: str) -> None:
    """The baseline: one record at a time, produce (acks=all, idempotent), then commit."""
    # The services' consumer settings: a group, manual commits, start at the beginning.
    options = {"group_id": group, "enable_auto_commit": False, "auto_offset_reset": "earliest"}
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, **options)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **DURABLE)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():  # joins the group; the feeder has not started yet
            await consumer.getmany(timeout_ms=100)
        print("ready", flush=True)
        while True:
            for tp, records in (await consumer.getmany(timeout_ms=100)).items():
                for record in records:
                    await producer.send_and_wait(sink, value=record.value, key=record.key)
                    await consumer.commit({tp: record.offset + 1})
    except asyncio.CancelledError:
        pass
    finally:
        await producer.stop()
        await consumer.stop()  # leaves the group cleanly


async def run(args: argparse.Namespace) -> tuple[Result, Result]:
    async with httpx.AsyncClient(timeout=5) as http:
        try:
            ready = await http.get(args.intake_url.rstrip("/") + "/health/ready")
        except httpx.HTTPError as exc:
            problem = f"intake not reachable at {args.intake_url} ({exc}): run `make up` first"
            raise Unreachable(problem) from None
    if ready.status_code != 200:
        raise Unreachable(f"intake not ready ({ready.status_code} {ready.text[:200]})")
    admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap, request_timeout_ms=10000)
    try:
        await asyncio.wait_for(admin.start(), 15)
    except Exception as exc:
        problem = f"Kafka not reachable at {args.bootstrap} ({exc}): run `make up` first"
        raise Unreachable(problem) from None
    try:
        # describe_topics, unlike a consumer's metadata request, never auto-creates a topic.
        topics = await admin.describe_topics([args.topic_prefix + t for t in (RECEIVED, ROUTED)])
        if missing := [t["topic"] for t in topics if t["error_code"] or not t["partitions"]]:
            raise Unreachable(f"topics {missing} missing: run `make up` (--topic-prefix?)")
        # Loop first: a system that fell behind goes on working off its backlog after the drain.
        print(f"plain loop: {args.rate:g}/s for {args.duration:g} s ...", flush=True)
        loop = await run_baseline(args, admin)
        print(f"system: {args.rate:g}/s for {args.duration:g} s ...", flush=True)
        system = await run_system(args, [len(t["partitions"]) for t in topics])
    finally:
        await admin.close()
    return system, loop


def report(args: argparse.Namespace, system: Result, loop: Result) -> None:
    print(
        f"\nindgang bench  nproc={os.cpu_count()}  rate={args.rate:g}/s  "
        f"duration={args.duration:g}s  concurrency={args.concurrency}  drain={args.drain:g}s\n"
        f"intake={args.intake_url}  bootstrap={args.bootstrap}  prefix={args.topic_prefix!r}\n"
    )
    print(f"{'':36}{'system':>18}{'plain loop':>14}{'ratio':>10}")
    rows: list[tuple[str, float, float]] = [
        *((f"e2e p{q} ms", pct(system.e2e_ms, q), pct(loop.e2e_ms, q)) for q in (50, 95, 99)),
        ("e2e max ms", pct(system.e2e_ms, 100), pct(loop.e2e_ms, 100)),
        ("throughput /s", system.throughput, loop.throughput),
    ]
    fmt = "{:>18,.1f}{:>14,.1f}{:>9,.1f}x".format
    for label, ours, theirs in rows:
        print(f"{label:36}" + fmt(ours, theirs, ours / theirs if theirs else math.nan))
    labels = ("input p50/p95/p99 ms", "sent/accepted", "routed/lost/dup", "late starts")
    for label, ours_s, theirs_s in zip(labels, system.counts(), loop.counts(), strict=True):
        print(f"{label:36}{ours_s:>18}{theirs_s:>14}")
    for stage, values in system.stages_ms.items():
        print(f"  {stage + ' ms':34}{pcts(values):>18}")
    for name, result in (("system", system), ("plain loop", loop)):
        if result.failures:
            print(f"{name} failures (status or error: count): {result.failures}")
    print(
        "\ninput: POST until 202 (system) / produce until acked (loop), from its time slot;"
        "\ne2e: from that 202 / ack until an independent consumer sees the output record;"
        f"\nlost: not seen within {args.drain:g} s after the last send."
    )


def main(args: argparse.Namespace) -> int:
    try:
        system, loop = asyncio.run(run(args))
    except Unreachable as problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    report(args, system, loop)
    if args.json:  # every sample, so other percentiles or plots can be made later
        document = {"params": vars(args), "nproc": os.cpu_count()}
        for name, result in (("system", system), ("plain_loop", loop)):
            document[name] = {**asdict(result), "throughput_per_s": result.throughput}
        Path(args.json).write_text(json.dumps(document, indent=1))
    if system.lost or system.failures or loop.lost or loop.failures:
        print("\nbench: records were lost or requests failed (see above)", file=sys.stderr)
        return 1
    return 0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rate", type=float, default=20.0, help="inquiries per second (default 20)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of sending (default 30)")
    p.add_argument("--concurrency", type=int, default=50, help="max requests in flight")
    p.add_argument("--drain", type=float, default=30.0, help="seconds to wait after sending")
    p.add_argument("--intake-url", default="http://127.0.0.1:8001")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    p.add_argument("--bootstrap", default=bootstrap)
    p.add_argument("--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--loop-worker", nargs=3, metavar=("IN", "OUT", "GROUP"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rate <= 0 or args.duration <= 0 or args.concurrency < 1:
        p.error("--rate, --duration and --concurrency must be positive")
    # Loopback only: this is a load generator and must not be aimed at anyone else's servers.
    hosts = [s.rpartition(":")[0].strip(" []") for s in args.bootstrap.split(",")]
    for host in [httpx.URL(args.intake_url).host, *hosts]:
        if not (host in ("localhost", "::1") or host.startswith("127.")):
            p.error(f"--intake-url and --bootstrap must be loopback addresses, not {host!r}")
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # aiokafka's warnings on new topics are retried
    arguments = parse()
    if arguments.loop_worker:
        asyncio.run(loop_worker(arguments.bootstrap, *arguments.loop_worker))
        sys.exit(0)
    sys.exit(main(arguments))
