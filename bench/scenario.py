"""One stack's whole bench: fresh stack (preloaded or empty) → warm-up → the machine's
speed → idle cost → plain loop and system step by step → memory → final drain →
sustained run → a profiled step at the highest rate that held (with --profile) →
teardown.

The profile has a step of its own: py-spy samples the service on the same two cores, so
a step it watches is not a measurement of the system alone. Its row is shown (and its
inquiries counted for lost and duplicated) but it decides no target.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibration import cpu_loop_ms
from load import Inquirers, Sample, now
from observe import Watch, partition_counts, receipt_of_inquiry, stored_recommendations
from plain_loop import PlainLoop
from preload import preload
from profiling import Recording
from resources import CpuWindow, Part, infrastructure, memory
from stack import Stack, StackFailed
from steps import Limits, Observers, Step, loop_step, system_step

RECEIVED = "indgang.inquiry-received.v1"
ROUTED = "indgang.case-routed.v1"
DELIVERED = "indgang.notification-delivered.v1"


@dataclass
class Plan:
    """What to run (from the command line)."""

    rates: list[float]
    step_seconds: float
    drain_s: float
    final_drain_s: float
    max_p99_ms: float
    sustain_rate: float
    sustain_seconds: float
    idle_seconds: float
    warm_up_seconds: float
    warm_up_rate: float
    concurrency: int
    arrivals: str
    plain_loop: bool
    profile: bool
    keep: bool
    ready_timeout: float
    bootstrap: str
    mongodb_uri: str
    run_dir: Path

    @property
    def limits(self) -> Limits:
        return Limits(self.drain_s, self.max_p99_ms, self.concurrency, self.arrivals)


@dataclass
class StackResult:
    label: str
    preload: int
    prefix: str = ""
    problem: str | None = None  # why this stack could not run, if it could not
    preload_s: dict[str, float] = field(default_factory=dict)
    start_s: float = 0.0
    cpu_loop_ms: float = 0.0  # calibration.cpu_loop_ms() before the idle window
    idle_cpu: dict[str, float] = field(default_factory=dict)
    idle_seconds: float = 0.0
    steps: list[Step] = field(default_factory=list)
    not_run: list[float] = field(default_factory=list)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    sustained: Step | None = None
    profiled: Step | None = None  # the step py-spy watched; not a measurement
    profile: dict[str, Any] | None = None

    @property
    def highest_held(self) -> float | None:
        return max((s.rate for s in self.steps if s.held), default=None)

    def measured(self) -> list[Step]:
        """Every step run, in order (the profiled one last: it counts for lost and
        duplicated, not for the targets)."""
        return self.steps + [s for s in (self.sustained, self.profiled) if s is not None]

    @property
    def lost(self) -> int:
        return sum(s.lost for s in self.measured())

    @property
    def duplicated(self) -> int:
        return sum(s.duplicated for s in self.measured())

    def summary(self) -> dict[str, Any]:
        steps = ("steps", "sustained", "profiled")
        plain = {k: v for k, v in vars(self).items() if k not in steps}
        return plain | {
            "highest_held": self.highest_held,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "steps": [s.summary() for s in self.steps],
            "sustained": self.sustained.summary() if self.sustained else None,
            "profiled": self.profiled.summary() if self.profiled else None,
        }


async def run_stack(plan: Plan, label: str, preload_n: int) -> StackResult:
    result = StackResult(label, preload_n)
    stack = Stack(label, plan.bootstrap, plan.mongodb_uri, plan.run_dir)
    result.prefix = stack.prefix
    say = _say(label)
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    watches: list[Watch] = []
    inquirers: Inquirers | None = None
    loop: PlainLoop | None = None
    try:
        if preload_n:
            say(f"preloading {preload_n:,} historic inquiries, cases, deliveries, recommendations")
            databases = {name: stack.database(name) for name in stack.services}
            result.preload_s = await preload(plan.mongodb_uri, databases, preload_n)
        say("starting its own intake, routing, notifications, guide and SMTP sink")
        result.start_s = await stack.start(plan.ready_timeout)
        topics = [stack.topic(t) for t in (RECEIVED, ROUTED, DELIVERED)]
        partitions = await partition_counts(plan.bootstrap, topics)
        received = Watch(plan.bootstrap, topics[0])
        routed = Watch(plan.bootstrap, topics[1], keep="case_id")
        receipts = Watch(plan.bootstrap, topics[2], key_of=receipt_of_inquiry)
        watches = [received, routed, receipts]
        for watch in watches:
            await watch.start(partitions[watch.topic])
        inquirers = Inquirers(stack.services["intake"].url, plan.concurrency)
        services = stack.parts()
        infra = infrastructure(_port(plan.mongodb_uri, 27017), _port(plan.bootstrap, 9092))
        observers = Observers(
            inquirers.send, received, routed, receipts, stack.sink,
            stack.services["guide"].url, CpuWindow(infra + services + _load_parts(stack)),
            {name: service.url for name, service in stack.services.items()},
        )  # fmt: skip
        await _warm_up(observers)
        if plan.warm_up_seconds > 0:
            # Not measured: `make up` has usually just started the broker and the store,
            # and a fresh JVM compiles Kafka's hot paths during the first minutes of load
            # (Kafka needed twice the CPU at 10/s on the empty stack as on the preloaded
            # one a quarter of an hour later). The stack should be measured warm.
            say(f"warming up: {plan.warm_up_rate:g}/s for {plan.warm_up_seconds:g} s")
            await system_step(
                "warm-up", plan.warm_up_rate, plan.warm_up_seconds, observers, plan.limits
            )
        result.cpu_loop_ms = cpu_loop_ms()

        say(f"idle for {plan.idle_seconds:g} s")
        await stack.sink.settled(quiet=3.0, until=now() + 30)
        idle = CpuWindow(infra + services)
        idle.start()
        await asyncio.sleep(plan.idle_seconds)
        result.idle_cpu, result.idle_seconds = idle.stop(), plan.idle_seconds

        if plan.plain_loop:
            loop = PlainLoop(plan.bootstrap, stack.prefix)
            await loop.start()
        for i, rate in enumerate(plan.rates):
            say(f"step {rate:g}/s for {plan.step_seconds:g} s")
            baseline = None
            if loop is not None:
                baseline = await loop_step(
                    rate, plan.step_seconds, loop.send, loop.watch, plan.limits
                )
            step = await system_step(f"{rate:g}/s", rate, plan.step_seconds, observers, plan.limits)
            step.loop = baseline
            step.duplicated = routed.duplicated(step.keys)
            result.steps.append(step)
            say(_progress(step))
            if not step.held:
                result.not_run = plan.rates[i + 1 :]
                break

        extra = [p for p in (loop.part if loop else None, _sink_part(stack)) if p is not None]
        result.memory = memory([*services, *infra, *extra, Part("bench", (os.getpid(),))])
        await _final_drain(routed, result.steps, plan.final_drain_s, say)

        if plan.sustain_seconds > 0 and plan.sustain_rate > 0:
            say(f"sustained {plan.sustain_rate:g}/s for {plan.sustain_seconds:g} s")
            result.sustained = await system_step(
                f"sustained {plan.sustain_rate:g}/s",
                plan.sustain_rate, plan.sustain_seconds, observers, plan.limits,
            )  # fmt: skip
            result.sustained.duplicated = routed.duplicated(result.sustained.keys)
            say(_progress(result.sustained))
            await _final_drain(routed, [result.sustained], plan.final_drain_s, say)

        recording = _recording(plan, stack, result) if plan.profile else None
        if recording is not None:
            rate = result.highest_held or result.steps[-1].rate
            say(f"profiling {recording.service} at {rate:g}/s for {plan.step_seconds:g} s")
            await recording.start()
            result.profiled = await system_step(
                f"profiled {rate:g}/s", rate, plan.step_seconds, observers, plan.limits
            )
            result.profiled.duplicated = routed.duplicated(result.profiled.keys)
            result.profile = await recording.finish()
            say(_progress(result.profiled))
            await _final_drain(routed, [result.profiled], plan.final_drain_s, say)
    except StackFailed as failure:
        result.problem = str(failure)
    except Exception as exc:  # reported as "could not run" (exit 2), never as a lost inquiry
        (plan.run_dir / f"{label}-error.txt").write_text(traceback.format_exc())
        result.problem = f"failed: {type(exc).__name__}: {exc} (see {label}-error.txt)"
    finally:
        for watch in watches:
            await watch.stop()
        if inquirers is not None:
            await inquirers.close()
        if loop is not None:
            await loop.stop()
        say("tearing down" if not plan.keep else "keeping the stack (--keep)")
        await stack.stop(plan.keep)
    return result


async def _warm_up(o: Observers) -> None:
    """One inquiry (not measured) all the way through: proves the stack works and opens
    the connections."""
    sample = Sample(now())
    await o.send(10**9, sample)
    if sample.key is None:
        raise StackFailed(f"warm-up inquiry answered {sample.outcome}, not 202")
    until = now() + 60
    for watch, what in ((o.routed, "routed"), (o.receipts, "given a receipt")):
        if not await watch.wait_for({sample.key}, until):
            raise StackFailed(f"warm-up inquiry not {what} within 60 s (see the logs)")
    case = o.routed.kept.get(sample.key, "")
    if not await stored_recommendations(o.guide_url, [case], until):
        raise StackFailed("warm-up case got no recommendations from guide within 60 s")


async def _final_drain(routed: Watch, steps: list[Step], seconds: float, say: Any) -> None:
    """Give what was not routed within its step's drain one last bounded chance, then settle
    lost and duplicated for those steps."""
    missing = {k for s in steps for k in routed.missing(s.keys)}
    if missing:
        say(f"final drain: waiting up to {seconds:g} s for {len(missing)} unrouted inquiries")
        await routed.wait_for(missing, now() + seconds)
    for step in steps:
        step.finish(routed)


def _recording(plan: Plan, stack: Stack, result: StackResult) -> Recording | None:
    """py-spy, for one step's length, on the service that used the most CPU in the last
    step that held (else the last step run)."""
    basis = next((s for s in reversed(result.steps) if s.held), None) or (
        result.steps[-1] if result.steps else None
    )
    if basis is None:
        return None
    busiest = max(stack.services, key=lambda name: basis.cpu.get(name, 0.0))
    process = stack.services[busiest].process
    if process is None:
        return None
    raw = plan.run_dir / f"{result.label}-profile-{busiest}.txt"
    return Recording(busiest, process.pid, plan.step_seconds, raw)


def _port(address: str, default: int) -> int:
    """The port of the first host in a MongoDB URI or a bootstrap list."""
    host = address.split("//")[-1].split("/")[0].split(",")[0].split("@")[-1]
    _, colon, port = host.rpartition(":")
    return int(port) if colon and port.isdigit() else default


def _load_parts(stack: Stack) -> list[Part]:
    """The load's own side, measured beside the system under load (not idle): it runs on the
    same two cores, so how much it takes says how much was left for the system."""
    sink = _sink_part(stack)
    return [*([sink] if sink is not None else []), Part("bench", (os.getpid(),))]


def _sink_part(stack: Stack) -> Part | None:
    process = stack.sink.process
    return Part("smtp sink", (process.pid,)) if process is not None else None


def _progress(step: Step) -> str:
    e2e = sorted(step.e2e_ms)
    p50 = f"{e2e[len(e2e) // 2]:,.0f} ms" if e2e else "-"
    verdict = "held" if step.held else "did not hold: " + "; ".join(step.why_not_held)
    return f"  {step.name}: {step.routed}/{step.accepted} routed, e2e p50 {p50}, {verdict}"


def _say(label: str) -> Any:
    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} {label}] {message}", flush=True)

    return say
