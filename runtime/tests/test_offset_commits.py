"""Offsets are committed in the background (`offset_commits`), on the real broker:
never before the work is stored, within the interval after it, and before the
partitions move to another instance or the consumer stops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker, KafkaRouter

from indgang_contracts.envelope import Envelope, encode
from indgang_contracts.events import CaseRouted
from indgang_contracts.examples import CASE_ROUTED
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_runtime.messaging import EventConsumer, consumer_group, make_broker
from indgang_runtime.settings import ServiceSettings
from indgang_runtime.wiring import subscribe

from harness import KAFKA_BOOTSTRAP, eventually

PARTITIONS = 2


@dataclass
class Handled:
    ids: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)


def _settings(prefix: str, interval_ms: int) -> ServiceSettings:
    return ServiceSettings(
        service_name="t",
        mongodb_database="t",
        http_port=1,
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
        kafka_topic_prefix=prefix,
        kafka_commit_interval_ms=interval_ms,
    )


def _service(settings: ServiceSettings, handled: Handled) -> KafkaBroker:
    broker = make_broker(settings)
    router = KafkaRouter()

    async def store(envelopes: Sequence[Envelope[CaseRouted]]) -> None:
        await handled.gate.wait()  # the work is "stored" when the gate opens
        handled.ids.extend(e.id for e in envelopes)

    subscribe(
        router,
        settings,
        EventConsumer(broker, settings),
        CaseRouted,
        store,
        description="test",
        batch=True,
    )
    broker.include_router(router)
    return broker


@asynccontextmanager
async def _topic(prefix: str) -> AsyncIterator[tuple[str, AIOKafkaAdminClient]]:
    topic = prefix + topic_for(CaseRouted)
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        dead_letters = prefix + DEAD_LETTER_TOPIC
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1), NewTopic(dead_letters, 1, 1)])
        yield topic, admin
    finally:
        await admin.delete_topics([topic, dead_letters])
        await admin.close()


async def _produce(topic: str, count: int, *, garbage: bool = False) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await producer.start()
    try:
        for n in range(count):
            if garbage:  # no CloudEvent at all: dead-lettered
                await producer.send_and_wait(topic, b"not an event", partition=n % PARTITIONS)
                continue
            record = encode(CASE_ROUTED, source="/test/offset-commits")
            headers = [(k, v.encode()) for k, v in record.headers.items()]
            await producer.send_and_wait(
                topic, record.value, key=record.key.encode(), headers=headers,
                partition=n % PARTITIONS,
            )  # fmt: skip
    finally:
        await producer.stop()


async def _committed(admin: AIOKafkaAdminClient, group: str) -> int:
    """How many records the group has committed, over all partitions."""
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


async def _starts(broker: KafkaBroker, topic: str) -> None:
    await broker.start()
    # Joined and assigned: the subscriber's consumer has partitions.
    (subscriber,) = broker.subscribers

    async def assigned() -> bool:
        consumer = subscriber.consumer  # type: ignore[attr-defined]
        return consumer is not None and {tp.topic for tp in consumer.assignment()} == {topic}

    await eventually(assigned)


async def test_nothing_is_committed_before_it_is_stored_and_all_within_the_interval(
    infra: None,
) -> None:
    prefix = f"t-commits-{uuid.uuid4().hex[:8]}."
    settings = _settings(prefix, interval_ms=100)
    handled = Handled()
    async with _topic(prefix) as (topic, admin):
        group = consumer_group(settings, topic)
        broker = _service(settings, handled)
        try:
            await _starts(broker, topic)
            await _produce(topic, 6)
            await asyncio.sleep(1.0)  # ten intervals, while the work is not stored yet
            assert handled.ids == []
            assert await _committed(admin, group) == 0

            handled.gate.set()
            await eventually(lambda: _count_is(admin, group, 6), timeout=10)
            assert len(handled.ids) == 6
        finally:
            await broker.stop()


async def test_stopping_commits_what_was_handled(infra: None) -> None:
    prefix = f"t-commits-{uuid.uuid4().hex[:8]}."
    settings = _settings(prefix, interval_ms=10_000)  # the timer never fires in this test
    handled = Handled()
    handled.gate.set()
    async with _topic(prefix) as (topic, admin):
        group = consumer_group(settings, topic)
        broker = _service(settings, handled)
        try:
            await _starts(broker, topic)
            await _produce(topic, 4)
            await eventually(lambda: _handled(handled, 4), timeout=10)
            assert await _committed(admin, group) == 0  # noted, not committed yet
        finally:
            await broker.stop()
        assert await _committed(admin, group) == 4


async def test_a_dead_lettered_poll_is_committed_in_order_with_the_handled_ones(
    infra: None,
) -> None:
    # A poll with nothing but dead letters never reaches the handler. Were it committed
    # at once (FastStream's ack), the commit of the records handled before it, due
    # later, would move the group back before it, and a restart would re-read it.
    prefix = f"t-commits-{uuid.uuid4().hex[:8]}."
    settings = _settings(prefix, interval_ms=10_000)
    handled = Handled()
    handled.gate.set()
    async with _topic(prefix) as (topic, admin):
        group = consumer_group(settings, topic)
        broker = _service(settings, handled)
        try:
            await _starts(broker, topic)
            await _produce(topic, 2)
            await eventually(lambda: _handled(handled, 2), timeout=10)
            await _produce(topic, 2, garbage=True)
            await eventually(lambda: _dead_lettered(admin, prefix, 2), timeout=10)
        finally:
            await broker.stop()
        assert await _committed(admin, group) == 4


async def test_partitions_move_to_another_instance_with_their_offsets_committed(
    infra: None,
) -> None:
    prefix = f"t-commits-{uuid.uuid4().hex[:8]}."
    settings = _settings(prefix, interval_ms=10_000)
    first, second = Handled(), Handled()
    first.gate.set()
    second.gate.set()
    async with _topic(prefix) as (topic, admin):
        group = consumer_group(settings, topic)
        one, two = _service(settings, first), _service(settings, second)
        try:
            await _starts(one, topic)
            await _produce(topic, 4)
            await eventually(lambda: _handled(first, 4), timeout=10)
            assert await _committed(admin, group) == 0

            # A second instance joins: the rebalance takes partitions from the first,
            # which commits what it handled before they go.
            await two.start()
            await eventually(lambda: _count_is(admin, group, 4), timeout=20)
            (subscriber,) = two.subscribers
            await eventually(
                lambda: _has_partitions(subscriber.consumer),  # type: ignore[attr-defined]
                timeout=20,
            )
            await asyncio.sleep(1.0)  # time for a redelivery, if there were one
            assert second.ids == []  # nothing handled twice
        finally:
            await one.stop()
            await two.stop()


async def _count_is(admin: AIOKafkaAdminClient, group: str, count: int) -> bool:
    return await _committed(admin, group) == count


async def _dead_lettered(admin: AIOKafkaAdminClient, prefix: str, count: int) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await consumer.start()
    try:
        partition = TopicPartition(prefix + DEAD_LETTER_TOPIC, 0)
        ends = await consumer.end_offsets([partition])
        return ends[partition] >= count
    finally:
        await consumer.stop()


async def _handled(handled: Handled, count: int) -> bool:
    return len(handled.ids) >= count


async def _has_partitions(consumer: object) -> bool:
    partitions: set[TopicPartition] = consumer.assignment() if consumer is not None else set()  # type: ignore[attr-defined]
    return bool(partitions)
