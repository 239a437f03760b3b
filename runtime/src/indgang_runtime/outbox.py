"""Transactional outbox without transactions.

A state change and the events it causes are written in ONE document update:
the events are appended to the document's `outbox` array and its
`outbox_pending` counter is raised in the same atomic write. The relay finds
documents with pending events, leases one, publishes its pending tail in order
(idempotent producer, acks=all) and lowers the counter by what it published.

A crash between publish and counter update republishes at most those events;
consumers are idempotent on the CloudEvent id, so nothing is applied twice and
nothing is lost. This works on a standalone MongoDB and on FerretDB v1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from indgang_contracts.envelope import Record

OUTBOX = "outbox"
PENDING = "outbox_pending"
LEASE = "outbox_lease_until"

log = structlog.get_logger(__name__)

PUBLISHED = Counter(
    "indgang_outbox_published_total", "Events published from the outbox", ["service", "topic"]
)
FAILURES = Counter("indgang_outbox_publish_failures_total", "Failed relay attempts", ["service"])

Publish = Callable[[Record], Awaitable[None]]


def entry(record: Record) -> dict[str, Any]:
    """The stored form of an outgoing record."""
    return {
        "id": record.headers["ce_id"],
        "topic": record.topic,
        "key": record.key,
        "headers": record.headers,
        # Stored as text so the published bytes are exactly what was decided.
        "value": record.value.decode(),
        "created_at": datetime.now(UTC),
    }


def record_of(stored: dict[str, Any]) -> Record:
    return Record(
        topic=stored["topic"],
        key=stored["key"],
        headers=dict(stored["headers"]),
        value=stored["value"].encode(),
    )


def new_outbox(records: Sequence[Record]) -> dict[str, Any]:
    """Fields for a new document that carries these events."""
    return {OUTBOX: [entry(r) for r in records], PENDING: len(records), LEASE: None}


def append(records: Sequence[Record]) -> dict[str, Any]:
    """Update operators that append events to an existing document's outbox."""
    return {
        "$push": {OUTBOX: {"$each": [entry(r) for r in records]}},
        "$inc": {PENDING: len(records)},
    }


class OutboxRelay:
    """Publishes pending outbox events of one or more collections.

    A local write kicks the relay with the document's id, which is leased and
    published by `_id` at once. A scan for any document with pending events
    (other instances' writes, crashes, failed publishes) runs every
    `poll_seconds` as the fallback: on FerretDB such a query scans the whole
    collection, so it must not be on the hot path.
    """

    def __init__(
        self,
        service: str,
        collections: Sequence[AsyncCollection[dict[str, Any]]],
        publish: Publish,
        *,
        poll_seconds: float = 2.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self._service = service
        self._collections = collections
        self._publish = publish
        self._poll = poll_seconds
        self._lease_for = timedelta(seconds=lease_seconds)
        self._wake = asyncio.Event()
        self._kicked: list[tuple[AsyncCollection[dict[str, Any]], Any]] = []
        self._scan_now = True

    def kick(
        self, doc_id: Any = None, collection: AsyncCollection[dict[str, Any]] | None = None
    ) -> None:
        """Called after a local write so its events leave at once.

        With the document's id (and its collection, if the relay has several) the
        relay publishes that document directly; without, it scans now.
        """
        if doc_id is None:
            self._scan_now = True
        else:
            self._kicked.append((collection or self._collections[0], doc_id))
        self._wake.set()

    async def ensure_indexes(self) -> None:
        for collection in self._collections:
            await collection.create_index(PENDING)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_scan = loop.time()
        backoff = self._poll
        while True:
            # Cleared before the work, so a kick that arrives during it is not lost.
            self._wake.clear()
            try:
                await self._drain_kicked()
                if self._scan_now or loop.time() >= next_scan:
                    self._scan_now = False
                    await self.drain()
                    next_scan = loop.time() + self._poll
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                FAILURES.labels(self._service).inc()
                log.warning("outbox_relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
                backoff = min(backoff * 2, 10.0)
                await asyncio.sleep(backoff)
                self._scan_now = True  # the scan finds whatever the failure left pending
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_scan - loop.time()))

    async def _drain_kicked(self) -> int:
        total = 0
        while self._kicked:
            collection, doc_id = self._kicked.pop(0)
            doc = await self._lease(collection, {"_id": doc_id})
            if doc is not None:
                total += await self._publish_pending(collection, doc)
        return total

    async def drain(self) -> int:
        """Publish everything pending now; returns how many events went out."""
        total = 0
        for collection in self._collections:
            while (doc := await self._lease(collection, {})) is not None:
                total += await self._publish_pending(collection, doc)
        return total

    async def _lease(
        self, collection: AsyncCollection[dict[str, Any]], match: dict[str, Any]
    ) -> dict[str, Any] | None:
        now = datetime.now(UTC)
        return await collection.find_one_and_update(
            {**match, PENDING: {"$gt": 0}, "$or": [{LEASE: None}, {LEASE: {"$lt": now}}]},
            {"$set": {LEASE: now + self._lease_for}},
            # No projection: FerretDB v1 does not implement `fields` in findAndModify.
            return_document=ReturnDocument.AFTER,
        )

    async def _publish_pending(
        self, collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]
    ) -> int:
        pending = doc[OUTBOX][-doc[PENDING] :]
        sent = 0
        try:
            for stored in pending:
                await self._publish(record_of(stored))
                PUBLISHED.labels(self._service, stored["topic"]).inc()
                sent += 1
        finally:
            # Lower the counter by what actually went out and release the lease,
            # also when publishing stopped halfway (the rest is retried).
            await collection.update_one(
                {"_id": doc["_id"]}, {"$inc": {PENDING: -sent}, "$set": {LEASE: None}}
            )
        return sent
