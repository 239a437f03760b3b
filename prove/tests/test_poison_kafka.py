"""Poison on a real broker: `inject` puts the records where it says, the consumers'
own dead-lettering (EventConsumer on a real FastStream broker) sends them to the
dead-letter topic, and `dead_letters` finds every one, once per consumer group.

Runs on a Kafka broker of its own, from the jars `deploy/infra.sh` installed (the
fixture's name marks the test `infra`, so `make unit` leaves it out); skipped
without the jars.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from poison import _main, dead_letters, expected_groups, inject, partitions_of

from indgang_contracts.events import InquiryReceived
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_notifications.settings import NotificationSettings
from indgang_routing.settings import RoutingSettings
from indgang_runtime.messaging import EventConsumer, make_broker
from indgang_runtime.topics import ensure_topics

from harness import KAFKA_LIBS, PrivateKafka


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[PrivateKafka]:
    if not KAFKA_LIBS.exists():
        pytest.skip(f"no Kafka jars in {KAFKA_LIBS} (deploy/infra.sh installs them)")
    kafka = PrivateKafka(tmp_path / "kafka")
    kafka.workdir.mkdir()
    kafka.prepare()
    await kafka.start()
    yield kafka
    kafka.remove()


async def read_topic(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, [topic])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        for _ in range(60):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
            if len(records) >= count:
                break
        return records
    finally:
        await consumer.stop()


async def test_injected_poison_is_dead_lettered_and_found_per_group(
    private_kafka: PrivateKafka, tmp_path: Path
) -> None:
    bootstrap = private_kafka.bootstrap
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    await ensure_topics(bootstrap, prefix)
    inquiries = prefix + topic_for(InquiryReceived)
    injected = await inject(bootstrap, [inquiries], per_topic=9)
    assert len(injected) == 9
    assert all(p.offset is not None for p in injected)
    assert len({p.partition for p in injected}) >= 4

    records = await read_topic(bootstrap, inquiries, 9)
    assert sorted(r.key for r in records) == sorted(p.key for p in injected)
    by_key = {p.key: p for p in injected}
    for record in records:
        poison = by_key[record.key]
        assert (record.partition, record.offset) == (poison.partition, poison.offset)
        assert list(record.headers) == poison.headers
        assert record.value == poison.value

    # The two groups that read inquiry-received dead-letter each record on their own.
    routing = RoutingSettings(kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix)
    notifications = NotificationSettings(
        kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix
    )
    broker = make_broker(routing)
    await broker.start()
    try:
        for settings in (routing, notifications):
            consumer = EventConsumer(broker, settings)
            message = SimpleNamespace(raw_message=tuple(records))
            assert await consumer.decode_records(message, InquiryReceived) == []  # type: ignore[arg-type]
    finally:
        await broker.stop()

    found = await dead_letters(
        bootstrap, [prefix + DEAD_LETTER_TOPIC], [p.marker for p in injected], wait=30
    )
    assert set(found) == {p.marker for p in injected}
    groups = expected_groups(inquiries)
    assert groups == {
        f"{prefix}indgang-routing.indgang.inquiry-received.v1",
        f"{prefix}indgang-notifications.indgang.inquiry-received.v1",
    }
    for poison in injected:
        letter = found[poison.marker]
        assert letter.tries_by_group == dict.fromkeys(groups, 1)
        assert all(poison.expected_reason in reason for reason in letter.reasons)
        assert (letter.topic, letter.partition, letter.offset) == (
            inquiries,
            poison.partition,
            poison.offset,
        )

    # The CLI: a topic nobody consumes is never dead-lettered, which is what it expects.
    out = tmp_path / "poison.jsonl"
    failed = prefix + "indgang.notification-failed.v1"
    argv = ["--bootstrap", bootstrap]
    assert await _main(["inject", *argv, "--per-topic", "3", "--out", str(out), failed]) == 0
    assert len(out.read_text().splitlines()) == 3
    assert await _main(["find", *argv, str(out)]) == 0
