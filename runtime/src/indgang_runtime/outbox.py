"""Transactional outbox without transactions.

A state change and the events it causes are written in ONE document update:
the events are appended to the document's `outbox` array, its `outbox_pending`
counter and `outbox_seq` (events ever appended) are raised, its `outbox_due`
flag is set and `outbox_owner` names the writing instance's relay, all in the
same atomic write (`OutboxCollection` does this for every write that carries
events, and wakes the relay).

The relay publishes what its own instance wrote. A fresh insert is published
from memory: its writer knows the document's whole outbox (its events, both
counters equal to their number, this relay as owner), so it hands that to the
relay and no read is needed. Anything else (an update's events, what a failed
publish or a crash left, the poll every `poll_seconds`) goes through the
indexed due query `{outbox_due: true, outbox_owner: <me>}`, so an idle relay
costs one index lookup whatever the data size. A document costs one write
after it is published (no lease to take first). The relay publishes a batch,
awaits the broker's acknowledgements together, then lowers each counter by what
went out with a compare-and-set on the counters it read or was handed (clearing
the flag and the published events when nothing else is pending). What another
instance left behind (it crashed, or was stopped) is taken over by a slower
sweep once its oldest pending event is `takeover_seconds` old.

A crash between publish and clear republishes at most those events, and two
relays that both publish a document (a takeover while its owner was only
slow) publish the same events twice: consumers are idempotent on the
CloudEvent id, so nothing is applied twice, and the counters never drop below
what is really pending, so nothing is lost. Only `_id` and top-level equality
filters and single-document atomic updates: MongoDB and FerretDB v1 alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.results import UpdateResult

from indgang_contracts.envelope import Record
from indgang_runtime.hot_paths import HotQuery
from indgang_runtime.mongo import as_duplicate_key
from indgang_runtime.telemetry import outbox_fields, relaying

OUTBOX = "outbox"
PENDING = "outbox_pending"
# How many events the document has ever had: only ever raised (by an append), so a
# relay's compare-and-set can tell the document it read from the same one later.
SEQ = "outbox_seq"
DUE = "outbox_due"
OWNER = "outbox_owner"
# Where each collection's one-off outbox upgrade is remembered.
UPGRADES = "outbox_upgrades"
# Fields of the relay's first version (leases), dropped by the upgrade.
_LEGACY = ("outbox_lease", "outbox_lease_until")
# Never shown or returned by an API.
INTERNAL_FIELDS = (OUTBOX, PENDING, SEQ, DUE, OWNER, *_LEGACY)

# The relay's queries, on every collection with an outbox ("*").
OWN_DUE_DOCUMENTS = HotQuery(
    "*",
    "outbox relay: this instance's documents with unpublished events",
    outbox_due=True,
    outbox_owner="host:8001",
)
DUE_DOCUMENTS = HotQuery(
    "*", "outbox relay's takeover sweep: documents with unpublished events", outbox_due=True
)
RELAY_QUERIES = (OWN_DUE_DOCUMENTS, DUE_DOCUMENTS)

log = structlog.get_logger(__name__)

PUBLISHED = Counter(
    "indgang_outbox_published_total", "Events published from the outbox", ["service", "topic"]
)
FAILURES = Counter("indgang_outbox_publish_failures_total", "Failed relay attempts", ["service"])
TAKEN_OVER = Counter(
    "indgang_outbox_taken_over_total",
    "Documents whose events another instance left unpublished, taken over",
    ["service"],
)
BATCH = Histogram(
    "indgang_outbox_batch_events",
    "Events published per relay batch",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
BACKLOG = Gauge(
    "indgang_outbox_backlog_events",
    "Unpublished events this instance's relay found in its last round (at most a batch's)",
    ["service", "collection"],
)
OLDEST_PENDING = Gauge(
    "indgang_outbox_oldest_pending_seconds",
    "Age of the oldest unpublished event this instance's relay found in its last round",
    ["service", "collection"],
)
PUBLISH_DELAY = Histogram(
    "indgang_outbox_publish_delay_seconds",
    "From an event's write to the outbox to the broker's acknowledgement of it",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EVENT_LATENCY = Histogram(
    "indgang_event_latency_seconds",
    "From the start of the story a consumed event told (an inquiry's received_at, else "
    "the event's time) to the acknowledged publication of the event it caused "
    "(routing's case-routed: inquiry received -> case routed)",
    ["service", "topic"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

Doc = dict[str, Any]
# Told of every write that stored events: the inserted document's outbox fields (all
# the relay would read back) for an insert, None when its outbox state is unknown.
Written = Callable[[Doc | None], None]
# Hands a record to the producer and returns once it is queued; the awaitable it
# returns resolves when the broker has acknowledged the record.
Enqueue = Callable[[Record], Awaitable[Awaitable[Any]]]


def default_instance(port: int | str = "") -> str:
    """This process's relay name: stable across restarts of the same instance (host and
    port), so a restarted instance publishes what it left at once."""
    return f"{socket.gethostname()}:{port}"


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
        # The trace it continues when published, and when its story began (telemetry).
        **outbox_fields(record),
    }


def record_of(stored: Mapping[str, Any]) -> Record:
    return Record(
        topic=stored["topic"],
        key=stored["key"],
        headers=dict(stored["headers"]),
        value=stored["value"].encode(),
    )


def new_outbox(records: Sequence[Record], owner: str = "") -> Doc:
    """Fields for a new document that carries these events."""
    return {
        OUTBOX: [entry(r) for r in records],
        PENDING: len(records),
        SEQ: len(records),
        DUE: bool(records),
        OWNER: owner,
    }


def with_events(ops: Mapping[str, Any], records: Sequence[Record], owner: str = "") -> Doc:
    """`ops` (update operators) plus what appends `records` to the document's outbox."""
    merged: Doc = {op: dict(fields) for op, fields in ops.items()}
    if not records:
        return merged
    for op, field in (("$push", OUTBOX), ("$inc", PENDING), ("$inc", SEQ), ("$set", DUE)):
        if field in merged.get(op, {}):
            raise ValueError(f"{op} {field} is the outbox's own field")
    merged.setdefault("$push", {})[OUTBOX] = {"$each": [entry(r) for r in records]}
    merged.setdefault("$inc", {}).update({PENDING: len(records), SEQ: len(records)})
    merged.setdefault("$set", {}).update({DUE: True, OWNER: owner})
    return merged


class OutboxCollection:
    """A collection whose documents carry their own outbox.

    Every write that causes events goes through here: the state change and its
    events are one single-document write, and the relay is told afterwards (an
    insert hands it the new outbox itself), so a handler never touches outbox
    fields or the relay itself.
    """

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection
        self._on_write: Written = lambda inserted: None
        self._owner = ""

    @property
    def name(self) -> str:
        return self.collection.name

    def on_write(self, written: Written, owner: str) -> None:
        """Called by the relay that publishes what this instance writes."""
        self._on_write = written
        self._owner = owner

    def _written(self, records: Sequence[Record], inserted: Doc | None = None) -> None:
        if records:
            self._on_write(inserted)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(DUE)
        await self._upgrade_old_documents()

    async def _upgrade_old_documents(self) -> None:
        """Documents stored before the due flag existed get it, or the relay, which finds
        work only by `outbox_due`, would never publish them (they have no owner, so the
        takeover sweep publishes them); the first relay's lease fields go.

        A one-off scan at start-up (not a hot path), remembered in `outbox_upgrades`
        so later starts cost one lookup by `_id`."""
        db = self.collection.database
        marker = {"_id": f"{self.collection.name}:owner"}
        if await db[UPGRADES].find_one(marker) is not None:
            return
        await self.collection.update_many(
            {PENDING: {"$gt": 0}, DUE: {"$exists": False}}, {"$set": {DUE: True}}
        )
        await self.collection.update_many(
            {"$or": [{field: {"$exists": True}} for field in _LEGACY]},
            {"$unset": dict.fromkeys(_LEGACY, "")},
        )
        await db[UPGRADES].update_one(
            marker, {"$setOnInsert": {"at": datetime.now(UTC)}}, upsert=True
        )

    async def insert(self, doc: Mapping[str, Any], events: Sequence[Record] = ()) -> None:
        """Insert a new document with its events (DuplicateKeyError if the `_id` is taken)."""
        fields = new_outbox(events, self._owner)
        try:
            result = await self.collection.insert_one({**doc, **fields})
        except OperationFailure as exc:
            raise (as_duplicate_key(exc) or exc) from None
        # Exactly what the relay would read back: it publishes this without a read.
        self._written(events, {"_id": result.inserted_id, **fields})

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
        result = await self._update_one(query, with_events(ops, events, self._owner), upsert=upsert)
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
                with_events(ops, events, self._owner),
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

    A write through an `OutboxCollection` wakes the relay at once. What an insert
    handed over is published from memory; the indexed due query reads up to
    `batch_size` of its own due documents per collection when the state is not
    known that way: after an update with events, a full batch, a failed publish
    or a takeover, and at the poll every `poll_seconds` (also under continuous
    load), which picks up the rest. Each document's events go out in order,
    documents oldest first (so events with one key keep their order); the
    acknowledgements are awaited together and each document is cleared with one
    conditional update. Every `takeover_seconds / 2` a sweep makes the documents
    that another instance left due for `takeover_seconds` its own.
    """

    def __init__(
        self,
        service: str,
        collections: Sequence[OutboxCollection],
        enqueue: Enqueue,
        *,
        instance: str | None = None,
        poll_seconds: float = 2.0,
        takeover_seconds: float = 10.0,
        batch_size: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._collections = collections
        self._enqueue = enqueue
        self.instance = instance or default_instance()
        self._poll = poll_seconds
        self._takeover = timedelta(seconds=takeover_seconds)
        self._batch = batch_size
        self._clock = clock
        self._wake = asyncio.Event()
        self._next_sweep = datetime.min.replace(tzinfo=UTC)
        self._next_poll = datetime.min.replace(tzinfo=UTC)
        # Documents this instance inserted, not yet published (their outbox as written).
        self._inserted: dict[OutboxCollection, list[Doc]] = {}
        # Collections whose due documents only the query can tell (start-up included).
        self._to_read: set[OutboxCollection] = set(collections)
        for collection in collections:
            collection.on_write(partial(self._written, collection), self.instance)

    @property
    def collections(self) -> Sequence[OutboxCollection]:
        return self._collections

    def _written(self, collection: OutboxCollection, inserted: Doc | None) -> None:
        notes = self._inserted.setdefault(collection, [])
        if inserted is None or len(notes) >= self._batch:
            # An update's outbox is unknown, and notes are bounded by a batch: the
            # documents are stored and due, so the query reads them.
            self._to_read.add(collection)
        else:
            notes.append(inserted)
        self._wake.set()

    async def ensure_indexes(self) -> None:
        for collection in self._collections:
            await collection.ensure_indexes()

    async def run(self) -> None:
        backoff = self._poll
        while True:
            try:
                await self.drain()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                FAILURES.labels(self._service).inc()
                log.warning("outbox_relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
                # Capped at 2 s: what was written while the broker was away is published
                # within 2 s of its return, and a retry every 2 s costs a dead broker nothing.
                backoff = min(backoff * 2, 2.0)
                await asyncio.sleep(backoff)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def drain(self) -> int:
        """Publish everything of this instance's that is due now (and, when the sweep is
        due, what other instances left behind); returns how many events went out.

        Called without a write to publish (the poll, or a caller's), it reads the due
        documents; woken by inserts only, it publishes what they handed over."""
        total = 0
        polling = not self._wake.is_set()
        full = True
        while full or self._wake.is_set():
            # Another round only after a full batch or a write during this one: an
            # empty extra read per wake would be one more query per event at low rates.
            # Cleared before the round, so a wake that arrives during it is not lost.
            self._wake.clear()
            full = False
            now = self._clock()
            if polling or now >= self._next_poll:  # also under continuous load
                polling = False
                self._next_poll = now + timedelta(seconds=self._poll)
                self._to_read.update(self._collections)
            if now >= self._next_sweep:
                self._next_sweep = now + self._takeover / 2
                for collection in self._collections:
                    if await self.take_over(collection):
                        self._to_read.add(collection)
            for collection in self._collections:
                sent, was_full = await self._round(collection)
                total += sent
                full = full or was_full
        return total

    async def _round(self, collection: OutboxCollection) -> tuple[int, bool]:
        try:
            if collection in self._to_read:
                self._to_read.discard(collection)
                return await self._publish_round(collection)
            inserted = self._inserted.pop(collection, [])
            return (await self._publish_docs(collection, inserted) if inserted else 0), False
        except Exception:
            # Published but perhaps not cleared: only the query can tell now.
            self._to_read.add(collection)
            raise

    async def publish_due(self, collection: OutboxCollection) -> int:
        """One round for one collection: read own due documents, publish, clear."""
        sent, _ = await self._publish_round(collection)
        return sent

    async def _publish_round(self, collection: OutboxCollection) -> tuple[int, bool]:
        raw = collection.collection
        # The query reads the noted documents too: what was noted before it is dropped,
        # and so is what was noted while it ran and it found (never published twice).
        self._inserted.pop(collection, None)
        due = await raw.find(
            OWN_DUE_DOCUMENTS.filter(outbox_due=True, outbox_owner=self.instance)
        ).to_list(self._batch)
        found = {d["_id"] for d in due}
        if noted := self._inserted.get(collection):
            self._inserted[collection] = [d for d in noted if d["_id"] not in found]
        full = len(due) >= self._batch
        if full:
            self._to_read.add(collection)
        docs = [d for d in due if d.get(PENDING, 0) > 0]
        if len(docs) < len(due):
            await self._unflag(raw, [d for d in due if d.get(PENDING, 0) <= 0])
        if not docs:
            self._observe_backlog(collection.name, docs, {})
            return 0, full
        return await self._publish_docs(collection, docs), full

    async def _publish_docs(self, collection: OutboxCollection, docs: list[Doc]) -> int:
        """Publish the pending events of documents read or noted, then clear them."""
        # Oldest pending event first: events with one key (one organisation's
        # inquiries, say) stored in different documents keep their order.
        docs.sort(key=_oldest_pending)
        sent = await self._publish(docs)
        await self._clear(collection.collection, docs, sent)
        self._observe_backlog(collection.name, docs, sent)
        total = sum(sent.values())
        BATCH.labels(self._service).observe(total)
        if any(sent[d["_id"]] < d[PENDING] for d in docs):
            # Those documents stay due; the query reads them at the next wake or poll
            # (another round at once would only hit the same broker trouble).
            self._to_read.add(collection)
        return total

    def _observe_backlog(
        self, collection: str, docs: Sequence[Doc], sent: Mapping[Any, int]
    ) -> None:
        """What is still unpublished of what this round read (a batch at most)."""
        left = {d["_id"]: d[PENDING] - sent.get(d["_id"], 0) for d in docs}
        oldest = min(
            (_aware(d[OUTBOX][-left[d["_id"]]]["created_at"]) for d in docs if left[d["_id"]] > 0),
            default=None,
        )
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        BACKLOG.labels(self._service, collection).set(sum(left.values()))
        OLDEST_PENDING.labels(self._service, collection).set(max(age, 0.0))

    async def take_over(self, collection: OutboxCollection) -> int:
        """Make this relay the owner of documents other instances left due for longer than
        `takeover_seconds` (compare-and-set on the owner and counters read)."""
        raw = collection.collection
        now = self._clock()
        due = await raw.find(DUE_DOCUMENTS.filter(outbox_due=True)).to_list(self._batch)
        orphans = [
            d
            for d in due
            if d.get(OWNER) != self.instance
            and d.get(PENDING, 0) > 0
            and _oldest_pending(d) < now - self._takeover
        ]
        if not orphans:
            return 0
        result = await raw.bulk_write(
            [
                UpdateOne(
                    # None also matches a document stored before these fields existed.
                    {"_id": d["_id"], OWNER: d.get(OWNER), SEQ: d.get(SEQ)},
                    {"$set": {OWNER: self.instance}},
                )
                for d in orphans
            ],
            ordered=False,
        )
        TAKEN_OVER.labels(self._service).inc(result.modified_count)
        log.info("outbox_taken_over", documents=result.modified_count)
        return result.modified_count

    async def _unflag(self, collection: AsyncCollection[Doc], docs: Sequence[Doc]) -> None:
        """Due with nothing pending (a clear that lost a race): drop the flag, conditionally."""
        await collection.bulk_write(
            [
                UpdateOne({"_id": d["_id"], PENDING: 0, SEQ: d.get(SEQ)}, {"$set": {DUE: False}})
                for d in docs
            ],
            ordered=False,
        )

    async def _publish(self, docs: Sequence[Doc]) -> dict[Any, int]:
        """Queue every pending event, then await all acknowledgements together.

        Returns, per document, how many of its pending events (from the oldest)
        the broker acknowledged; the rest stay pending and are retried.
        """
        acks: list[tuple[Any, Mapping[str, Any], Awaitable[Any]]] = []
        failed: set[Any] = set()
        for doc in docs:
            for stored in doc[OUTBOX][-doc[PENDING] :]:
                try:
                    # In the trace of the work that wrote it: the record's headers carry it.
                    with relaying(stored):
                        ack = await self._enqueue(record_of(stored))
                except Exception as exc:
                    log.warning("outbox_enqueue_failed", error=type(exc).__name__)
                    failed.add(doc["_id"])
                    break
                acks.append((doc["_id"], stored, ack))
        results = await asyncio.gather(*(ack for _, _, ack in acks), return_exceptions=True)
        acknowledged = datetime.now(UTC)
        sent: dict[Any, int] = dict.fromkeys((d["_id"] for d in docs), 0)
        stopped: set[Any] = set(failed)
        for (doc_id, stored, _), result in zip(acks, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                stopped.add(doc_id)
                log.warning("outbox_publish_failed", error=type(result).__name__)
            elif doc_id not in stopped:
                sent[doc_id] += 1
                PUBLISHED.labels(self._service, stored["topic"]).inc()
                self._observe_published(stored, acknowledged)
        if stopped:
            FAILURES.labels(self._service).inc()
        return sent

    def _observe_published(self, stored: Mapping[str, Any], acknowledged: datetime) -> None:
        PUBLISH_DELAY.labels(self._service).observe(
            max((acknowledged - _aware(stored["created_at"])).total_seconds(), 0.0)
        )
        if stored.get("origin_at") is not None:
            EVENT_LATENCY.labels(self._service, stored["topic"]).observe(
                max((acknowledged - _aware(stored["origin_at"])).total_seconds(), 0.0)
            )

    async def _clear(
        self, collection: AsyncCollection[Doc], docs: Sequence[Doc], sent: Mapping[Any, int]
    ) -> None:
        """Lower each counter by what went out.

        The usual case is one conditional update per document, all in one bulk
        write: the counters are still as read, so the document loses its published
        events (and, when that was all, its flag). A document that changed since it
        was read (new events, or another relay published some of the same ones) is
        cleared from a fresh read, by what is still counted of what went out.
        """
        done = [d for d in docs if sent[d["_id"]]]
        if not done:
            return
        result = await collection.bulk_write(
            [UpdateOne(*_clear_op(d, d[PENDING], d.get(SEQ), sent[d["_id"]])) for d in done],
            ordered=False,
        )
        if result.modified_count == len(done):
            return
        for doc in done:
            await self._clear_fresh(collection, doc, sent[doc["_id"]])

    async def _clear_fresh(self, collection: AsyncCollection[Doc], read: Doc, sent: int) -> None:
        for _ in range(10):
            fresh = await collection.find_one({"_id": read["_id"]}, {PENDING: 1, SEQ: 1})
            if fresh is None:
                return
            appended = (fresh.get(SEQ) or 0) - (read.get(SEQ) or 0)
            # Of the events read as pending, how many are still counted as pending;
            # what someone else cleared is not cleared twice.
            still_counted = fresh.get(PENDING, 0) - appended
            already_cleared = read[PENDING] - still_counted
            lower = min(sent - already_cleared, fresh.get(PENDING, 0))
            if lower <= 0:
                return
            result = await collection.update_one(
                *_clear_op(fresh, fresh.get(PENDING, 0), fresh.get(SEQ), lower)
            )
            if result.modified_count:
                return
        log.warning("outbox_clear_gave_up", document=str(read["_id"]))


def _clear_op(doc: Mapping[str, Any], pending: int, seq: Any, lower: int) -> tuple[Doc, Doc]:
    """The conditional update (filter, update) that lowers `pending` by `lower`, provided
    the counters are still `pending` and `seq`."""
    query = {"_id": doc["_id"], PENDING: pending, SEQ: seq}
    if lower >= pending:
        # Everything pending went out: the published events and the flag go too.
        return query, {"$set": {OUTBOX: [], PENDING: 0, DUE: False}}
    return query, {"$inc": {PENDING: -lower}}


def _oldest_pending(doc: Mapping[str, Any]) -> datetime:
    return _aware(doc[OUTBOX][-doc[PENDING]]["created_at"])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
