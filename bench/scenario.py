"""The stacks' bench: fresh stacks (empty and preloaded, side by side) → warm-up → the
machine's speed → idle cost → plain loop and system step by step, the stacks' steps of
one rate one after the other → memory → final drain → sustained runs → a profiled step
at each stack's highest rate that held (with --profile) → teardown.

The profile has a step of its own: py-spy samples the service on the same two cores, so
a step it watches is not a measurement of the system alone. Its row is shown (and its
inquiries counted for lost and duplicated) but it decides no target.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from calibration import cpu_loop_ms
from load import Inquirers, Sample, now
from observe import Watch, partition_counts, receipt_of_inquiry, stored_recommendations
from plain_loop import PlainLoop
from preload import preload, settle_store
from profiling import Recording
from resources import CpuWindow, Part, infrastructure, memory
from stack import Stack, StackFailed
from steps import Limits, Observers, Step, loop_step, system_step

RECEIVED = "indgang.inquiry-received.v1"
ROUTED = "indgang.case-routed.v1"
DELIVERED = "indgang.notification-delivered.v1"
# A step starts when the store, Kafka and every stack's processes together have used less
# than this much of one core for a second (idle, two stacks: ~15), or after QUIET_MOST_S.
QUIET_UNDER = 30.0
QUIET_MOST_S = 30.0


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
    settled: str = ""  # what `infra.sh settle` did after the preload
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


async def run_stacks(plan: Plan, stacks: list[tuple[str, int]]) -> list[StackResult]:
    """Every stack up side by side, then each phase for one stack after the other: both
    warm-ups, both idle windows, then the steps interleaved rate by rate (empty 10/s,
    preloaded 10/s, preloaded 25/s, empty 25/s, ...: which goes first alternates), the
    sustained runs and the profiled steps.

    Interleaved, not one stack after the other: the two cores' speed drifts over a run
    (the CPU loop has moved by a sixth within one), and the steps near the knee turn a
    small drift into a large difference in latency. Steps of the same rate minutes
    apart compare the data sizes; steps half an hour apart compared the machine.
    A stack that is not being measured stands idle beside the one that is (its idle
    cost is in each stack's idle row)."""
    runs = [StackRun(plan, label, preload_n) for label, preload_n in stacks]
    try:
        for run in runs:
            await run.phase(run.start)
        for run in runs:
            run.beside([other for other in runs if other is not run])
        for run in runs:
            await run.phase(run.warm_up)
        for run in runs:
            await run.phase(run.idle)
        for i, rate in enumerate(plan.rates):
            for run in runs if i % 2 == 0 else reversed(runs):
                if run.stepping:
                    await run.phase(partial(run.step, i, rate))
        for run in runs:
            await run.phase(run.after_steps)
        for run in runs:
            await run.phase(run.sustain)
        for run in runs:
            await run.phase(run.profile)
    finally:
        for run in runs:
            await run.close()
    return [run.result for run in runs]


class StackRun:
    """One stack's part of the bench, phase by phase; a phase that fails sets the stack's
    `problem` and the stack takes no further part (the others go on)."""

    def __init__(self, plan: Plan, label: str, preload_n: int) -> None:
        self.plan = plan
        self.result = StackResult(label, preload_n)
        self.stack = Stack(label, plan.bootstrap, plan.mongodb_uri, plan.run_dir)
        self.result.prefix = self.stack.prefix
        self.say = _say(label)
        self.watches: list[Watch] = []
        self.inquirers: Inquirers | None = None
        self.loop: PlainLoop | None = None
        self.stepping = True  # until a step does not hold
        self.others = Part("other stack", ())  # beside()
        # Set by start():
        self.routed: Watch
        self.observers: Observers
        self.services: list[Part] = []
        self.infra: list[Part] = []

    async def phase(self, run: Callable[[], Awaitable[None]]) -> None:
        if self.result.problem:
            return
        try:
            await run()
        except StackFailed as failure:
            self.result.problem = str(failure)
        except Exception as exc:  # reported as "could not run" (exit 2), never as a lost inquiry
            label = self.result.label
            (self.plan.run_dir / f"{label}-error.txt").write_text(traceback.format_exc())
            self.result.problem = f"failed: {type(exc).__name__}: {exc} (see {label}-error.txt)"

    async def start(self) -> None:
        plan, stack, result = self.plan, self.stack, self.result
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        if result.preload:
            self.say(
                f"preloading {result.preload:,} historic inquiries, cases, deliveries, "
                "recommendations"
            )
            databases = {name: stack.database(name) for name in stack.services}
            result.preload_s = await preload(plan.mongodb_uri, databases, result.preload)
            result.settled = await settle_store()
            self.say(result.settled)
        self.say("starting its own intake, routing, notifications, guide and SMTP sink")
        result.start_s = await stack.start(plan.ready_timeout)
        topics = [stack.topic(t) for t in (RECEIVED, ROUTED, DELIVERED)]
        partitions = await partition_counts(plan.bootstrap, topics)
        received = Watch(plan.bootstrap, topics[0])
        self.routed = Watch(plan.bootstrap, topics[1], keep="case_id")
        receipts = Watch(plan.bootstrap, topics[2], key_of=receipt_of_inquiry)
        self.watches = [received, self.routed, receipts]
        for watch in self.watches:
            await watch.start(partitions[watch.topic])
        self.inquirers = Inquirers(stack.services["intake"].url, plan.concurrency)
        self.services = stack.parts()
        self.infra = infrastructure(_port(plan.mongodb_uri, 27017), _port(plan.bootstrap, 9092))
        self.observers = Observers(
            self.inquirers.send, received, self.routed, receipts, stack.sink,
            stack.services["guide"].url, self._step_window(),
            {name: service.url for name, service in stack.services.items()},
        )  # fmt: skip
        await _warm_up(self.observers)

    def beside(self, others: list[StackRun]) -> None:
        """The stacks standing by while this one is measured: their processes count in its
        steps' CPU ("other stack"), and a step waits for the machine to be quiet first."""
        parts = [part for other in others for part in other.own_parts()]
        self.others = Part("other stack", tuple(pid for p in parts for pid in p.roots))
        if self.services:  # started
            self.observers.cpu = self._step_window()

    def _step_window(self) -> CpuWindow:
        """What a step's CPU covers: the shared store and Kafka, this stack, the load's own
        side and, once beside() has named them, the stacks standing by."""
        others = [self.others] if self.others.roots else []
        return CpuWindow([*self.infra, *self.services, *_load_parts(self.stack), *others])

    def own_parts(self) -> list[Part]:
        """This stack's processes (its services and SMTP sink), not the shared ones."""
        sink = _sink_part(self.stack)
        return [*self.services, *([sink] if sink is not None else [])]

    async def settle(self) -> None:
        """Wait (at most QUIET_MOST_S) until the machine is quiet: the store, Kafka and
        every stack's processes together under QUIET_UNDER % of one core for a second.
        A step is not to pay for the tail of the step before it (a relay's last batch,
        a group commit, the store's own vacuum), least of all another stack's."""
        window = CpuWindow([*self.infra, *self.own_parts(), self.others])
        deadline = now() + QUIET_MOST_S
        while True:
            window.start()
            await asyncio.sleep(1.0)
            busy = sum(window.stop().values())
            if busy < QUIET_UNDER or now() > deadline:
                return

    async def warm_up(self) -> None:
        plan = self.plan
        if plan.warm_up_seconds > 0:
            # Not measured: `make up` has usually just started the broker and the store,
            # and a fresh JVM compiles Kafka's hot paths during the first minutes of load
            # (Kafka needed twice the CPU at 10/s on the empty stack as on the preloaded
            # one a quarter of an hour later). The stack should be measured warm.
            self.say(f"warming up: {plan.warm_up_rate:g}/s for {plan.warm_up_seconds:g} s")
            await system_step(
                "warm-up", plan.warm_up_rate, plan.warm_up_seconds, self.observers, plan.limits
            )

    async def idle(self) -> None:
        await self.settle()  # the warm-ups' tails, which would slow the loop down
        self.result.cpu_loop_ms = cpu_loop_ms()
        self.say(f"idle for {self.plan.idle_seconds:g} s")
        await self.stack.sink.settled(quiet=3.0, until=now() + 30)
        idle = CpuWindow(self.infra + self.services)
        idle.start()
        await asyncio.sleep(self.plan.idle_seconds)
        self.result.idle_cpu, self.result.idle_seconds = idle.stop(), self.plan.idle_seconds

    async def step(self, i: int, rate: float) -> None:
        plan, result = self.plan, self.result
        if plan.plain_loop and self.loop is None:
            self.loop = PlainLoop(plan.bootstrap, self.stack.prefix)
            await self.loop.start()
        await self.settle()
        self.say(f"step {rate:g}/s for {plan.step_seconds:g} s")
        baseline = None
        if self.loop is not None:
            baseline = await loop_step(
                rate, plan.step_seconds, self.loop.send, self.loop.watch, plan.limits
            )
        step = await system_step(
            f"{rate:g}/s", rate, plan.step_seconds, self.observers, plan.limits
        )
        step.loop = baseline
        step.duplicated = self.routed.duplicated(step.keys)
        result.steps.append(step)
        self.say(_progress(step))
        if not step.held:
            result.not_run = plan.rates[i + 1 :]
            self.stepping = False

    async def after_steps(self) -> None:
        """Memory at the end of the step-up, then the last chance for what was not routed."""
        loop = self.loop.part if self.loop else None
        extra = [p for p in (loop, _sink_part(self.stack)) if p is not None]
        self.result.memory = memory(
            [*self.services, *self.infra, *extra, Part("bench", (os.getpid(),))]
        )
        await _final_drain(self.routed, self.result.steps, self.plan.final_drain_s, self.say)

    async def sustain(self) -> None:
        plan, result = self.plan, self.result
        if plan.sustain_seconds <= 0 or plan.sustain_rate <= 0:
            return
        await self.settle()
        self.say(f"sustained {plan.sustain_rate:g}/s for {plan.sustain_seconds:g} s")
        result.sustained = await system_step(
            f"sustained {plan.sustain_rate:g}/s",
            plan.sustain_rate, plan.sustain_seconds, self.observers, plan.limits,
        )  # fmt: skip
        result.sustained.duplicated = self.routed.duplicated(result.sustained.keys)
        self.say(_progress(result.sustained))
        await _final_drain(self.routed, [result.sustained], plan.final_drain_s, self.say)

    async def profile(self) -> None:
        plan, result = self.plan, self.result
        recording = _recording(plan, self.stack, result) if plan.profile else None
        if recording is None:
            return
        rate = result.highest_held or result.steps[-1].rate
        await self.settle()
        self.say(f"profiling {recording.service} at {rate:g}/s for {plan.step_seconds:g} s")
        await recording.start()
        result.profiled = await system_step(
            f"profiled {rate:g}/s", rate, plan.step_seconds, self.observers, plan.limits
        )
        result.profiled.duplicated = self.routed.duplicated(result.profiled.keys)
        result.profile = await recording.finish()
        self.say(_progress(result.profiled))
        await _final_drain(self.routed, [result.profiled], plan.final_drain_s, self.say)

    async def close(self) -> None:
        for watch in self.watches:
            await watch.stop()
        if self.inquirers is not None:
            await self.inquirers.close()
        if self.loop is not None:
            await self.loop.stop()
        self.say("tearing down" if not self.plan.keep else "keeping the stack (--keep)")
        await self.stack.stop(self.plan.keep)


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
