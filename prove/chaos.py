"""The chaos schedule: when each service, a broker and the store are SIGKILLed, and for how
long they stay down. Drawn from a seed before the run, so a run can be repeated, and
carried out beside the load; every kill and restart is timestamped for the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from stack import SERVICES, Infra, Service


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the load started
    target: str  # a service, "kafka", "kafka-<n>" or "store"
    down_s: float | None  # None: killed for good


@dataclass
class Moment:
    t: float  # unix time
    what: str  # "kill" | "start" | "exited" (a process that died by itself)
    target: str


def schedule(
    rng: random.Random, duration: float, brokers: int, kills_per_service: int, store: bool
) -> list[Fault]:
    """Each service killed `kills_per_service` times at random moments in the middle 75 %
    of the load, down 1–5 s; the broker once (one broker: restarted; three: one for good
    and another restarted); the store once. Broker and store faults do not overlap."""
    faults: list[Fault] = []
    # A service's kills at least a minute apart (less in a short run): killed again before
    # it is back, it would only be one longer outage.
    spacing = min(60.0, 0.75 * duration / (2 * max(1, kills_per_service)))
    for name in SERVICES:
        times: list[float] = []
        while len(times) < kills_per_service:
            t = rng.uniform(0.10, 0.85) * duration
            if all(abs(t - other) >= spacing for other in times):
                times.append(t)
        faults += [Fault(t, name, rng.uniform(1, 5)) for t in times]
    if brokers == 1:
        faults.append(Fault(rng.uniform(0.25, 0.40) * duration, "kafka", rng.uniform(1, 5)))
    else:
        gone, restarted = rng.sample(range(1, brokers + 1), 2)
        faults.append(Fault(rng.uniform(0.20, 0.30) * duration, f"kafka-{gone}", None))
        faults.append(
            Fault(rng.uniform(0.45, 0.55) * duration, f"kafka-{restarted}", rng.uniform(1, 5))
        )
    if store:
        faults.append(Fault(rng.uniform(0.65, 0.78) * duration, "store", rng.uniform(1, 5)))
    return sorted(faults, key=lambda f: f.at)


@dataclass
class Chaos:
    infra: Infra
    services: dict[str, Service]
    moments: list[Moment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _killing: set[str] = field(default_factory=set)

    def note(self, what: str, target: str) -> None:
        self.moments.append(Moment(time.time(), what, target))

    async def run(self, faults: list[Fault], t0: float, stop: asyncio.Event) -> None:
        """Carry out the faults (t0: monotonic start of the load); each in its own task,
        so a long restart does not delay the next fault."""
        tasks = []
        for fault in faults:
            delay = t0 + fault.at - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break  # the load ended early
                except TimeoutError:
                    pass
            tasks.append(asyncio.create_task(self._fault(fault)))
        await asyncio.gather(*tasks)

    async def _fault(self, fault: Fault) -> None:
        try:
            if fault.target in self.services:
                await self._service(self.services[fault.target], fault.down_s or 1.0)
            else:
                await self._server(fault.target, fault.down_s)
        except Exception as exc:  # reported, and the run goes on: the checks will tell
            self.errors.append(f"{fault.target}: {type(exc).__name__}: {exc}")

    async def _service(self, service: Service, down_s: float) -> None:
        self._killing.add(service.name)
        try:
            await asyncio.to_thread(service.kill)
            self.note("kill", service.name)
            await asyncio.sleep(down_s)
            service.start()
            self.note("start", service.name)
        finally:
            self._killing.discard(service.name)

    async def _server(self, target: str, down_s: float | None) -> None:
        await self.infra.arun("kill", target)
        self.note("kill", target)
        if down_s is None:
            return
        await asyncio.sleep(down_s)
        await self.infra.arun("start", target)
        self.note("start", target)

    async def supervise(
        self, stop: asyncio.Event, restart: Callable[[Service], Awaitable[None]]
    ) -> None:
        """A service that died by itself (not killed by the schedule) is noted and
        started again after 2 s, as systemd or Kubernetes would."""
        while not stop.is_set():
            for service in self.services.values():
                if service.name not in self._killing and not service.running():
                    self.note("exited", service.name)
                    await asyncio.sleep(2)
                    if service.name not in self._killing and not service.running():
                        await restart(service)
                        self.note("start", service.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


def broker_outages(moments: list[Moment], brokers: int) -> list[tuple[float, float]]:
    """When the cluster could take no writes: the only broker down, or (three brokers,
    min.insync.replicas 2) two of them down. Consumers cannot even commit then."""
    needed = 1 if brokers == 1 else 2
    down: set[str] = set()
    outages: list[tuple[float, float]] = []
    since: float | None = None
    for m in sorted(moments, key=lambda m: m.t):
        if not m.target.startswith("kafka"):
            continue
        if m.what == "kill":
            down.add(m.target)
        elif m.what == "start":
            down.discard(m.target)
        if brokers - len(down) < needed and since is None:
            since = m.t
        elif brokers - len(down) >= needed and since is not None:
            outages.append((since, m.t))
            since = None
    return outages


def merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping intervals joined, so no second is counted twice."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
