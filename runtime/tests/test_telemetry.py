"""Traces and metrics of the runtime (telemetry.py, and its use in the outbox relay and
the consumers): a trace survives the outbox, each event of a batch keeps its own
trace, logs carry trace ids, no personal data reaches a span, and the outbox and
delivery metrics are observed. Across real services: tests/e2e/test_traces.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from indgang_contracts.envelope import Envelope, Record, decode, encode
from indgang_contracts.examples import CASE_ROUTED, INQUIRY_RECEIVED
from indgang_runtime import telemetry
from indgang_runtime.logging import add_trace_ids
from indgang_runtime.outbox import OutboxCollection, OutboxRelay, entry
from indgang_runtime.telemetry import (
    PROPAGATOR,
    JsonLinesExporter,
    consuming,
)

from fake_store import FakeDatabase

_MEMORY = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """What the process's tracer provider ends during the test (it is configured once per
    process, as in a service; nothing is exported otherwise)."""
    global _MEMORY_ADDED
    if not _MEMORY_ADDED:
        telemetry.configure_tracing("test").add_span_processor(SimpleSpanProcessor(_MEMORY))
        _MEMORY_ADDED = True
    _MEMORY.clear()
    yield _MEMORY
    _MEMORY.clear()


_MEMORY_ADDED = False


def tracer() -> trace.Tracer:
    return telemetry.tracer()


def trace_id(span: Any) -> int:
    return int(span.get_span_context().trace_id)


def named(memory: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in memory.get_finished_spans() if s.name == name]


class Raw(SimpleNamespace):
    """An aiokafka record's fields that the consumer reads."""


def consumed(event: Any, *, parent: dict[str, str], offset: int = 0) -> tuple[Raw, Envelope[Any]]:
    record = encode(event, source="/indgang/test")
    headers = [(k, v.encode()) for k, v in {**record.headers, **parent}.items()]
    raw = Raw(topic=record.topic, partition=0, offset=offset, key=b"k", headers=headers)
    return raw, decode(headers, record.value)


def carrier_of(span: Any) -> dict[str, str]:
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


async def test_an_event_is_published_in_the_trace_that_wrote_it(
    spans: InMemorySpanExporter,
) -> None:
    things = OutboxCollection(FakeDatabase()["things"])  # type: ignore[arg-type]
    seen: list[int] = []

    async def enqueue(record: Record) -> Any:
        # What the producer's telemetry middleware puts in the record's headers.
        seen.append(trace.get_current_span().get_span_context().trace_id)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    relay = OutboxRelay("test", [things], enqueue, instance="me")
    with tracer().start_as_current_span("POST /api/v1/inquiries") as request:
        await things.insert({"_id": "i-1"}, [encode(INQUIRY_RECEIVED, source="/test")])
    # Published later, outside the request: still the request's trace.
    assert trace.get_current_span().get_span_context().is_valid is False
    assert await relay.drain() == 1
    assert seen == [trace_id(request)]
    [relayed] = named(spans, "indgang.inquiry-received.v1 outbox relay")
    assert relayed.parent is not None
    assert relayed.parent.span_id == request.get_span_context().span_id


def test_an_entry_written_outside_any_trace_has_no_trace_context() -> None:
    assert "trace" not in entry(encode(INQUIRY_RECEIVED, source="/test"))


def test_each_event_of_a_batch_keeps_its_own_trace(spans: InMemorySpanExporter) -> None:
    with tracer().start_as_current_span("one") as one, tracer().start_as_current_span("two") as two:
        pass
    first = INQUIRY_RECEIVED.model_copy(update={"inquiry_id": "inq-A", "reference": "H-A"})
    second = INQUIRY_RECEIVED.model_copy(update={"inquiry_id": "inq-B", "reference": "H-B"})
    batch = [
        consumed(first, parent=carrier_of(one), offset=1),
        consumed(second, parent=carrier_of(two), offset=2),
    ]
    routed_b = CASE_ROUTED.model_copy(update={"inquiry_id": "inq-B", "case_id": "case-B"})
    with consuming(batch):
        written = entry(encode(routed_b, source="/indgang/routing"))
    # The case-routed written for inquiry B continues B's trace, not A's or the batch's.
    stored = PROPAGATOR.extract(written["trace"])
    assert trace.get_current_span(stored).get_span_context().trace_id == trace_id(two)
    assert written["origin_at"] == second.received_at
    handled = named(spans, "inquiry-received handle")
    assert {trace_id(s) for s in handled} == {trace_id(one), trace_id(two)}
    assert {s.attributes["indgang.reference"] for s in handled if s.attributes} == {"H-A", "H-B"}


def test_a_failing_handler_marks_its_events_spans(spans: InMemorySpanExporter) -> None:
    batch = [consumed(INQUIRY_RECEIVED, parent={})]
    with pytest.raises(RuntimeError), consuming(batch):
        raise RuntimeError("boom")
    [handled] = named(spans, "inquiry-received handle")
    assert handled.status.status_code.name == "ERROR"


def test_a_delivery_continues_the_trace_of_its_event(spans: InMemorySpanExporter) -> None:
    raw, envelope = consumed(CASE_ROUTED, parent={})
    with consuming([(raw, envelope)]):
        handled = trace.get_current_span()
    before = REGISTRY.get_sample_value(
        "indgang_delivery_attempts_total", {"channel": "email", "outcome": "sent"}
    )
    with telemetry.delivering("email", envelope.id, "d-1"), telemetry.delivery_attempt("email"):
        pass
    with (
        pytest.raises(ConnectionError),
        telemetry.delivering("webhook", envelope.id),
        telemetry.delivery_attempt("webhook"),
    ):
        raise ConnectionError("refused")
    [smtp] = named(spans, "smtp send")
    assert trace_id(smtp) == trace_id(handled)
    after = REGISTRY.get_sample_value(
        "indgang_delivery_attempts_total", {"channel": "email", "outcome": "sent"}
    )
    assert (after or 0) - (before or 0) == 1
    failed = REGISTRY.get_sample_value(
        "indgang_delivery_attempts_total", {"channel": "webhook", "outcome": "failed"}
    )
    assert failed is not None
    assert failed >= 1


def test_log_lines_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}
    with tracer().start_as_current_span("work") as span:
        line = add_trace_ids(None, "info", {"event": "x"})
    assert line["trace_id"] == f"{trace_id(span):032x}"
    assert line["span_id"] == f"{span.get_span_context().span_id:016x}"


def test_spans_carry_no_kafka_key_query_string_or_client_address(
    spans: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span(
        "publish", attributes={"messaging.kafka.message.key": "email:aase@example.dk"}
    ):
        pass
    app = FastAPI()

    @app.get("/search")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    telemetry.instrument_app(app)
    with TestClient(app) as client:
        assert client.get("/search", params={"q": "Åse Ødegård"}).status_code == 200
    text = json.dumps([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert "aase@example.dk" not in text
    assert "q=" not in text  # no query string at all
    assert "testclient" not in text  # the client address


async def test_relay_metrics_backlog_publish_delay_and_end_to_end_latency(
    spans: InMemorySpanExporter,
) -> None:
    things = OutboxCollection(FakeDatabase()["things"])  # type: ignore[arg-type]

    async def enqueue(record: Record) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    relay = OutboxRelay("metrics-test", [things], enqueue, instance="me")
    inquiry = INQUIRY_RECEIVED.model_copy(
        update={"received_at": datetime.now(UTC) - timedelta(seconds=3)}
    )
    with consuming([consumed(inquiry, parent={})]):
        await things.insert({"_id": "case-1"}, [encode(CASE_ROUTED, source="/indgang/routing")])
    assert await relay.drain() == 1
    labels = {"service": "metrics-test", "topic": "indgang.case-routed.v1"}
    assert REGISTRY.get_sample_value("indgang_event_latency_seconds_count", labels) == 1
    latency = REGISTRY.get_sample_value("indgang_event_latency_seconds_sum", labels)
    assert latency is not None
    assert 3 <= latency < 30
    delay = {"service": "metrics-test"}
    assert REGISTRY.get_sample_value("indgang_outbox_publish_delay_seconds_count", delay) == 1
    backlog = {"service": "metrics-test", "collection": "things"}
    assert REGISTRY.get_sample_value("indgang_outbox_backlog_events", backlog) == 0


def test_spans_as_json_lines_are_what_the_trace_tool_reads(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    with tracer().start_as_current_span(
        "x", attributes={"indgang.reference": "H-1", "raw": b"\xff"}
    ):
        pass
    exporter = JsonLinesExporter(tmp_path, "test")
    exporter.export(spans.get_finished_spans())
    [line] = exporter.path.read_text().splitlines()
    span = json.loads(line)
    assert span["attributes"]["indgang.reference"] == "H-1"
    assert span["context"]["trace_id"].startswith("0x")
    assert span["resource"]["attributes"]["service.name"].startswith("indgang-")


async def test_consumer_lag_per_partition_and_none_for_partitions_moved_away() -> None:
    from aiokafka import TopicPartition

    class Consumer:
        def __init__(self, assigned: dict[TopicPartition, tuple[int, int]]) -> None:
            self.assigned = assigned

        def assignment(self) -> set[TopicPartition]:
            return set(self.assigned)

        def highwater(self, partition: TopicPartition) -> int:
            return self.assigned[partition][0]

        async def position(self, partition: TopicPartition) -> int:
            return self.assigned[partition][1]

    one, two = TopicPartition("t.lag", 0), TopicPartition("t.lag", 1)
    consumer = Consumer({one: (10, 4), two: (5, 5)})
    broker = SimpleNamespace(subscribers=[SimpleNamespace(consumer=consumer)])
    await telemetry.observe_consumer_lag(broker, "lag-test")

    def lag(partition: int) -> float | None:
        return REGISTRY.get_sample_value(
            "indgang_consumer_lag_records",
            {"service": "lag-test", "topic": "t.lag", "partition": str(partition)},
        )

    assert (lag(0), lag(1)) == (6, 0)
    consumer.assigned = {two: (7, 5)}  # partition 0 went to another instance
    await telemetry.observe_consumer_lag(broker, "lag-test")
    assert (lag(0), lag(1)) == (None, 2)


def test_a_dead_letter_is_published_in_its_records_trace(spans: InMemorySpanExporter) -> None:
    with tracer().start_as_current_span("original publish") as original:
        pass
    with telemetry.continuing(carrier_of(original)):
        assert trace_id(trace.get_current_span()) == trace_id(original)
    assert trace.get_current_span().get_span_context().is_valid is False


# --- Recording only what is exported ---------------------------------------------------


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`configure_tracing` as in a fresh process, without replacing this process's
    provider (the other tests' memory stays the global one)."""
    monkeypatch.setattr(telemetry, "_configured", None)
    monkeypatch.setattr(telemetry.trace, "set_tracer_provider", lambda provider: None)
    return telemetry.configure_tracing


def sampled_parent() -> Any:
    """The context of a record whose producer recorded its trace (`-01`)."""
    return PROPAGATOR.extract({"traceparent": f"00-{'ab' * 16}-{'cd' * 8}-01"})


def sampled(carrier: dict[str, str]) -> bool:
    return bool(int(carrier["traceparent"].rsplit("-", 1)[1], 16) & 0x01)


def test_without_an_exporter_nothing_is_recorded_but_ids_and_the_traceparent_travel(
    configure: Any,
) -> None:
    quiet = configure("quiet").get_tracer("test")
    with quiet.start_as_current_span("POST /api/v1/inquiries") as request:
        ids = request.get_span_context()
        line = add_trace_ids(None, "info", {"event": "x"})
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
    assert not request.is_recording()
    assert ids.is_valid
    assert line["trace_id"] == f"{ids.trace_id:032x}"
    # Not sampled here: a service after this one records the trace only if it samples
    # its own roots (this one started the trace and nobody records it).
    assert carrier["traceparent"].startswith(f"00-{ids.trace_id:032x}-{ids.span_id:016x}-")
    assert not sampled(carrier)


def test_without_an_exporter_a_trace_sampled_upstream_stays_sampled(configure: Any) -> None:
    quiet = configure("quiet").get_tracer("test")
    handled = quiet.start_span("inquiry-received handle", context=sampled_parent())
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, context=trace.set_span_in_context(handled))
    handled.end()
    # Recorded in vain here, but sampled on: services after this one export their spans.
    assert handled.get_span_context().trace_id == int("ab" * 16, 16)
    assert sampled(carrier)


def test_with_an_exporter_every_span_is_recorded(configure: Any) -> None:
    memory = InMemorySpanExporter()
    provider = configure("exporting", exporters=[memory])
    with provider.get_tracer("test").start_as_current_span("POST /api/v1/inquiries") as request:
        assert request.is_recording()
    provider.force_flush()
    assert [s.name for s in memory.get_finished_spans()] == ["POST /api/v1/inquiries"]


def test_a_span_processor_added_later_turns_recording_on(configure: Any) -> None:
    provider = configure("quiet")
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("test").start_as_current_span("work") as work:
        assert work.is_recording()
    assert [s.name for s in memory.get_finished_spans()] == ["work"]


def test_an_operators_sampler_decides_over_ours(
    configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    memory = InMemorySpanExporter()
    provider = configure("exporting", sampler="always_off", exporters=[memory])
    with provider.get_tracer("test").start_as_current_span("work") as work:
        assert not work.is_recording()
    monkeypatch.setattr(telemetry, "_configured", None)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    quiet = configure("quiet", sampler="always_on").get_tracer("test")
    with quiet.start_as_current_span("work") as work:
        assert work.is_recording()  # no exporter, yet recorded: the operator asked for it
