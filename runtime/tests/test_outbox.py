"""The outbox and its relay, on the in-memory fake and on the real store (same tests).

What must hold: a write and its events are one document write; the relay
publishes every event once and in order, clears what it published, keeps what
was appended meanwhile, retries what the broker did not acknowledge, leaves
other instances' documents to them while they live, takes over what a crashed
instance left, and never loses an event when two relays publish one document.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError

from indgang_contracts.envelope import Record, encode
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_runtime import outbox
from indgang_runtime.outbox import OutboxCollection, OutboxRelay

Doc = dict[str, Any]


def record(n: int, key: str = "org-1") -> Record:
    event = INQUIRY_RECEIVED.model_copy(update={"reference": f"H-T{n:07}"})
    encoded = encode(event, source="/test", event_id=f"event-{n}-{uuid.uuid4().hex[:6]}")
    return Record(encoded.topic, key, encoded.headers, encoded.value)


class Broker:
    """Records what the relay hands over; can refuse (at queueing or at acknowledgement)."""

    def __init__(self) -> None:
        self.published: list[Record] = []
        self.refuse_ack: Callable[[Record], bool] = lambda r: False
        self.refuse_queue: Callable[[Record], bool] = lambda r: False
        self.on_queue: Callable[[Record], Awaitable[None]] | None = None

    async def enqueue(self, r: Record) -> Awaitable[Any]:
        if self.refuse_queue(r):
            raise ConnectionError("broker down")
        if self.on_queue is not None:
            await self.on_queue(r)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.refuse_ack(r):
            future.set_exception(TimeoutError("no acknowledgement"))
        else:
            self.published.append(r)
            future.set_result(None)
        return future

    def ids(self) -> list[str]:
        return [r.headers["ce_id"] for r in self.published]


def ids(records: list[Record]) -> list[str]:
    return [r.headers["ce_id"] for r in records]


class CountedReads:
    """The collection, counting the reads made through it (on either store); `during_read`
    runs once inside the next `find`, before the store answers it."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.reads = 0
        self.during_read: Callable[[], Awaitable[None]] | None = None

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        during, self.during_read = self.during_read, None
        find = self._collection.find

        class Cursor:
            async def to_list(self, length: int | None = None) -> list[Doc]:
                if during is not None:
                    await during()
                found: list[Doc] = await find(*args, **kwargs).to_list(length)
                return found

        return Cursor()

    async def find_one(self, *args: Any, **kwargs: Any) -> Doc | None:
        self.reads += 1
        found: Doc | None = await self._collection.find_one(*args, **kwargs)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


async def setup(
    db: Any, *, started: bool = True, **relay_options: Any
) -> tuple[OutboxCollection, OutboxRelay, Broker]:
    """A collection and its relay; `started`: the relay's start-up poll is done, so what
    is inserted afterwards is published from memory, as in a running service."""
    things = OutboxCollection(CountedReads(db["things"]))  # type: ignore[arg-type]
    broker = Broker()
    relay_options.setdefault("instance", "test-relay")
    relay = OutboxRelay("test", [things], broker.enqueue, **relay_options)
    await relay.ensure_indexes()
    if started:
        await relay.drain()
    return things, relay, broker


def reads(things: OutboxCollection) -> int:
    counted: CountedReads = things.collection  # type: ignore[assignment]
    return counted.reads


async def stored(things: OutboxCollection, doc_id: str) -> Doc:
    doc = await things.collection.find_one({"_id": doc_id})
    assert doc is not None
    return doc


async def test_a_write_and_its_events_are_one_document(db: Any) -> None:
    things, _, _ = await setup(db)
    first, second = record(1), record(2)
    await things.insert({"_id": "a", "state": 1}, [first])
    await things.update({"_id": "a"}, {"$set": {"state": 2}}, [second])
    await things.update({"_id": "a"}, {"$set": {"state": 3}})  # no events: not due again
    doc = await stored(things, "a")
    assert doc["state"] == 3
    assert [e["id"] for e in doc[outbox.OUTBOX]] == ids([first, second])
    assert doc[outbox.PENDING] == 2
    assert doc[outbox.DUE] is True
    assert doc[outbox.OWNER] == "test-relay"  # the writing instance's relay publishes it


async def test_create_is_idempotent_and_only_the_first_carries_events(db: Any) -> None:
    things, _, _ = await setup(db)
    assert await things.create("a", {"state": 1}, [record(1)]) is True
    assert await things.create("a", {"state": 2}, [record(2)]) is False
    doc = await stored(things, "a")
    assert doc["state"] == 1
    assert doc[outbox.PENDING] == 1
    assert await things.create("b", {"state": 1}) is True
    assert (await stored(things, "b"))[outbox.DUE] is False


async def test_insert_of_a_taken_id_is_refused_and_changes_nothing(db: Any) -> None:
    things, _, _ = await setup(db)
    await things.insert({"_id": "a", "state": 1}, [record(1)])
    with pytest.raises(DuplicateKeyError):
        await things.insert({"_id": "a", "state": 2}, [record(2)])
    assert (await stored(things, "a"))[outbox.PENDING] == 1


async def test_drain_publishes_every_event_once_in_order_and_clears_the_outbox(db: Any) -> None:
    things, relay, broker = await setup(db)
    events = [record(n) for n in range(5)]
    await things.insert({"_id": "a"}, events[:3])
    await things.update({"_id": "a"}, {"$set": {"x": 1}}, events[3:])
    await things.insert({"_id": "b"}, [record(9, key="org-2")])
    assert await relay.drain() == 6
    assert ids(events) == [i for i in broker.ids() if i in ids(events)]
    doc = await stored(things, "a")
    assert (doc[outbox.PENDING], doc[outbox.DUE], doc[outbox.OUTBOX]) == (0, False, [])
    assert await relay.drain() == 0
    assert len(broker.published) == 6


async def test_documents_are_published_oldest_event_first(db: Any) -> None:
    things, relay, broker = await setup(db)
    # One organisation's two inquiries in two documents: the older goes first.
    older, newer = record(1), record(2)
    await things.insert({"_id": "z-older"}, [older])
    await things.insert({"_id": "a-newer"}, [newer])
    await relay.drain()
    assert broker.ids() == ids([older, newer])


async def test_events_appended_while_publishing_stay_due_and_go_next(db: Any) -> None:
    things, relay, broker = await setup(db)
    first, late = record(1), record(2)
    await things.insert({"_id": "a"}, [first])

    async def append_once(r: Record) -> None:
        if r.headers["ce_id"] == first.headers["ce_id"]:
            await things.update({"_id": "a"}, {"$set": {"x": 1}}, [late])

    broker.on_queue = append_once
    assert await relay.drain() == 2
    assert broker.ids() == ids([first, late])
    doc = await stored(things, "a")
    assert (doc[outbox.PENDING], doc[outbox.DUE]) == (0, False)


async def test_unacknowledged_events_stay_pending_and_are_retried(db: Any) -> None:
    things, relay, broker = await setup(db)
    events = [record(n) for n in range(3)]
    await things.insert({"_id": "a"}, events)
    refused = events[1].headers["ce_id"]
    broker.refuse_ack = lambda r: r.headers["ce_id"] == refused
    await relay.publish_due(things)
    doc = await stored(things, "a")
    assert doc[outbox.PENDING] == 2  # the first went out; the refused one and the next wait
    assert doc[outbox.DUE] is True
    broker.refuse_ack = lambda r: False
    await relay.drain()
    # Every event reached the broker; the third may be handed over twice (consumers
    # de-duplicate on the id), the first never again.
    assert set(broker.ids()) == set(ids(events))
    assert broker.ids().count(events[0].headers["ce_id"]) == 1
    assert (await stored(things, "a"))[outbox.PENDING] == 0


async def test_broker_down_loses_nothing(db: Any) -> None:
    things, relay, broker = await setup(db)
    await things.insert({"_id": "a"}, [record(1), record(2)])
    broker.refuse_queue = lambda r: True
    assert await relay.drain() == 0
    assert (await stored(things, "a"))[outbox.PENDING] == 2
    broker.refuse_queue = lambda r: False
    assert await relay.drain() == 2


async def instance(
    db: Any, name: str, broker: Broker, **options: Any
) -> tuple[OutboxCollection, OutboxRelay]:
    """One more instance of the service: its own view of the collection and its relay."""
    things = OutboxCollection(db["things"])
    relay = OutboxRelay("test", [things], broker.enqueue, instance=name, **options)
    await relay.ensure_indexes()
    return things, relay


async def test_two_instances_each_publish_their_own_once(db: Any) -> None:
    broker = Broker()
    one, relay_one = await instance(db, "one", broker, batch_size=7)
    two, relay_two = await instance(db, "two", broker, batch_size=7)

    async def slow(r: Record) -> None:
        await asyncio.sleep(0)  # let the other relay run between queueing calls

    broker.on_queue = slow
    events = [record(n, key=f"org-{n}") for n in range(40)]
    for n, r in enumerate(events):
        await (one if n % 2 else two).insert({"_id": f"d{n:02}"}, [r])
    await asyncio.gather(relay_one.drain(), relay_two.drain())
    assert sorted(broker.ids()) == sorted(ids(events))  # each exactly once


async def test_racing_relays_lose_nothing_and_keep_counts_right(db: Any) -> None:
    # Both take over from each other at once (takeover after 0 s): a document may be
    # published by both, never lost, and its counter never drops below what waits.
    broker = Broker()
    one, relay_one = await instance(db, "one", broker, batch_size=7, takeover_seconds=0)
    two, relay_two = await instance(db, "two", broker, batch_size=7, takeover_seconds=0)

    async def slow(r: Record) -> None:
        await asyncio.sleep(0)

    broker.on_queue = slow
    events = [record(n, key=f"org-{n}") for n in range(40)]
    for n, r in enumerate(events):
        await (one if n % 2 else two).insert({"_id": f"d{n:02}"}, [r])
    for _ in range(3):
        await asyncio.gather(relay_one.drain(), relay_two.drain())
    assert set(broker.ids()) == set(ids(events))
    docs = await one.collection.find({}).to_list(None)
    assert {(d[outbox.PENDING], d[outbox.DUE]) for d in docs} == {(0, False)}


async def test_what_a_crashed_instance_left_is_taken_over_after_a_while(db: Any) -> None:
    broker = Broker()
    crashed, _ = await instance(db, "crashed", broker)
    busy, _ = await instance(db, "busy", broker)
    survivor, relay = await instance(db, "survivor", broker, takeover_seconds=60)
    await crashed.insert({"_id": "a"}, [record(1)])
    await busy.insert({"_id": "b"}, [record(2)])
    # "a" has waited two minutes (its owner died); "b" was written a moment ago.
    await crashed.collection.update_one(
        {"_id": "a"}, {"$set": {"outbox.0.created_at": datetime.now(UTC) - timedelta(minutes=2)}}
    )
    assert await relay.drain() == 1
    assert len(broker.published) == 1
    assert (await stored(survivor, "a"))[outbox.DUE] is False
    assert (await stored(survivor, "b"))[outbox.PENDING] == 1  # its owner lives: its to publish


async def test_a_write_wakes_the_running_relay(db: Any) -> None:
    things, relay, broker = await setup(db, poll_seconds=3600)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.05)
        await things.insert({"_id": "a"}, [record(1)])
        for _ in range(200):
            if broker.published:
                break
            await asyncio.sleep(0.02)
        assert len(broker.published) == 1  # long before the hour's poll
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_idle_relay_costs_one_lookup_per_collection(db: Any) -> None:
    from fake_store import FakeDatabase

    if not isinstance(db, FakeDatabase):
        pytest.skip("counts commands: the fake's ledger (the real store's cost is in make bench)")
    things, relay, _ = await setup(db)
    for n in range(50):
        await things.insert({"_id": f"d{n}"}, [])
    await relay.drain()  # the first also sweeps for other instances' leftovers
    before = db.commands()
    await relay.drain()
    assert db.commands() - before == {"find": 1}


async def test_a_unique_index_refusal_is_a_duplicate_key_on_every_store(db: Any) -> None:
    things, _, _ = await setup(db)
    await things.collection.create_index("slot", unique=True)
    await things.insert({"_id": "a", "slot": "x"})
    await things.insert({"_id": "b", "slot": "y"})
    with pytest.raises(DuplicateKeyError):
        await things.update({"_id": "b"}, {"$set": {"slot": "x"}}, [record(1)])
    assert (await stored(things, "b"))[outbox.PENDING] == 0


async def test_a_full_batch_is_published_and_cleared_in_one_bulk(db: Any) -> None:
    # FerretDB v1.24.2 held a pooled connection per matching statement until the end of
    # an `update` command, so a bulk of 50+ updates (the relay's clear) hung the whole
    # store; infra.sh's build releases each statement's query as it finishes.
    things, relay, broker = await setup(db, batch_size=300)
    for n in range(300):
        await things.insert({"_id": f"d{n:03}"}, [record(n, key=f"org-{n}")])
    assert await asyncio.wait_for(relay.drain(), timeout=120) == 300
    assert len(set(broker.ids())) == 300


async def test_create_keeps_fields_that_are_none(db: Any) -> None:
    # FerretDB v1 drops None fields from an upsert's $setOnInsert; create must not.
    things, _, _ = await setup(db)
    assert await things.create("a", {"closed_at": None, "state": 1}, [record(1)])
    assert (await stored(things, "a"))["closed_at"] is None
    assert "closed_at" in await stored(things, "a")


async def test_create_refused_by_another_unique_index_raises(db: Any) -> None:
    things, _, _ = await setup(db)
    await things.collection.create_index("slot", unique=True)
    assert await things.create("a", {"slot": "x"})
    with pytest.raises(DuplicateKeyError):
        await things.create("b", {"slot": "x"}, [record(1)])
    assert await things.collection.find_one({"_id": "b"}) is None


async def test_documents_stored_before_the_due_flag_are_published_after_an_upgrade(
    db: Any,
) -> None:
    things = OutboxCollection(db["things"])
    old = record(1)
    # As the previous outbox stored it: a counter and a lease date, no flag, no token.
    await things.collection.insert_one(
        {
            "_id": "old",
            outbox.OUTBOX: [outbox.entry(old)],
            outbox.PENDING: 1,
            "outbox_lease_until": None,
        }
    )
    await things.collection.insert_one({"_id": "done", outbox.OUTBOX: [], outbox.PENDING: 0})
    # Start-up: indexes and the one-off upgrade; the old document has no owner, so the
    # takeover sweep publishes it.
    _, relay, broker = await setup(db, started=False, takeover_seconds=0)
    assert await relay.drain() == 1
    assert broker.ids() == ids([old])
    assert not (await stored(things, "done")).get(outbox.DUE)  # nothing waits: not due
    assert "outbox_lease_until" not in await stored(things, "old")  # the first relay's lease


class StaleReads:
    """A relay's view of the collection whose next `find` answers with an old snapshot:
    the relay read the document, then others changed it before it went on."""

    def __init__(self, collection: Any, snapshot: list[Doc]) -> None:
        self._collection = collection
        self._snapshot: list[Doc] | None = snapshot

    def find(self, *args: Any, **kwargs: Any) -> Any:
        if self._snapshot is None:
            return self._collection.find(*args, **kwargs)
        snapshot, self._snapshot = self._snapshot, None

        class Cursor:
            async def to_list(self, length: int | None = None) -> list[Doc]:
                return snapshot

        return Cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


async def test_a_relay_working_on_a_stale_view_loses_nothing(db: Any) -> None:
    """Relay A reads X (e1 pending); relay B takes X over, publishes and clears it; e2 is
    appended to X by A's instance; only then does A go on with what it read. A publishes
    e1 again (allowed: consumers de-duplicate) but must not clear e2 with it."""
    broker = Broker()
    things_a, _ = await instance(db, "a", broker)
    _, relay_b = await instance(db, "b", broker, takeover_seconds=0)
    first, second = record(1), record(2)
    await things_a.insert({"_id": "x"}, [first])
    snapshot = await things_a.collection.find({outbox.DUE: True}).to_list(None)
    assert await relay_b.drain() == 1
    await things_a.update({"_id": "x"}, {"$set": {"n": 2}}, [second])
    stale_a = OutboxRelay(
        "test",
        [OutboxCollection(StaleReads(things_a.collection, snapshot))],
        broker.enqueue,
        instance="a",
    )
    await stale_a.drain()
    assert set(broker.ids()) == set(ids([first, second]))
    assert broker.ids().count(second.headers["ce_id"]) == 1
    doc = await stored(things_a, "x")
    assert (doc[outbox.PENDING], doc[outbox.DUE]) == (0, False)


# A fresh insert is published from what its writer handed the relay, without a read.


async def test_an_inserted_document_is_published_and_cleared_without_a_read(db: Any) -> None:
    from fake_store import FakeDatabase

    things, relay, broker = await setup(db)
    events = [record(1), record(2)]
    await things.insert({"_id": "a"}, events)
    await things.create("b", {}, [record(3, key="org-2")])
    before, commands = reads(things), db.commands() if isinstance(db, FakeDatabase) else None
    assert await relay.drain() == 3
    assert reads(things) == before  # no find: one write, the clear
    if commands is not None:
        assert db.commands() - commands == {"bulk": 1}
    for doc_id in ("a", "b"):
        doc = await stored(things, doc_id)
        assert (doc[outbox.PENDING], doc[outbox.DUE], doc[outbox.OUTBOX]) == (0, False, [])
    assert broker.ids()[:2] == ids(events)
    assert await relay.drain() == 0  # not woken: a poll, which finds nothing
    assert len(broker.published) == 3


async def test_inserts_published_from_memory_keep_their_order(db: Any) -> None:
    things, relay, broker = await setup(db)
    # One organisation's inquiries in documents whose ids sort the other way round.
    events = [record(n, key="org-1" if n % 2 else "org-2") for n in range(6)]
    for n, r in enumerate(events):
        await things.insert({"_id": f"d{9 - n}"}, [r])
    before = reads(things)
    assert await relay.drain() == 6
    assert broker.ids() == ids(events)
    assert reads(things) == before


async def test_an_update_after_the_insert_is_read_and_both_go_once_in_order(db: Any) -> None:
    things, relay, broker = await setup(db)
    first, second = record(1), record(2)
    await things.insert({"_id": "a"}, [first])
    await things.update({"_id": "a"}, {"$set": {"x": 1}}, [second])  # its outbox is unknown
    before = reads(things)
    assert await relay.drain() == 2
    assert reads(things) - before == 1  # the due query, which also read the insert
    assert broker.ids() == ids([first, second])
    doc = await stored(things, "a")
    assert (doc[outbox.PENDING], doc[outbox.DUE]) == (0, False)


async def test_a_noted_document_changed_elsewhere_is_cleared_by_what_went_out(db: Any) -> None:
    # Another instance appended to the document (it is now that instance's to publish)
    # before this relay published the insert: the compare-and-set fails, the clear from
    # a fresh read lowers the counter by the inserted event only, the other relay
    # publishes the appended one.
    broker = Broker()
    one, relay_one = await instance(db, "one", broker)
    two, relay_two = await instance(db, "two", broker)
    await relay_one.drain()
    await relay_two.drain()
    first, second = record(1), record(2)
    await one.insert({"_id": "x"}, [first])
    await two.update({"_id": "x"}, {"$set": {"n": 2}}, [second])
    assert await relay_one.drain() == 1
    doc = await stored(one, "x")
    assert (doc[outbox.PENDING], doc[outbox.DUE], doc[outbox.OWNER]) == (1, True, "two")
    assert await relay_two.drain() == 1
    assert broker.ids() == ids([first, second])
    doc = await stored(one, "x")
    assert (doc[outbox.PENDING], doc[outbox.DUE]) == (0, False)


async def test_a_failed_publish_stays_due_and_the_poll_publishes_it(db: Any) -> None:
    things, relay, broker = await setup(db, poll_seconds=0.1)
    attempts: list[str] = []

    async def count(r: Record) -> None:
        attempts.append(r.headers["ce_id"])

    broker.on_queue = count
    broker.refuse_ack = lambda r: True
    task = asyncio.create_task(relay.run())
    try:
        event = record(1)
        await things.insert({"_id": "a"}, [event])
        for _ in range(200):
            if attempts:
                break
            await asyncio.sleep(0.01)
        assert attempts
        doc = await stored(things, "a")
        assert (doc[outbox.PENDING], doc[outbox.DUE]) == (1, True)  # the note is gone, not it
        broker.refuse_ack = lambda r: False  # no write wakes the relay: the poll reads it
        for _ in range(300):
            if broker.published:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # a few more polls: nothing more goes out
        assert broker.ids() == ids([event])
        assert (await stored(things, "a"))[outbox.DUE] is False
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_insert_noted_while_the_query_runs_is_not_published_twice(db: Any) -> None:
    things, relay, broker = await setup(db)
    first, second, during = record(1), record(2), record(3, key="org-2")
    await things.insert({"_id": "a"}, [first])
    await things.update({"_id": "a"}, {"$set": {"x": 1}}, [second])  # so a query round

    async def insert_meanwhile() -> None:
        await things.insert({"_id": "b"}, [during])  # stored before the query: it finds it

    things.collection.during_read = insert_meanwhile  # type: ignore[attr-defined]
    assert await relay.drain() == 3
    assert sorted(broker.ids()) == sorted(ids([first, second, during]))
    assert await relay.drain() == 0
    assert len(broker.published) == 3


async def test_inserts_while_publishing_go_once_each(db: Any) -> None:
    things, relay, broker = await setup(db)
    events = [record(n, key=f"org-{n % 3}") for n in range(30)]
    written = iter(enumerate(events[1:], start=1))

    async def insert_next(r: Record) -> None:
        if (following := next(written, None)) is not None:
            await things.insert({"_id": f"d{following[0]:02}"}, [following[1]])

    broker.on_queue = insert_next
    await things.insert({"_id": "d00"}, [events[0]])
    before = reads(things)
    assert await relay.drain() == 30
    assert broker.ids() == ids(events)
    assert reads(things) == before


async def test_notes_beyond_a_batch_are_left_to_the_query(db: Any) -> None:
    things, relay, broker = await setup(db, batch_size=3)
    events = [record(n) for n in range(10)]
    for n, r in enumerate(events):
        await things.insert({"_id": f"d{n}"}, [r])
    before = reads(things)
    assert await relay.drain() == 10
    assert broker.ids() == ids(events)
    assert reads(things) > before  # at most a batch is held in memory


async def test_a_failed_insert_is_read_back_at_the_next_wake_before_later_ones(db: Any) -> None:
    things, relay, broker = await setup(db)
    first, later = record(1), record(2)
    await things.insert({"_id": "a"}, [first])
    broker.refuse_queue = lambda r: True
    assert await relay.drain() == 0
    broker.refuse_queue = lambda r: False
    await things.insert({"_id": "b"}, [later])  # a wake, not a poll
    before = reads(things)
    assert await relay.drain() == 2
    assert reads(things) - before == 1
    assert broker.ids() == ids([first, later])


async def test_the_poll_reads_also_under_continuous_writes(db: Any) -> None:
    now = [datetime.now(UTC)]
    things, relay, _ = await setup(db, poll_seconds=2, clock=lambda: now[0])
    await things.insert({"_id": "a"}, [record(1)])
    before = reads(things)
    await relay.drain()
    assert reads(things) == before  # woken by an insert, before the poll is due
    now[0] += timedelta(seconds=2)
    await things.insert({"_id": "b"}, [record(2)])
    await relay.drain()
    assert reads(things) - before == 1  # the poll is due: it reads whatever else waits
