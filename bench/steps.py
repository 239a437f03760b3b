"""One step of load, through the system or the plain loop, and what came of it.

A step sends `rate × seconds` inquiries open-loop, then waits at most `drain` seconds
after the last send for every accepted inquiry's case-routed, its receipt handed to
SMTP (notification-delivered, message_kind receipt) and its case's recommendations
(guide's API). What arrives later is counted when the run's final drain settles who
was lost; see `Step.held` for when a step counts as held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from load import Sample, Send, now, open_loop
from observe import Watch, commands_between, store_commands, stored_recommendations
from resources import CpuWindow
from stack import SmtpSink


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every number reported was measured)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def percentiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}": pct(values, q) for q in (50, 95, 99)} | {"max": pct(values, 100)}


@dataclass
class Limits:
    drain_s: float
    max_p99_ms: float  # a step whose e2e p99 exceeds this was queueing: it did not hold
    concurrency: int
    arrivals: str = "random"  # load.ARRIVALS


@dataclass
class LoopStep:
    """The plain loop at one rate."""

    rate: float
    sent: int
    accepted: int
    seen: int
    e2e_ms: list[float] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        return {"rate": self.rate, "sent": self.sent, "accepted": self.accepted,
                "seen": self.seen, "e2e_ms": percentiles(self.e2e_ms)}  # fmt: skip


@dataclass
class Step:
    name: str  # "25/s" or "sustained 50/s"
    rate: float
    seconds: float
    sent: int
    accepted: int
    failures: dict[str, int]  # status or exception name: count, for requests without a 202
    late_starts: int
    routed: int  # within the drain
    receipts: int  # within the drain
    recommendations: int  # asked after the routing drain, until the drain's end
    mails: int  # mails the SMTP sink accepted from the step's start to its end
    drained_s: float  # last send → the last expected output (or the drain's end)
    cpu: dict[str, float]  # % of one core from the first send to the drain's end
    # Store commands per service by "command collection", first send to the drain's end.
    commands: dict[str, dict[str, float]]
    e2e_ms: list[float] = field(repr=False)
    intake_ms: list[float] = field(repr=False)  # 202 → inquiry-received
    routing_ms: list[float] = field(repr=False)  # inquiry-received → case-routed
    input_ms: list[float] = field(repr=False)  # scheduled slot → 202
    keys: list[str] = field(repr=False)
    until: float = field(repr=False)
    max_p99_ms: float = field(repr=False)
    # Settled after the run's final drain (finish()).
    routed_late: int = 0
    lost: int = 0
    duplicated: int = 0
    redelivered: int = 0
    loop: LoopStep | None = None

    def finish(self, routed: Watch) -> None:
        self.lost = len(routed.missing(self.keys))
        self.routed_late = len(self.keys) - self.lost - self.routed
        self.duplicated = routed.duplicated(self.keys)
        self.redelivered = routed.redelivered(self.keys)

    @property
    def why_not_held(self) -> list[str]:
        """Empty when the step held: every request accepted, every inquiry routed, its receipt
        handed to SMTP and its recommendations stored within the drain, nothing duplicated,
        and e2e p99 within the limit (otherwise the system was building a queue)."""
        reasons = []
        if self.failures:
            reasons.append(f"{self.sent - self.accepted} requests not accepted")
        if self.routed < self.accepted:
            reasons.append(f"{self.accepted - self.routed} not routed within the drain")
        if self.receipts < self.accepted:
            reasons.append(f"{self.accepted - self.receipts} receipts not sent within the drain")
        if self.recommendations < self.accepted:
            reasons.append(f"{self.accepted - self.recommendations} without recommendations")
        if self.duplicated:
            reasons.append(f"{self.duplicated} duplicated")
        if (p99 := pct(self.e2e_ms, 99)) > self.max_p99_ms:
            reasons.append(f"e2e p99 {p99:,.0f} ms > {self.max_p99_ms:,.0f} ms")
        return reasons

    @property
    def held(self) -> bool:
        return not self.why_not_held

    def summary(self) -> dict[str, Any]:
        skip = {"e2e_ms", "intake_ms", "routing_ms", "input_ms", "keys", "until", "loop"}
        plain = {k: v for k, v in vars(self).items() if k not in skip}
        return plain | {
            "held": self.held,
            "why_not_held": self.why_not_held,
            "e2e_ms": percentiles(self.e2e_ms),
            "intake_ms": percentiles(self.intake_ms),
            "routing_ms": percentiles(self.routing_ms),
            "input_ms": percentiles(self.input_ms),
            "loop": self.loop.summary() if self.loop else None,
            "samples_e2e_ms": self.e2e_ms,
        }


@dataclass
class Observers:
    """What a system step needs to see the system: the watches, the sink, guide's URL."""

    send: Send
    received: Watch
    routed: Watch  # keeps case_id per inquiry
    receipts: Watch
    sink: SmtpSink
    guide_url: str
    cpu: CpuWindow
    service_urls: dict[str, str]  # for their /metrics


async def system_step(name: str, rate: float, seconds: float, o: Observers, lim: Limits) -> Step:
    o.cpu.start()
    mails = o.sink.count
    commands = await store_commands(o.service_urls)
    samples = await open_loop(rate, seconds, lim.concurrency, o.send, lim.arrivals)
    last_send = now()
    until = last_send + lim.drain_s
    keys = [s.key for s in samples if s.accepted is not None and s.key]
    await o.routed.wait_for(set(keys), until)
    await o.receipts.wait_for(set(keys), until)
    cases = {o.routed.kept[k] for k in keys if k in o.routed.kept}
    stored = await stored_recommendations(o.guide_url, cases, until)
    drained = now() - last_send
    await o.sink.settled(quiet=2.0, until=until)  # the other mails of the step, too
    cpu = o.cpu.stop()
    counted = await store_commands(o.service_urls)
    accepted = {s.key: s.accepted for s in samples if s.accepted is not None and s.key}
    in_time = [k for k in keys if o.routed.first.get(k, math.inf) <= until]
    split = [k for k in in_time if k in o.received.first]
    return Step(
        name=name,
        rate=rate,
        seconds=seconds,
        sent=len(samples),
        accepted=len(keys),
        failures=_failures(samples),
        late_starts=sum(s.late for s in samples),
        routed=len(in_time),
        receipts=sum(o.receipts.first.get(k, math.inf) <= until for k in keys),
        recommendations=sum(o.routed.kept.get(k) in stored for k in keys),
        mails=o.sink.count - mails,
        drained_s=drained,
        cpu=cpu,
        commands=commands_between(commands, counted),
        e2e_ms=[(o.routed.first[k] - accepted[k]) * 1000 for k in in_time],
        intake_ms=[(o.received.first[k] - accepted[k]) * 1000 for k in split],
        routing_ms=[(o.routed.first[k] - o.received.first[k]) * 1000 for k in split],
        input_ms=_input_ms(samples),
        keys=keys,
        until=until,
        max_p99_ms=lim.max_p99_ms,
    )


async def loop_step(rate: float, seconds: float, send: Send, watch: Watch, lim: Limits) -> LoopStep:
    samples = await open_loop(rate, seconds, lim.concurrency, send, lim.arrivals)
    accepted = {s.key: s.accepted for s in samples if s.accepted is not None and s.key}
    await watch.wait_for(set(accepted), now() + lim.drain_s)
    seen = [k for k in accepted if k in watch.first]
    return LoopStep(
        rate=rate,
        sent=len(samples),
        accepted=len(accepted),
        seen=len(seen),
        e2e_ms=[(watch.first[k] - accepted[k]) * 1000 for k in seen],
    )


def _failures(samples: list[Sample]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in samples:
        if s.accepted is None:
            out[s.outcome] = out.get(s.outcome, 0) + 1
    return out


def _input_ms(samples: list[Sample]) -> list[float]:
    # From the scheduled slot, so time queued behind the concurrency cap counts too.
    return [(s.accepted - s.scheduled) * 1000 for s in samples if s.accepted is not None]
