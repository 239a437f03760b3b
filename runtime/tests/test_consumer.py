"""The consumer's contract, with FastStream's TestKafkaBroker: poison and failing events
are dead-lettered with the reason and the consumer goes on; transient faults are
retried; a batch stores its valid events together and narrows a failure down to
the one event that causes it. Every test runs twice: on subscribers wired by hand with
`EventConsumer.handle`/`handle_batch`, and on those wired by `wiring.subscribe`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI
from pymongo.errors import AutoReconnect

from indgang_contracts.envelope import Envelope, encode
from indgang_contracts.events import (
    CaseRouted,
    CaseStatusChanged,
    GuideEntriesShared,
    InquiryReceived,
)
from indgang_contracts.examples import CASE_ROUTED, INQUIRY_RECEIVED
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_runtime.messaging import EventConsumer, make_broker, subscriber_options
from indgang_runtime.settings import ServiceSettings
from indgang_runtime.wiring import declare_publishers, subscribe

SETTINGS = ServiceSettings(service_name="t", mongodb_database="t", http_port=1)
SINGLE = topic_for(InquiryReceived)
BATCH = topic_for(CaseRouted)


@dataclass
class Handled:
    single: list[str] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)
    transient_failures: int = 0
    dead: list[KafkaMessage] = field(default_factory=list)


def build(handled: Handled, wiring: str = "subscribe") -> KafkaBroker:
    broker = make_broker(SETTINGS)
    consumer = EventConsumer(broker, SETTINGS)
    router = KafkaRouter()

    async def one(envelope: Envelope[InquiryReceived]) -> None:
        if handled.transient_failures:
            handled.transient_failures -= 1
            raise AutoReconnect("store restarting")
        if envelope.data.reference in handled.fail_on:
            raise ValueError("cannot handle this one")
        handled.single.append(envelope.data.reference)

    async def many(envelopes: Sequence[Envelope[CaseRouted]]) -> None:
        if any(e.data.reference in handled.fail_on for e in envelopes):
            raise ValueError("cannot handle this one")
        handled.batches.append([e.data.reference for e in envelopes])

    if wiring == "subscribe":
        subscribe(router, SETTINGS, consumer, InquiryReceived, one, description="One by one.")
        subscribe(router, SETTINGS, consumer, CaseRouted, many, description="Batch.", batch=True)
        declare_publishers(router, SETTINGS, [CaseStatusChanged])
        subscribe(router, SETTINGS, consumer, GuideEntriesShared, one, description="Unused.")
    else:

        @router.subscriber(SINGLE, **subscriber_options(SETTINGS, SINGLE))
        async def on_inquiry_received(message: KafkaMessage) -> None:
            await consumer.handle(message, InquiryReceived, one)

        @router.subscriber(BATCH, **subscriber_options(SETTINGS, BATCH, batch=True))
        async def on_case_routed(message: KafkaMessage) -> None:
            await consumer.handle_batch(message, CaseRouted, many)

    @router.subscriber(DEAD_LETTER_TOPIC)
    async def capture(message: KafkaMessage) -> None:
        handled.dead.append(message)

    broker.include_router(router)
    return broker


@pytest.fixture(params=["subscribe", "by hand"])
async def kafka(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Handled]]:
    handled = Handled()
    async with TestKafkaBroker(build(handled, request.param)) as broker:
        yield broker, handled


async def send(broker: Any, event: Any) -> None:
    record = encode(event, source="/test")
    await broker.publish(
        record.value, record.topic, key=record.key.encode(), headers=record.headers
    )


def inquiry(reference: str) -> InquiryReceived:
    return INQUIRY_RECEIVED.model_copy(update={"reference": reference})


def routed(reference: str) -> CaseRouted:
    return CASE_ROUTED.model_copy(update={"reference": reference})


def reason(message: KafkaMessage) -> str:
    return dict(message.headers)["dlt_reason"]


async def test_a_valid_event_is_handled(kafka: tuple[Any, Handled]) -> None:
    broker, handled = kafka
    await send(broker, inquiry("H-1"))
    assert handled.single == ["H-1"]
    assert handled.dead == []


async def test_bytes_that_are_no_event_are_dead_lettered_with_the_reason(
    kafka: tuple[Any, Handled],
) -> None:
    broker, handled = kafka
    await broker.publish(b"\x00not json", SINGLE, key=b"k", headers={"ce_type": "nonsense"})
    await send(broker, inquiry("H-2"))
    assert handled.single == ["H-2"]  # the consumer went on
    [dead] = handled.dead
    assert reason(dead)
    assert dict(dead.headers)["dlt_original_topic"] == SINGLE
    assert dead.body == b"\x00not json"  # the original bytes, for inspection and replay


async def test_an_event_of_another_type_is_dead_lettered(kafka: tuple[Any, Handled]) -> None:
    broker, handled = kafka
    record = encode(routed("H-3"), source="/test")
    await broker.publish(record.value, SINGLE, key=b"k", headers=record.headers)
    [dead] = handled.dead
    assert "unexpected event type" in reason(dead)


async def test_a_handler_that_fails_dead_letters_the_event_with_why(
    kafka: tuple[Any, Handled],
) -> None:
    broker, handled = kafka
    handled.fail_on = {"H-4"}
    await send(broker, inquiry("H-4"))
    await send(broker, inquiry("H-5"))
    assert handled.single == ["H-5"]
    [dead] = handled.dead
    assert "ValueError: cannot handle this one" in reason(dead)


async def test_a_transient_fault_is_retried_not_dead_lettered(kafka: tuple[Any, Handled]) -> None:
    broker, handled = kafka
    handled.transient_failures = 2
    await send(broker, inquiry("H-6"))
    assert handled.single == ["H-6"]
    assert handled.dead == []


async def test_a_batch_is_handled_together_and_poison_in_it_is_dead_lettered(
    kafka: tuple[Any, Handled],
) -> None:
    broker, handled = kafka
    good = [encode(routed(f"H-{n}"), source="/test") for n in (10, 11)]
    await broker.publish_batch(
        *(r.value for r in good), b"junk", topic=BATCH, headers=good[0].headers
    )
    # TestKafkaBroker hands the batch over with one set of headers: two valid
    # events and one that is no CloudEvent body.
    assert handled.batches == [["H-10", "H-11"]]
    assert len(handled.dead) == 1


async def test_a_failing_event_in_a_batch_is_narrowed_down(kafka: tuple[Any, Handled]) -> None:
    broker, handled = kafka
    handled.fail_on = {"H-21"}
    records = [encode(routed(f"H-{n}"), source="/test") for n in (20, 21, 22)]
    for r in records:
        await broker.publish(r.value, BATCH, key=r.key.encode(), headers=r.headers)
    assert [r for batch in handled.batches for r in batch] == ["H-20", "H-22"]
    [dead] = handled.dead
    assert "cannot handle this one" in reason(dead)


async def test_a_batch_of_nothing_but_poison_is_dead_lettered_and_the_consumer_goes_on(
    kafka: tuple[Any, Handled],
) -> None:
    broker, handled = kafka
    await broker.publish_batch(b"junk", b"more junk", topic=BATCH, headers={"ce_type": "x"})
    await send(broker, routed("H-30"))
    assert handled.batches == [["H-30"]]
    assert len(handled.dead) == 2


def test_subscribe_and_declare_publishers_document_every_channel_with_its_event() -> None:
    document = json.loads(
        AsyncAPI(build(Handled()), schema_version="3.0.0").to_specification().to_json()
    )
    payloads = {
        document["channels"][name]["address"]: message["payload"]["$ref"].rsplit("/", 1)[-1]
        for name, channel in document["channels"].items()
        for ref in channel["messages"].values()
        for message in [document["components"]["messages"][ref["$ref"].rsplit("/", 1)[-1]]]
    }
    del payloads[DEAD_LETTER_TOPIC]  # the test's own capture
    assert payloads == {
        SINGLE: "InquiryReceived",
        BATCH: "CaseRouted",  # one event per record, though it is consumed in batches
        topic_for(CaseStatusChanged): "CaseStatusChanged",
        topic_for(GuideEntriesShared): "GuideEntriesShared",
    }
    # A field named like the handler's context parameter stays in the document.
    schema = document["components"]["schemas"]["GuideEntriesShared"]
    assert "message" in schema["properties"]
    operations = {o["action"] for o in document["operations"].values()}
    assert operations == {"receive", "send"}
    assert "t/on_case_routed" in document["operations"]


def test_subscribe_uses_a_group_per_topic_the_explicit_ack_policy_and_batches() -> None:
    subscribers = {s.topics[0].name: s for s in build(Handled()).subscribers}
    for topic in (SINGLE, BATCH):
        assert subscribers[topic].group_id == f"{SETTINGS.group_id}.{topic}"
        assert subscribers[topic].ack_policy is AckPolicy.NACK_ON_ERROR
    assert subscribers[BATCH].max_records == SETTINGS.consumer_batch_size
    assert not hasattr(subscribers[SINGLE], "max_records")


class Polls:
    """An aiokafka consumer's `getmany`, recording how it was called."""

    def __init__(self, *answers: dict[Any, list[Any]]) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    async def getmany(self, **options: Any) -> dict[Any, list[Any]]:
        self.calls.append(options)
        return self.answers.pop(0)


async def test_a_batch_subscriber_polls_again_at_once_after_an_empty_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FastStream sleeps as long as the poll waited after an empty one; a record that
    # arrived meanwhile would wait for that sleep.
    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s between polls")

    monkeypatch.setattr("faststream.kafka.subscriber.usecase.anyio.sleep", no_sleep)
    subscribers = {s.topics[0].name: s for s in build(Handled()).subscribers}
    polls = Polls({}, {"p0": ["a", "b"], "p1": ["c"]})
    batch = subscribers[BATCH]
    assert await batch.get_msg(polls) == ()  # type: ignore[arg-type]
    assert await batch.get_msg(polls) == ("a", "b", "c")  # type: ignore[arg-type]
    wait = {
        "timeout_ms": SETTINGS.kafka_batch_poll_wait_ms,
        "max_records": SETTINGS.consumer_batch_size,
    }
    assert polls.calls == [wait, wait]
