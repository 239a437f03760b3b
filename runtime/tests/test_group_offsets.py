"""Per-subscription consumer groups start where the service's former single group
stopped (`group_offsets.carry_over`), on the real broker."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from indgang_runtime.group_offsets import carry_over
from indgang_runtime.messaging import consumer_group, subscriber_options
from indgang_runtime.settings import ServiceSettings

from harness import KAFKA_BOOTSTRAP


class Settings(ServiceSettings):
    service_name: str = "routing"
    mongodb_database: str = "t"
    http_port: int = 1


async def _commit(group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


def test_each_subscription_has_a_group_of_its_own_named_after_its_topic() -> None:
    settings = Settings(kafka_topic_prefix="t.")
    assert consumer_group(settings, "t.indgang.case-routed.v1") == (
        "t.indgang-routing.indgang.case-routed.v1"
    )
    assert subscriber_options(settings, "t.a.v1")["group_id"] == "t.indgang-routing.a.v1"
    assert (
        subscriber_options(settings, "t.b.v1")["group_id"]
        != (subscriber_options(settings, "t.a.v1")["group_id"])
    )


async def test_a_new_group_takes_the_old_groups_offsets_once(infra: None) -> None:
    run = uuid.uuid4().hex[:8]
    topic, other = f"test-groups-{run}.a", f"test-groups-{run}.b"
    old, new_a, new_b = f"g-{run}", f"g-{run}.a", f"g-{run}.b"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await producer.start()
    try:
        await admin.create_topics([NewTopic(t, 2, 1) for t in (topic, other)])
        for n in range(6):
            await producer.send_and_wait(topic, b"x", partition=n % 2)
        first, second = TopicPartition(topic, 0), TopicPartition(topic, 1)
        await _commit(old, {first: 3, second: 2})

        moved = await carry_over(KAFKA_BOOTSTRAP, old, {topic: new_a, other: new_b})

        assert moved == {new_a: 2}  # nothing committed on `other`: its group starts fresh
        committed = await admin.list_consumer_group_offsets(new_a)
        assert {tp: meta.offset for tp, meta in committed.items()} == {first: 3, second: 2}
        assert await admin.list_consumer_group_offsets(new_b) == {}

        # The new group has moved on: a later start leaves its own commits alone.
        await _commit(new_a, {first: 5})
        assert await carry_over(KAFKA_BOOTSTRAP, old, {topic: new_a}) == {}
        committed = await admin.list_consumer_group_offsets(new_a)
        assert committed[first].offset == 5
        # No old group at all (a new installation): nothing to do.
        assert await carry_over(KAFKA_BOOTSTRAP, f"none-{run}", {topic: f"x-{run}"}) == {}
    finally:
        await producer.stop()
        await admin.delete_topics([topic, other])
        await admin.close()
