"""Transactional outbox without transactions.

A state change and the events it causes are written in ONE document update:
the events are appended to the document's `outbox` array, its `outbox_pending`
counter is raised and its `outbox_due` flag is set, all in the same atomic
write (`OutboxCollection` does this for every write that carries events, and
wakes the relay). The relay's only query is `{outbox_due: true}`, an indexed
equality, so an idle relay costs one index lookup whatever the data size; it
leases what is due, publishes it as one batch (idempotent producer, acks=all),
awaits the acknowledgements together and then clears what it published, the
flag included, in one conditional update per document.

A crash between publish and clear republishes at most those events; consumers
are idempotent on the CloudEvent id, so nothing is applied twice and nothing is
lost. Several relay instances (several instances of a service) share the work
through leases taken with a compare-and-set on the lease token. This works on
a standalone MongoDB and on FerretDB v1: only `_id` and top-level equality
filters, single-document atomic updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.results import UpdateResult

from indgang_contracts.envelope import Record
from indgang_runtime.hot_paths import HotQuery
from indgang_runtime.mongo import as_duplicate_key

OUTBOX = "outbox"
PENDING = "outbox_pending"
# How many events the document has ever had: only ever raised (by an append), so a
# relay's compare-and-set can tell the document it read from the same one later.
SEQ = "outbox_seq"
DUE = "outbox_due"
LEASE = "outbox_lease"
LEASE_UNTIL = "outbox_lease_until"
FREE = ""  # the lease token of a document nobody has leased
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Where each collection's one-off outbox upgrade is remembered.
UPGRADES = "outbox_upgrades"
# Never shown or returned by an API.
INTERNAL_FIELDS = (OUTBOX, PENDING, SEQ, DUE, LEASE, LEASE_UNTIL)

# The relay's one query, per collection with an outbox.
DUE_DOCUMENTS = HotQuery("*", "outbox relay: documents with unpublished events", outbox_due=True)

log = structlog.get_logger(__name__)

PUBLISHED = Counter(
    "indgang_outbox_published_total", "Events published from the outbox", ["service", "topic"]
)
FAILURES = Counter("indgang_outbox_publish_failures_total", "Failed relay attempts", ["service"])
BATCH = Histogram(
    "indgang_outbox_batch_events",
    "Events published per relay batch",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)

Doc = dict[str, Any]
# Hands a record to the producer and returns once it is queued; the awaitable it
# returns resolves when the broker has acknowledged the record.
Enqueue = Callable[[Record], Awaitable[Awaitable[Any]]]


def entry(record: Record) -> Doc:
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


def record_of(stored: Mapping[str, Any]) -> Record:
    return Record(
        topic=stored["topic"],
        key=stored["key"],
        headers=dict(stored["headers"]),
        value=stored["value"].encode(),
    )


def new_outbox(records: Sequence[Record]) -> Doc:
    """Fields for a new document that carries these events."""
    return {
        OUTBOX: [entry(r) for r in records],
        PENDING: len(records),
        SEQ: len(records),
        DUE: bool(records),
        LEASE: FREE,
        LEASE_UNTIL: EPOCH,
    }


def with_events(ops: Mapping[str, Any], records: Sequence[Record]) -> Doc:
    """`ops` (update operators) plus what appends `records` to the document's outbox."""
    merged: Doc = {op: dict(fields) for op, fields in ops.items()}
    if not records:
        return merged
    for op, field in (("$push", OUTBOX), ("$inc", PENDING), ("$inc", SEQ), ("$set", DUE)):
        if field in merged.get(op, {}):
            raise ValueError(f"{op} {field} is the outbox's own field")
    merged.setdefault("$push", {})[OUTBOX] = {"$each": [entry(r) for r in records]}
    merged.setdefault("$inc", {}).update({PENDING: len(records), SEQ: len(records)})
    merged.setdefault("$set", {})[DUE] = True
    return merged


class OutboxCollection:
    """A collection whose documents carry their own outbox.

    Every write that causes events goes through here: the state change and its
    events are one single-document write, and the relay is woken afterwards, so
    a handler never touches outbox fields or the relay itself.
    """

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection
        self._wake: Callable[[], None] = lambda: None

    @property
    def name(self) -> str:
        return self.collection.name

    def on_write(self, wake: Callable[[], None]) -> None:
        """Called by the relay that publishes this collection's events."""
        self._wake = wake

    def _written(self, records: Sequence[Record]) -> None:
        if records:
            self._wake()

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(DUE)
        await self._upgrade_old_documents()

    async def _upgrade_old_documents(self) -> None:
        """Documents stored before the due flag existed get it (and a free lease), or the
        relay, which finds work only by `{outbox_due: true}`, would never publish them.

        A one-off scan at start-up (not a hot path), remembered in `outbox_upgrades`
        so later starts cost one lookup by `_id`."""
        db = self.collection.database
        marker = {"_id": f"{self.collection.name}:due-flag"}
        if await db[UPGRADES].find_one(marker) is not None:
            return
        await self.collection.update_many(
            {PENDING: {"$gt": 0}, DUE: {"$exists": False}},
            {"$set": {DUE: True, LEASE: FREE, LEASE_UNTIL: EPOCH}},
        )
        await db[UPGRADES].update_one(
            marker, {"$setOnInsert": {"at": datetime.now(UTC)}}, upsert=True
        )

    async def insert(self, doc: Mapping[str, Any], events: Sequence[Record] = ()) -> None:
        """Insert a new document with its events (DuplicateKeyError if the `_id` is taken)."""
        try:
            await self.collection.insert_one({**doc, **new_outbox(events)})
        except OperationFailure as exc:
            raise (as_duplicate_key(exc) or exc) from None
        self._written(events)

    async def create(
        self, doc_id: Any, fields: Mapping[str, Any], events: Sequence[Record] = ()
    ) -> bool:
        """Create the document unless one with this `_id` exists; True if this call did.

        DuplicateKeyError when another unique index refuses it. (An insert, not an
        upsert with `$setOnInsert`: FerretDB v1 drops `None` fields from the latter.)"""
        try:
            await self.insert({**fields, "_id": doc_id}, events)
        except DuplicateKeyError:
            if await self.collection.find_one({"_id": doc_id}, {"_id": 1}) is not None:
                return False
            raise
        return True

    async def update(
        self,
        query: Mapping[str, Any],
        ops: Mapping[str, Any],
        events: Sequence[Record] = (),
        *,
        upsert: bool = False,
    ) -> UpdateResult:
        """One single-document update with its events appended in the same write.

        DuplicateKeyError when a unique index refuses the change (on every store)."""
        result = await self._update_one(query, with_events(ops, events), upsert=upsert)
        if result.matched_count or result.upserted_id is not None:
            self._written(events)
        return result

    async def find_one_and_update(
        self,
        query: Mapping[str, Any],
        ops: Mapping[str, Any],
        events: Sequence[Record] = (),
        *,
        upsert: bool = False,
    ) -> Doc | None:
        """Like `update`, returning the document after the change (None if none matched)."""
        try:
            # No projection: FerretDB v1 does not implement `fields` in findAndModify.
            found = await self.collection.find_one_and_update(
                dict(query),
                with_events(ops, events),
                upsert=upsert,
                return_document=ReturnDocument.AFTER,
            )
        except OperationFailure as exc:
            raise (as_duplicate_key(exc) or exc) from None
        if found is not None:
            self._written(events)
        return found

    async def _update_one(
        self, query: Mapping[str, Any], ops: Mapping[str, Any], *, upsert: bool
    ) -> UpdateResult:
        try:
            return await self.collection.update_one(dict(query), dict(ops), upsert=upsert)
        except OperationFailure as exc:
            raise (as_duplicate_key(exc) or exc) from None


class OutboxRelay:
    """Publishes the due outbox events of one or more collections, in batches.

    A write through an `OutboxCollection` wakes the relay at once; a poll every
    `poll_seconds` picks up what other instances or a crash left due. Each round
    leases up to `batch_size` due documents per collection, publishes their
    pending events (each document's in order; documents oldest first, so events
    with one key keep their order), awaits the broker's acknowledgements
    together, then clears each document's outbox in one conditional update.
    """

    def __init__(
        self,
        service: str,
        collections: Sequence[OutboxCollection],
        enqueue: Enqueue,
        *,
        poll_seconds: float = 2.0,
        lease_seconds: float = 30.0,
        batch_size: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._collections = collections
        self._enqueue = enqueue
        self._poll = poll_seconds
        self._lease_for = timedelta(seconds=lease_seconds)
        self._batch = batch_size
        self._clock = clock
        self._instance = uuid.uuid4().hex[:12]
        self._wake = asyncio.Event()
        self._lost_race = False
        for collection in collections:
            collection.on_write(self.wake)

    @property
    def collections(self) -> Sequence[OutboxCollection]:
        return self._collections

    def wake(self) -> None:
        """Publish now instead of at the next poll (a local write stored events)."""
        self._wake.set()

    async def ensure_indexes(self) -> None:
        for collection in self._collections:
            await collection.ensure_indexes()

    async def run(self) -> None:
        backoff = self._poll
        while True:
            # Cleared before the work, so a wake that arrives during it is not lost.
            self._wake.clear()
            try:
                await self.drain()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                FAILURES.labels(self._service).inc()
                log.warning("outbox_relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
                backoff = min(backoff * 2, 10.0)
                await asyncio.sleep(backoff)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def drain(self) -> int:
        """Publish everything due now; returns how many events went out."""
        total = 0
        lost_races = 0
        while True:
            sent = 0
            self._lost_race = False
            for collection in self._collections:
                sent += await self.publish_due(collection)
            total += sent
            # A lease lost to a change since the read deserves a fresh read at once.
            lost_races += self._lost_race
            if not sent and (not self._lost_race or lost_races > 3):
                return total

    async def publish_due(self, collection: OutboxCollection) -> int:
        """One round for one collection: lease, publish, clear. Returns the events sent."""
        token, leased = await self._lease(collection.collection)
        if not leased:
            return 0
        # Oldest pending event first: events with one key (one organisation's
        # inquiries, say) stored in different documents keep their order.
        leased.sort(key=lambda d: d[OUTBOX][-d[PENDING]]["created_at"])
        sent = await self._publish(leased)
        await self._clear(collection.collection, token, leased, sent)
        total = sum(sent.values())
        BATCH.labels(self._service).observe(total)
        return total

    async def _lease(self, collection: AsyncCollection[Doc]) -> tuple[str, list[Doc]]:
        """Lease up to `batch_size` due documents; returns the lease token and them."""
        now = self._clock()
        due = await collection.find(DUE_DOCUMENTS.filter(outbox_due=True)).to_list(self._batch)
        free = [d for d in due if d.get(PENDING, 0) > 0 and _leasable(d, now)]
        if not free:
            # Documents due with nothing pending (a clear that lost a race) just
            # get their flag cleared, conditionally, by `_id`.
            stale = [d for d in due if d.get(PENDING, 0) <= 0 and _leasable(d, now)]
            if stale:
                await collection.bulk_write(
                    [
                        UpdateOne(
                            {"_id": d["_id"], PENDING: 0, SEQ: d.get(SEQ), LEASE: d.get(LEASE)},
                            {"$set": {DUE: False}},
                        )
                        for d in stale
                    ],
                    ordered=False,
                )
            return FREE, []
        token = f"{self._instance}:{uuid.uuid4().hex[:8]}"
        until = now + self._lease_for
        # Compare-and-set on the document as it was read (its lease, what is pending and
        # how many events it ever had): of several relays that read it, exactly one takes
        # it, and none takes it on a stale view (another relay published and cleared it,
        # and new events arrived, since this one read it). None also matches a document
        # stored before these fields existed.
        result = await collection.bulk_write(
            [
                UpdateOne(
                    {
                        "_id": d["_id"],
                        LEASE: d.get(LEASE),
                        PENDING: d[PENDING],
                        SEQ: d.get(SEQ),
                    },
                    {"$set": {LEASE: token, LEASE_UNTIL: until}},
                )
                for d in free
            ],
            ordered=False,
        )
        if result.modified_count == len(free):
            return token, free
        # Another relay took some, or they changed since the read: keep those that now
        # carry our token (their state is the one read); the rest wait for a fresh read.
        # Each is looked up by `_id` (contention needs several relays: rare).
        self._lost_race = True
        now_stored = await asyncio.gather(
            *(collection.find_one({"_id": d["_id"]}, {LEASE: 1}) for d in free)
        )
        return token, [
            d
            for d, current in zip(free, now_stored, strict=True)
            if current is not None and current.get(LEASE) == token
        ]

    async def _publish(self, docs: Sequence[Doc]) -> dict[Any, int]:
        """Queue every pending event, then await all acknowledgements together.

        Returns, per document, how many of its pending events (from the oldest)
        the broker acknowledged; the rest stay pending and are retried.
        """
        acks: list[tuple[Any, str, Awaitable[Any]]] = []
        failed: set[Any] = set()
        for doc in docs:
            for stored in doc[OUTBOX][-doc[PENDING] :]:
                try:
                    ack = await self._enqueue(record_of(stored))
                except Exception as exc:
                    log.warning("outbox_enqueue_failed", error=type(exc).__name__)
                    failed.add(doc["_id"])
                    break
                acks.append((doc["_id"], stored["topic"], ack))
        results = await asyncio.gather(*(ack for _, _, ack in acks), return_exceptions=True)
        sent: dict[Any, int] = dict.fromkeys((d["_id"] for d in docs), 0)
        stopped: set[Any] = set(failed)
        for (doc_id, topic, _), result in zip(acks, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                stopped.add(doc_id)
                log.warning("outbox_publish_failed", error=type(result).__name__)
            elif doc_id not in stopped:
                sent[doc_id] += 1
                PUBLISHED.labels(self._service, topic).inc()
        if stopped:
            FAILURES.labels(self._service).inc()
        return sent

    async def _clear(
        self,
        collection: AsyncCollection[Doc],
        token: str,
        docs: Sequence[Doc],
        sent: Mapping[Any, int],
    ) -> None:
        """Give up the leases; lower each counter by what went out.

        A document nobody appended to since it was read loses its published
        events and its due flag in one conditional update (`outbox_pending` still
        equal to what was read); one that got new events keeps them and stays due.
        """
        everything = [d for d in docs if sent[d["_id"]] == d[PENDING]]
        partly = [d for d in docs if sent[d["_id"]] != d[PENDING]]
        if everything:
            result = await collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": d["_id"], LEASE: token, PENDING: d[PENDING], SEQ: d.get(SEQ)},
                        {
                            "$set": {
                                OUTBOX: [],
                                PENDING: 0,
                                DUE: False,
                                LEASE: FREE,
                                LEASE_UNTIL: EPOCH,
                            }
                        },
                    )
                    for d in everything
                ],
                ordered=False,
            )
            if result.modified_count < len(everything):
                partly += everything  # the conditional `$inc` below is a no-op for cleared ones
        for d in partly:
            await collection.update_one(
                {"_id": d["_id"], LEASE: token},
                {"$inc": {PENDING: -sent[d["_id"]]}, "$set": {LEASE: FREE, LEASE_UNTIL: EPOCH}},
            )


def _leasable(doc: Mapping[str, Any], now: datetime) -> bool:
    if doc.get(LEASE, FREE) == FREE:
        return True
    until = doc.get(LEASE_UNTIL) or EPOCH
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return bool(until < now)
