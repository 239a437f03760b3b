"""Kafka through FastStream with delivery settings that are explicit, never defaults.

Producers: acks=all and idempotence on. Consumers: commit only after the work
is stored (`AckPolicy.NACK_ON_ERROR`: an exception rewinds to the record so it
is redelivered; success commits). Records that are not valid events go to the
dead-letter topic with the reason and are then committed, so one poison record
never blocks a partition. Transient faults (store down) are retried with backoff.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, NamedTuple, TypeVar, cast

import structlog
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from prometheus_client import REGISTRY, Counter
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from indgang_contracts.envelope import Envelope, InvalidEvent, Record, decode
from indgang_contracts.events import Event
from indgang_contracts.topics import DEAD_LETTER_TOPIC
from indgang_runtime.kafka_security import broker_security
from indgang_runtime.outbox import OutboxCollection, OutboxRelay, default_instance
from indgang_runtime.settings import ServiceSettings
from indgang_runtime.telemetry import consuming, continuing

log = structlog.get_logger(__name__)
T = TypeVar("T")
E = TypeVar("E", bound=Event)

DEAD_LETTERED = Counter(
    "indgang_dead_lettered_total", "Records sent to the dead-letter topic", ["service", "topic"]
)


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    return KafkaBroker(
        # A list: FastStream takes a string as one address, "a:9092,b:9094" included.
        [
            server.strip()
            for server in settings.kafka_bootstrap_servers.split(",")
            if server.strip()
        ],
        client_id=f"indgang-{settings.service_name}",
        # SASL_SSL with the service's own principal in production (KAFKA_SECURITY_PROTOCOL).
        security=broker_security(settings),
        acks="all",
        enable_idempotence=True,
        # Our handlers take the raw record; FastStream must not try to decode it
        # (a JSON error there would loop the record forever).
        decoder=raw_body,
        middlewares=(
            KafkaTelemetryMiddleware(),
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
        ),
        logger=None,
        graceful_timeout=15.0,
    )


async def raw_body(message: StreamMessage[Any]) -> bytes:
    return message.body


class Decoded(NamedTuple, Generic[E]):
    """One valid event and the Kafka record it came in (for dead-lettering it)."""

    raw: Any
    envelope: Envelope[E]


def _bind(envelope: Envelope[Any]) -> None:
    structlog.contextvars.bind_contextvars(event_id=envelope.id, event_type=envelope.type)


def consumer_group(settings: ServiceSettings, topic: str) -> str:
    """The consumer group that reads `topic` (the real, prefixed name) for this service:
    one group per subscription, `<service's group>.<contract topic>`.

    Not one group for the whole service: Kafka rebalances a group as a whole (aiokafka
    has no incremental rebalancing), so with one group every subscriber that joined or
    left stopped every other one, and a restarted notifications took 13 s — eight
    rebalances in a row — before all its topics moved again. With a group each, the
    subscribers join side by side and a rebalance stops only its own topic.
    """
    return f"{settings.group_id}.{topic.removeprefix(settings.kafka_topic_prefix)}"


def subscriber_options(
    settings: ServiceSettings, topic: str, *, batch: bool = False
) -> dict[str, Any]:
    """Options every subscriber uses: a group of its own (`consumer_group`), at-least-once.

    `batch`: the handler gets what one poll returns (up to `consumer_batch_size`
    records), so it can store them with bulk operations; the batch is committed
    after it is stored, and rewound as a whole on a transient failure.
    """
    options: dict[str, Any] = {
        "group_id": consumer_group(settings, topic),
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "max_poll_interval_ms": 300_000,
        # Idle, these timings are what a consumer costs, once per subscriber (settings.py
        # says what each trades). A killed instance's partitions move once its session
        # runs out; a member learns of a rebalance at its next heartbeat (aiokafka's 3 s /
        # 10 s took a restarted service half a minute in make prove).
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        # The broker answers a waiting fetch at once when a record arrives.
        "fetch_max_wait_ms": settings.kafka_idle_fetch_wait_ms,
        # aiokafka's fetcher otherwise looks at its state five times a second, each
        # consumer, with nothing to do: idle, that cost more than its heartbeats.
        "consumer_timeout_ms": settings.kafka_fetcher_wakeup_ms,
    }
    if batch:
        options.update(
            batch=True,
            max_records=settings.consumer_batch_size,
            batch_timeout_ms=settings.kafka_batch_poll_wait_ms,
        )
    return options


async def publish_record(broker: KafkaBroker, prefix: str, record: Record) -> None:
    await broker.publish(
        record.value, f"{prefix}{record.topic}", key=record.key.encode(), headers=record.headers
    )


async def enqueue_record(broker: KafkaBroker, prefix: str, record: Record) -> Awaitable[Any]:
    """Queue the record in the producer; the result resolves on the broker's acknowledgement."""
    future: Awaitable[Any] = await broker.publish(
        record.value,
        f"{prefix}{record.topic}",
        key=record.key.encode(),
        headers=record.headers,
        no_confirm=True,
    )
    return future


def outbox_relay(
    settings: ServiceSettings,
    broker: KafkaBroker,
    collections: Sequence[OutboxCollection],
) -> OutboxRelay:
    """The service's outbox relay, publishing through its broker under its topic prefix."""
    return OutboxRelay(
        settings.service_name,
        collections,
        partial(enqueue_record, broker, settings.kafka_topic_prefix),
        instance=settings.instance_id or default_instance(settings.http_port),
        poll_seconds=settings.outbox_poll_seconds,
        takeover_seconds=settings.outbox_takeover_seconds,
        batch_size=settings.outbox_batch_size,
    )


class EventConsumer:
    """Turns raw Kafka records into `Envelope`s, dead-lettering what is not one, and runs
    the service's action on them: transient faults are retried, anything else is
    dead-lettered with the reason."""

    def __init__(self, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self._broker = broker
        self._service = settings.service_name
        self._settings = settings
        self._dead_letter_topic = settings.topic(DEAD_LETTER_TOPIC)

    async def receive(self, message: KafkaMessage, expected: type[E]) -> Envelope[E] | None:
        """The record as an `expected` event, or None after dead-lettering it."""
        envelope = await self._decode(message.raw_message, expected)
        if envelope is not None:
            _bind(envelope)
        return envelope

    async def decode_records(
        self, message: StreamMessage[Any], expected: type[E]
    ) -> list[Decoded[E]]:
        """Every record of the message (one, or what one poll returned) that is an
        `expected` event, with its raw record; the others are dead-lettered."""
        raw_message: Any = message.raw_message
        # A tuple from aiokafka, a list from TestKafkaBroker; one record if not a batch.
        raws: Sequence[Any] = (
            raw_message if isinstance(raw_message, (tuple, list)) else (raw_message,)
        )
        valid: list[Decoded[E]] = []
        for raw in raws:
            envelope = await self._decode(raw, expected)
            if envelope is not None:
                valid.append(Decoded(raw, envelope))
        return valid

    async def handle(
        self,
        message: KafkaMessage,
        expected: type[E],
        action: Callable[[Envelope[E]], Awaitable[object]],
    ) -> None:
        """Decode, then run `action` (see `process`)."""
        envelope = await self.receive(message, expected)
        if envelope is not None:
            await self.process(Decoded(message.raw_message, envelope), action)

    async def process(
        self, decoded: Decoded[E], action: Callable[[Envelope[E]], Awaitable[object]]
    ) -> None:
        """Run `action` on one event: transient faults are retried (and in the end the
        record is redelivered); anything else is poison and is dead-lettered with the
        reason, so one bad record never blocks its partition."""
        envelope = decoded.envelope
        _bind(envelope)
        try:
            with consuming([decoded]):  # a span in the trace the record carries
                await retry_transient(lambda: action(envelope))
        except TRANSIENT:
            raise
        except Exception as exc:
            log.exception("handler_failed", error=type(exc).__name__)
            await self._dead_letter_raw(decoded.raw, f"handler failed: {type(exc).__name__}: {exc}")

    async def handle_batch(
        self,
        message: KafkaMessage,
        expected: type[E],
        action: Callable[[Sequence[Envelope[E]]], Awaitable[object]],
    ) -> None:
        """What one poll returned: decode every record (dead-lettering what is not an
        `expected` event), then run `action` on the valid ones (see `process_batch`)."""
        await self.process_batch(await self.decode_records(message, expected), action)

    async def process_batch(
        self,
        decoded: Sequence[Decoded[E]],
        action: Callable[[Sequence[Envelope[E]]], Awaitable[object]],
    ) -> None:
        """Run `action` on the valid events of one poll, in order, at once.

        Transient faults are retried, and in the end the whole batch is redelivered
        (the handler is idempotent). A non-transient failure is narrowed down: each
        event is retried alone and only the one that fails again is dead-lettered.
        """
        if not decoded:
            return
        try:
            # A span per event, each in the trace its record carries.
            with consuming(decoded):
                await retry_transient(lambda: action([d.envelope for d in decoded]))
            return
        except TRANSIENT:
            raise
        except Exception as exc:
            log.warning("batch_failed_retrying_one_by_one", error=type(exc).__name__)
        for raw, envelope in decoded:
            _bind(envelope)
            try:
                with consuming([Decoded(raw, envelope)]):
                    await retry_transient(lambda e=envelope: action([e]))  # type: ignore[misc]
            except TRANSIENT:
                raise
            except Exception as exc:
                log.exception("handler_failed", error=type(exc).__name__)
                await self._dead_letter_raw(raw, f"handler failed: {type(exc).__name__}: {exc}")

    async def _decode(self, raw: Any, expected: type[E]) -> Envelope[E] | None:
        try:
            envelope = decode(list(raw.headers or []), raw.value, raw.key)
            if not isinstance(envelope.data, expected):
                raise InvalidEvent(f"unexpected event type {envelope.type!r} on {raw.topic}")
        except InvalidEvent as exc:
            await self._dead_letter_raw(raw, exc.reason)
            return None
        return cast("Envelope[E]", envelope)

    async def dead_letter(self, message: KafkaMessage, reason: str) -> None:
        await self._dead_letter_raw(message.raw_message, reason)

    async def _dead_letter_raw(self, raw: Any, reason: str) -> None:
        headers = {name: value.decode(errors="replace") for name, value in (raw.headers or [])}
        headers.update(
            {
                "dlt_reason": reason[:2000],
                "dlt_original_topic": raw.topic,
                "dlt_original_partition": str(raw.partition),
                "dlt_original_offset": str(raw.offset),
                "dlt_consumer_group": consumer_group(self._settings, raw.topic),
                "dlt_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        with continuing(headers):  # the dead letter stays in the record's trace
            await retry_transient(
                lambda: self._broker.publish(
                    raw.value or b"", self._dead_letter_topic, key=raw.key, headers=headers
                )
            )
        DEAD_LETTERED.labels(self._service, raw.topic).inc()
        log.warning(
            "dead_lettered",
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            reason=reason[:300],
        )


# Outages and races worth retrying. A duplicate key means a concurrent writer
# (another instance) got there first: on retry the handler finds its work done.
# Other store errors (OperationFailure) are refusals, not outages: poison.
TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    DuplicateKeyError,
    KafkaError,
    OSError,
    TimeoutError,
)


async def retry_transient(
    action: Callable[[], Awaitable[T]], *, attempts: int = 8, first_delay: float = 0.2
) -> T:
    """Retry `action` on transient faults with exponential backoff and jitter.

    After the last attempt the error propagates: the subscriber then rewinds and
    the record is redelivered, so nothing is lost while the store is down.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await action()
        except TRANSIENT as exc:
            if attempt == attempts:
                raise
            log.warning("transient_failure", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 10.0)
    raise AssertionError("unreachable")
