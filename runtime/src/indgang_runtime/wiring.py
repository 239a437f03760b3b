"""How every service wires Kafka: one call per subscription, one per publication.

`subscribe` gives a handler the project's decoding, acking, batching and
dead-lettering; `declare_publishers` documents what a service publishes (its
outbox relay does the publishing). Both feed the AsyncAPI document, which names
each channel's event model without any patching afterwards.

How a record reaches the action: the subscriber's decoder turns the record (or
what one poll returned) into CloudEvents envelopes, dead-letters what is not an
event of the subscribed type with the reason, and hands FastStream the event
data (the first event, for a batch: the handler takes the whole poll from the
message). The handler's parameter is typed with the event model, so FastStream
documents it — but FastStream never parses the body itself: a body it could not
parse would raise before our code runs, and under the explicit ack policy
(NACK_ON_ERROR) that record would be redelivered forever instead of being
dead-lettered; in a batch, one such record would hold up the whole poll.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import chain
from typing import Annotated, Any, Literal, TypeVar, overload

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream import Context
from faststream.exceptions import AckMessage
from faststream.kafka import KafkaRouter
from faststream.kafka.message import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import AckStatus, StreamMessage

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event
from indgang_contracts.topics import topic_for
from indgang_runtime.messaging import Decoded, EventConsumer, subscriber_options
from indgang_runtime.offset_commits import OffsetCommits
from indgang_runtime.settings import ServiceSettings

E = TypeVar("E", bound=Event)

# Where the decoder leaves the decoded records for the handler, on FastStream's message.
_DECODED = "indgang_decoded"


def handler_name(event: type[Event]) -> str:
    return "on_" + event.EVENT_NAME.replace("-", "_")


@overload
def subscribe(
    router: KafkaRouter,
    settings: ServiceSettings,
    consumer: EventConsumer,
    event: type[E],
    action: Callable[[Envelope[E]], Awaitable[object]],
    *,
    description: str,
    batch: Literal[False] = False,
) -> None: ...


@overload
def subscribe(
    router: KafkaRouter,
    settings: ServiceSettings,
    consumer: EventConsumer,
    event: type[E],
    action: Callable[[Sequence[Envelope[E]]], Awaitable[object]],
    *,
    description: str,
    batch: Literal[True],
) -> None: ...


def subscribe(
    router: KafkaRouter,
    settings: ServiceSettings,
    consumer: EventConsumer,
    event: type[E],
    action: Callable[[Any], Awaitable[object]],
    *,
    description: str,
    batch: bool = False,
) -> None:
    """Subscribe a consumer group of the service's own to `event`'s topic and run `action` on
    each valid event (`batch=False`) or on the valid events of one poll, together
    (`batch=True`; up to `consumer_batch_size`, committed after they are stored).

    Acking is explicit (`AckPolicy.NACK_ON_ERROR`): the offset is committed after
    `action` succeeded — with the subscriber's next commit, every
    `kafka_commit_interval_ms` (`offset_commits`); a transient fault is retried, then
    the records are redelivered; a record that is no `event`, or on which `action` fails, is
    dead-lettered with the reason and committed. `action` must be idempotent.
    """
    name = handler_name(event)

    topic = settings.topic(topic_for(event))
    interval = settings.kafka_commit_interval_ms / 1000
    commits = OffsetCommits(interval, f"{settings.service_name}/{name}") if interval else None

    def note_handled(message: Any) -> None:
        # Stored: committed with the subscriber's next commit, not by FastStream's ack
        # now (which would also commit past records noted later but handled earlier).
        kafka = getattr(message, "consumer", None)
        if commits is not None and isinstance(kafka, AIOKafkaConsumer):
            raw = message.raw_message
            commits.note(kafka, raw if isinstance(raw, (tuple, list)) else (raw,))
            message.committed = AckStatus.ACKED

    async def decoder(message: StreamMessage[Any]) -> Event:
        decoded = await consumer.decode_records(message, event)
        if not decoded:
            note_handled(message)
            raise AckMessage()  # all dead-lettered already: commit, nothing left to do
        setattr(message, _DECODED, decoded)
        return decoded[0].envelope.data

    async def handler(event: Any, indgang_record: KafkaMessage) -> None:
        decoded: list[Decoded[E]] = getattr(indgang_record, _DECODED)
        if batch:
            await consumer.process_batch(decoded, action)
        else:
            await consumer.process(decoded[0], action)
        note_handled(indgang_record)

    handler.__name__ = handler.__qualname__ = name
    # The body FastStream documents as the channel's payload, and checks (the decoder's
    # model passes as it is). One record's event even for a batch: FastStream would
    # document `list[...]` as an array, but on the wire every record is one event.
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=event),
            # Not named `message`: FastStream drops the names of context parameters from
            # the documented payload, and GuideEntriesShared has a field `message`.
            inspect.Parameter(
                "indgang_record",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[KafkaMessage, Context("message")],
            ),
        ],
        return_annotation=None,
    )
    options = subscriber_options(settings, topic, batch=batch)
    if commits is not None:
        options["listener"] = commits  # commits what is noted before partitions move
    subscriber = router.subscriber(
        topic,
        title=f"{settings.service_name}/{name}",
        description=description,
        decoder=decoder,
        **options,
    )
    poll_without_pause(subscriber)
    if commits is not None:
        commit_before_stopping(subscriber, commits)
    subscriber(handler)


def poll_without_pause(subscriber: object) -> None:
    """Make a batch subscriber's poll wait for records, and only that.

    FastStream's batch subscriber polls for `batch_timeout_ms` and, when the poll came
    back empty, sleeps as long again before the next one: a record that arrives during
    the sleep waits for it (up to 200 ms by default, at every batch hop, whenever the
    topic is quiet: measured 133 ms p90 at random arrivals, against 4 ms without the
    sleep). The poll itself returns as soon as records are there, so polling again at
    once costs nothing but one wake-up per `batch_timeout_ms` while idle.
    """
    if not isinstance(subscriber, BatchSubscriber):
        return

    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        polled = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        return tuple(chain.from_iterable(polled.values()))

    # FastStream calls `self.get_msg` in its consume loop; this subscriber's only.
    subscriber.get_msg = get_msg  # type: ignore[method-assign]


def commit_before_stopping(subscriber: Any, commits: OffsetCommits) -> None:
    """Commit what `commits` noted when the subscriber stops: after its last handler
    finished (FastStream waits for it) and before its consumer leaves the group."""
    stop_subscriber = subscriber.stop

    async def stop() -> None:
        kafka = subscriber.consumer
        if isinstance(kafka, AIOKafkaConsumer):
            stop_consumer = kafka.stop

            async def commit_then_stop() -> None:
                await commits.stop()
                await stop_consumer()

            kafka.stop = commit_then_stop
        await stop_subscriber()

    subscriber.stop = stop


def declare_publishers(
    router: KafkaRouter, settings: ServiceSettings, events: Iterable[type[Event]]
) -> None:
    """Document that the service publishes `events` (through its outbox relay, which
    does the publishing), one publisher per event type, titled `<service>/<event>`."""
    for event in events:
        router.publisher(
            topic_for(event), title=f"{settings.service_name}/{event.EVENT_NAME}", schema=event
        )
