"""`--preload N`: a year's history written before the services start, so the bench shows
whether cost grows with the data (the issue's target: within 1.5x of the empty run).

N historic inquiries, and for each its case, a delivery and the case's recommendations,
one writer per service taking that service's database. The writers must go through the
service's own repository (its indexes, its document shapes, its keyed counter and
index documents) and must leave nothing for the outbox relay to publish: this is
history, its events went out long ago. They run in the bench process before the
service starts, so the service meets the data as it would after a restart.

The repositories are being rewritten for the store's hot-path rules; until they have
settled the writers raise `NotWritten`, and the bench then says that the preloaded
stack cannot run yet instead of measuring a store filled in some other shape.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Database = AsyncDatabase[dict[str, Any]]
_NAMESPACE = uuid.UUID("5d1b0c52-6f0b-4a53-9a51-2d6b8f3c0a11")  # stable ids across runs


class NotWritten(NotImplementedError):
    """A service's writer is still to be filled in (see the module's docstring)."""


@dataclass(frozen=True)
class Past:
    """One historic inquiry and the ids the other services know it by."""

    number: int
    inquiry_id: str
    case_id: str
    reference: str
    organisation_key: str
    email: str
    received_at: datetime
    closed: bool  # most of a year's cases are closed; the rest are still open


@dataclass(frozen=True)
class History:
    """N inquiries spread over the year before `until`, the same for all four writers."""

    n: int
    until: datetime
    seed: int = 9

    def __iter__(self) -> Iterator[Past]:
        rng = random.Random(self.seed)
        for i in range(self.n):
            ids = [str(uuid.uuid5(_NAMESPACE, f"{kind}-{i}")) for kind in ("inquiry", "case")]
            received = self.until - timedelta(seconds=rng.uniform(3600, 365 * 86400))
            yield Past(
                number=i,
                inquiry_id=ids[0],
                case_id=ids[1],
                reference=f"H-P{i:07d}",
                organisation_key=f"email:history-{i}@example.dk",
                email=f"history-{i}@example.dk",
                received_at=received,
                closed=rng.random() < 0.9,
            )

    def batches(self, size: int = 500) -> Iterator[list[Past]]:
        """In slices, so a writer can use one bulk write per slice (one round trip each)."""
        batch: list[Past] = []
        for past in self:
            batch.append(past)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


async def intake(db: Database, history: History) -> None:
    """Inquiries as intake's repository stores them, already published."""
    raise NotWritten("intake")


async def routing(db: Database, history: History) -> None:
    """Cases (mostly closed) with their consultants, and the keyed documents routing keeps
    beside them (per-consultant loads, the last consultant of each organisation)."""
    raise NotWritten("routing")


async def notifications(db: Database, history: History) -> None:
    """One delivered (sent) delivery per inquiry, its receipt, in the delivery log."""
    raise NotWritten("notifications")


async def guide(db: Database, history: History) -> None:
    """The stored recommendations of every historic case."""
    raise NotWritten("guide")


WRITERS: dict[str, Callable[[Database, History], Awaitable[None]]] = {
    "intake": intake,
    "routing": routing,
    "notifications": notifications,
    "guide": guide,
}


async def preload(mongodb_uri: str, databases: dict[str, str], n: int) -> dict[str, float]:
    """Run every writer on its service's database at once; seconds each took.
    Raises NotWritten naming every writer that is not filled in yet."""
    history = History(n, until=datetime.now(UTC))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    missing: list[str] = []
    took: dict[str, float] = {}

    async def one(service: str) -> None:
        t0 = time.monotonic()
        try:
            await WRITERS[service](client[databases[service]], history)
        except NotWritten:
            missing.append(service)
        took[service] = time.monotonic() - t0

    try:
        await asyncio.gather(*(one(s) for s in WRITERS))
    finally:
        await client.close()
    if missing:
        raise NotWritten(", ".join(sorted(missing)))
    return took
