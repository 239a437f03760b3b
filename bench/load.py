"""Open-loop load: each send starts at its scheduled time whatever happened to the earlier
ones, so a slow system cannot slow the load down and hide its own latency (coordinated
omission).

The times are random by default, as inquirers arrive (a Poisson process: rate × seconds
arrivals spread uniformly over the step, the same for every run of that step), or evenly
spaced (`even`). Even spacing flatters a system that polls on a cycle: a load whose
period fits the cycle lands in the poll's window every time (it hid FastStream's 200 ms
pause after an empty batch poll, which random arrivals meet at every hop)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from http1 import Client

now = time.perf_counter
LATE_S = 0.010  # a send that leaves later than this after its slot is a "late start"


@dataclass
class Sample:
    scheduled: float
    accepted: float | None = None  # HTTP 202 received / broker acked the input
    key: str | None = None  # inquiry_id
    outcome: str = ""  # "202", another status, or an exception's name
    late: bool = False


Send = Callable[[int, Sample], Awaitable[None]]
_numbers = itertools.count()  # unique across the whole run: every inquiry is a new organisation


def inquiry(n: int) -> dict[str, Any]:
    # A new e-mail (the organisation key without CVR) per inquiry, so no inquiry is a
    # follow-up of an earlier one and every one opens a case of its own.
    return {
        "organisation": {"name": f"Bench {n} ApS", "stage": "idea"},
        "contact": {"name": "Bench Person", "email": f"bench-{n}@example.dk"},
        "needs": ["business_development"],
        "description": "benchmark",
        "privacy_notice_accepted": True,
    }


ARRIVALS = ("random", "even")


def schedule(rate: float, seconds: float, arrivals: str = "random") -> list[float]:
    """Offsets (s from the step's start) of rate × seconds sends."""
    n = round(rate * seconds)
    if arrivals == "even":
        return [i / rate for i in range(n)]
    # Seeded by the step, so two runs (and the plain loop beside the system) get the
    # same arrivals.
    pick = random.Random(f"{rate}/{seconds}")
    return sorted(pick.uniform(0.0, seconds) for _ in range(n))


async def open_loop(
    rate: float, seconds: float, concurrency: int, send: Send, arrivals: str = "random"
) -> list[Sample]:
    """Send rate × seconds requests open-loop; returns when every request has finished."""
    limit = asyncio.Semaphore(concurrency)
    offsets = schedule(rate, seconds, arrivals)
    samples = [Sample(0.0) for _ in offsets]

    async def one(sample: Sample) -> None:
        async with limit:
            sample.late = now() - sample.scheduled > LATE_S
            try:
                await asyncio.wait_for(send(next(_numbers), sample), timeout=15)
            except Exception as exc:  # counted, not fatal: the point is to see failures
                sample.outcome = type(exc).__name__

    t0 = now() + 0.05
    tasks = []
    for offset, sample in zip(offsets, samples, strict=True):
        sample.scheduled = t0 + offset
        await asyncio.sleep(max(0.0, sample.scheduled - now()))
        tasks.append(asyncio.create_task(one(sample)))
    await asyncio.gather(*tasks)
    return samples


class Inquirers:
    """POST /api/v1/inquiries as many inquirers would: the clock starts at the 202.

    On the bench's own client (`http1.py`: httpx cost 11 ms of CPU per request here)."""

    def __init__(self, intake_url: str, concurrency: int) -> None:
        headers = [("Content-Type", "application/json")]
        self.http = Client(intake_url, concurrency, headers=headers)

    async def send(self, n: int, sample: Sample) -> None:
        # Each request claims its own client address (TEST-NET-3, through the proxy
        # header intake trusts from loopback), as many different inquirers would.
        client = f"203.0.113.{n % 250 + 1}"
        status, body = await self.http.request(
            "POST",
            "/api/v1/inquiries",
            json.dumps(inquiry(n)).encode(),
            [("X-Forwarded-For", client)],
        )
        sample.outcome = str(status)
        if status == 202:
            sample.accepted = now()
            sample.key = str(json.loads(body)["inquiry_id"])

    async def close(self) -> None:
        await self.http.close()
