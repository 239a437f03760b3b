"""Traces (OpenTelemetry) and the delivery metrics every service shares.

One trace follows an inquiry from the HTTP request that brought it, through every
Kafka record it causes, to the mails and webhooks it ends in:

- HTTP: FastAPI's instrumentation makes the request's span (`instrument_app`), with
  neither query strings nor client addresses (personal data) on it. A request one
  service sends another (routing reading the guide) is a client span whose trace
  context goes in the request's headers (`traced_http`), so the server's span is its
  child.
- Outbox: an event stored with a state change keeps the trace context of the work
  that caused it (`outbox_fields`, in the outbox entry); the relay publishes it later
  under that context (`relaying`), so FastStream's telemetry middleware puts a
  `traceparent` header on the record that continues the original trace, however
  long the event waited in the outbox.
- Consumers: every event a subscriber handles gets a span of its own, the child of
  the `traceparent` on its record (`consuming`) — also in a batch, where FastStream's
  own span is the batch's (it links the records). Events written while a batch is
  handled take the trace of the consumed event they share an id with (inquiry,
  case, referral, ...), so one inquiry's events stay in one trace in a batch too.
- Deliveries: a delivery's span (`delivering`) continues the trace of the event that
  caused it; the SMTP or webhook call is a client span within it (`delivery_attempt`).

Export (`configure_tracing`): OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, JSON
lines in TRACES_DIR (`make up`: var/traces, read by tools/trace.py) when that is set;
with neither, nothing is recorded (`UntilExported`): spans still get ids, so log lines
carry trace ids and records and requests carry a `traceparent`, but no attributes are
kept for spans that would go nowhere. OTEL_TRACES_SAMPLER, when set, decides instead.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from prometheus_client import Counter, Gauge, Histogram

from indgang_contracts.envelope import Envelope, Record

TRACER_NAME = "indgang"
PROPAGATOR = TraceContextTextMapPropagator()

# Ids in event data that tie an event written while a batch is handled to the
# consumed event it came from (`ce_id` and, in outcome events, `event_id`, too).
_TIE_FIELDS = ("inquiry_id", "case_id", "referral_id", "message_id", "delivery_id", "reference")

DELIVERY_ATTEMPTS = Counter(
    "indgang_delivery_attempts_total",
    "Attempts to deliver a notification, by channel and outcome (sent or failed)",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "indgang_delivery_attempt_seconds",
    "How long one SMTP or webhook delivery attempt took",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DELIVERIES_RETRYING = Counter(
    "indgang_deliveries_retrying_total",
    "Failed delivery attempts that will be retried after a backoff",
    ["channel"],
)
DELIVERIES_GIVEN_UP = Counter(
    "indgang_deliveries_given_up_total",
    "Deliveries given up (after the last attempt or a permanent refusal)",
    ["channel"],
)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


# --- Export ------------------------------------------------------------------------


class JsonLinesExporter(SpanExporter):
    """Spans as JSON lines (OpenTelemetry's own JSON form of a span), one file per
    process: `<folder>/<service>-<pid>.jsonl`."""

    def __init__(self, folder: Path, service: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{service}-{os.getpid()}.jsonl"
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_as_json(span), default=_text) + "\n" for span in spans)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(lines)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_as_json(span: ReadableSpan) -> dict[str, Any]:
    """A span in the form of `ReadableSpan.to_json` (which fails on bytes attributes,
    such as FastStream's record keys)."""
    context = span.get_span_context()
    return {
        "name": span.name,
        "context": {
            "trace_id": f"0x{context.trace_id:032x}" if context else None,
            "span_id": f"0x{context.span_id:016x}" if context else None,
        },
        "kind": str(span.kind),
        "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
        "start_time": _iso(span.start_time),
        "end_time": _iso(span.end_time),
        "status": {"status_code": span.status.status_code.name},
        "attributes": dict(span.attributes or {}),
        "links": [
            {
                "trace_id": f"0x{link.context.trace_id:032x}",
                "span_id": f"0x{link.context.span_id:016x}",
            }
            for link in span.links
        ],
        "resource": {"attributes": dict(span.resource.attributes)},
    }


def _iso(nanoseconds: int | None) -> str | None:
    if nanoseconds is None:
        return None
    moment = datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# Kafka keys can be personal data (an inquiry without a CVR number is keyed by its
# e-mail address); FastStream puts the key on its spans.
_PERSONAL_SPAN_ATTRIBUTES = ("messaging.kafka.message.key",)


class WithoutPersonalData(SpanProcessor):
    """Blanks attributes that may hold personal data as a span starts (before any
    exporter sees it)."""

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        attributes = span.attributes or {}
        for name in _PERSONAL_SPAN_ATTRIBUTES:
            if name in attributes:
                span.set_attribute(name, "")


class UntilExported(Sampler):
    """Records nothing until a span processor that sends spans somewhere is added (an
    exporter; in tests, a memory), then what the SDK does by default: ParentBased(ALWAYS_ON).

    Not recording, a span still gets ids (log lines carry its trace id) and its context
    is still propagated (`traceparent` on records and requests), with its parent's
    sampled flag: ParentBased(ALWAYS_OFF), not ALWAYS_OFF, so a trace that an exporting
    service sampled stays sampled through this one, and services after it export theirs.
    """

    def __init__(self) -> None:
        self.delegate: Sampler = ParentBased(ALWAYS_OFF)

    def exporting(self) -> None:
        self.delegate = ParentBased(ALWAYS_ON)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"UntilExported{{{self.delegate.get_description()}}}"


class _Provider(TracerProvider):
    """The SDK's provider, telling `UntilExported` when spans start to leave the process."""

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        if isinstance(self.sampler, UntilExported) and not isinstance(
            span_processor, WithoutPersonalData
        ):
            self.sampler.exporting()


_configured: TracerProvider | None = None


def configure_tracing(
    service: str,
    *,
    otlp_endpoint: str = "",
    traces_dir: str = "",
    sampler: str = "",
    exporters: Sequence[SpanExporter] = (),
) -> TracerProvider:
    """The process's tracer provider (set once; later calls return it).

    Always an SDK provider, so trace ids exist and travel in record headers and log
    lines; spans leave the process only through the exporters configured here, and are
    recorded only when there is one (`UntilExported`). `sampler`: OTEL_TRACES_SAMPLER
    as the settings read it; set, the SDK's sampler of that name (with
    OTEL_TRACES_SAMPLER_ARG) decides instead, exporters or not."""
    global _configured
    if _configured is not None:
        return _configured
    provider = _Provider(
        resource=Resource.create(
            {"service.name": f"indgang-{service}", "service.namespace": "indgang"}
        ),
        # None: the SDK builds the sampler OTEL_TRACES_SAMPLER names.
        sampler=None if sampler else UntilExported(),
    )
    provider.add_span_processor(WithoutPersonalData())
    chosen: list[SpanExporter] = list(exporters)
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        chosen.append(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
    if traces_dir:
        chosen.append(JsonLinesExporter(Path(traces_dir), service))
    for exporter in chosen:
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def flush_traces() -> None:
    """Export what is buffered (at shutdown, and in tests)."""
    if _configured is not None:
        _configured.force_flush()


def instrument_app(app: Any) -> None:
    """HTTP server spans for a FastAPI app, without the health checks, metrics, static
    files, query strings or client addresses."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="/health/live,/health/ready,/metrics,/static/",
        server_request_hook=_without_personal_data,
        exclude_spans=["receive", "send"],
    )


def traced_http(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client, sending every request in a client span of its own (httpx's
    instrumentation) with the trace context in its headers (W3C `traceparent`): the
    receiving service's server span is its child. Without the query string."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, request_hook=_request_without_query)
    return client


async def _request_without_query(span: Span, request: Any) -> None:
    # As for the server spans: a query string may hold a name. (Async: httpx's
    # instrumentation calls only an async hook for an AsyncClient.)
    if not span.is_recording():
        return
    url = httpx.URL(request.url)
    if url.query or url.fragment:
        bare = str(url.copy_with(query=None, fragment=None))
        span.set_attribute("http.url", bare)
        span.set_attribute("url.full", bare)


_PERSONAL_ATTRIBUTES = (
    "net.peer.ip",
    "net.peer.port",
    "client.address",
    "client.port",
    "http.client_ip",
    "http.user_agent",
    "user_agent.original",
)


def _without_personal_data(span: Span, scope: Mapping[str, Any]) -> None:
    # A search's query string may hold a name; a client address is personal data.
    if not span.is_recording():
        return
    path = str(scope.get("path", ""))
    span.set_attribute("http.target", path)
    span.set_attribute("url.path", path)
    span.set_attribute("url.query", "")
    span.set_attribute("http.url", path)
    for name in _PERSONAL_ATTRIBUTES:
        span.set_attribute(name, "")


# --- Consumers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """A consumed event while it is handled: the ids that tie what it causes to it, its
    span's context, and when its story began (for the end-to-end latency)."""

    ties: frozenset[str]
    context: Context
    origin_at: datetime | None


_causes: Any = otel_context.create_key("indgang-causes")
# The trace of recently handled events, by CloudEvent id: a delivery sent a moment
# later by a worker of the same process continues it.
_RECENT: OrderedDict[str, Context] = OrderedDict()
_RECENT_MAX = 20_000


def _ties(event_id: str | None, data: Mapping[str, Any]) -> set[str]:
    ties = {f"id:{event_id}"} if event_id else set()
    if data.get("event_id"):
        ties.add(f"id:{data['event_id']}")
    ties.update(f"{name}:{data[name]}" for name in _TIE_FIELDS if data.get(name))
    return ties


def _headers(raw: Any) -> dict[str, str]:
    return {
        name: value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        for name, value in (raw.headers or [])
    }


@contextmanager
def consuming(records: Sequence[tuple[Any, Envelope[Any]]]) -> Iterator[None]:
    """A span for each consumed event (`records`: Kafka record and its envelope), the
    child of the trace context in its headers, around the handling of them all."""
    if not records:
        yield
        return
    batch = trace.get_current_span().get_span_context()
    links = [Link(batch)] if batch.is_valid else None
    spans: list[Span] = []
    causes: list[Cause] = []
    for raw, envelope in records:
        parent = PROPAGATOR.extract(_headers(raw))
        data = envelope.data.model_dump(mode="json", include=set(_TIE_FIELDS) | {"event_id"})
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.destination.name": str(raw.topic),
            "messaging.message.id": envelope.id,
            "messaging.kafka.destination.partition": int(raw.partition),
            "messaging.kafka.message.offset": int(raw.offset),
            "indgang.event_type": envelope.type,
            **{f"indgang.{name}": str(value) for name, value in data.items() if value},
        }
        span = tracer().start_span(
            f"{envelope.data.EVENT_NAME} handle",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
        )
        span_context = trace.set_span_in_context(span, parent)
        received = getattr(envelope.data, "received_at", None)
        origin = received if isinstance(received, datetime) else envelope.time
        causes.append(Cause(frozenset(_ties(envelope.id, data)), span_context, origin))
        _remember(envelope.id, span_context)
        spans.append(span)
    # One event: its span is the current one (logs carry its trace id). Several: the
    # batch's stays current, and each write finds its own event's (`outbox_fields`).
    current = causes[0].context if len(causes) == 1 else otel_context.get_current()
    token = otel_context.attach(otel_context.set_value(_causes, tuple(causes), current))
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        otel_context.detach(token)
        for span in spans:
            span.end()


def _remember(event_id: str, span_context: Context) -> None:
    # Only the ids (not the span with its attributes): a few hundred bytes an event.
    ids = trace.get_current_span(span_context).get_span_context()
    _RECENT[event_id] = trace.set_span_in_context(trace.NonRecordingSpan(ids))
    _RECENT.move_to_end(event_id)
    while len(_RECENT) > _RECENT_MAX:
        _RECENT.popitem(last=False)


def _cause_of(record: Record) -> Cause | None:
    causes: tuple[Cause, ...] = otel_context.get_value(_causes) or ()  # type: ignore[assignment]
    if len(causes) <= 1:
        return causes[0] if causes else None
    try:
        data = json.loads(record.value)
    except ValueError:
        return None
    ties = _ties(None, data if isinstance(data, dict) else {})
    return next((cause for cause in causes if cause.ties & ties), None)


@contextmanager
def continuing(headers: Mapping[str, str]) -> Iterator[None]:
    """Work on a record outside its handling (dead-lettering it) in the record's trace."""
    token = otel_context.attach(PROPAGATOR.extract(dict(headers)))
    try:
        yield
    finally:
        otel_context.detach(token)


# --- Outbox -------------------------------------------------------------------------


def outbox_fields(record: Record) -> dict[str, Any]:
    """What an outbox entry keeps of the work that wrote it: the trace context
    (`trace`, W3C headers) and, when a consumed event caused it, when that event's story
    began (`origin_at`: an inquiry's `received_at`, else the event's time)."""
    cause = _cause_of(record)
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, context=cause.context if cause else None)
    fields: dict[str, Any] = {}
    if carrier:
        fields["trace"] = carrier
    if cause is not None and cause.origin_at is not None:
        fields["origin_at"] = cause.origin_at
    return fields


@contextmanager
def relaying(stored: Mapping[str, Any]) -> Iterator[None]:
    """Publishing one stored outbox event: a span in the trace that wrote it, current
    while the record is handed to the producer (which puts it in the headers)."""
    carrier = stored.get("trace")
    parent = PROPAGATOR.extract(dict(carrier)) if carrier else Context()
    headers = stored.get("headers") or {}
    with tracer().start_as_current_span(
        f"{stored.get('topic', '')} outbox relay",
        context=parent,
        kind=SpanKind.INTERNAL,
        attributes={
            "messaging.message.id": str(stored.get("id", "")),
            "indgang.event_type": str(headers.get("ce_type", "")),
            "indgang.subject": str(headers.get("ce_subject", "")),
        },
    ):
        yield


# --- Deliveries ---------------------------------------------------------------------


@contextmanager
def delivering(channel: str, event_id: str | None, delivery_id: str = "") -> Iterator[None]:
    """One attempt at a delivery, in the trace of the event that caused it (when this
    process handled it lately). What a sent mail's outcome then publishes and stores is
    done in the background after the span has ended, as its children (the sender starts
    that work inside the span)."""
    parent = _RECENT.get(event_id or "")
    with tracer().start_as_current_span(
        f"deliver {channel}",
        context=parent,
        attributes={
            "indgang.channel": channel,
            "indgang.event_id": event_id or "",
            "indgang.delivery_id": delivery_id,
        },
    ):
        yield


@contextmanager
def delivery_attempt(channel: str) -> Iterator[None]:
    """The SMTP or webhook call itself: a client span, counted as sent or failed."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        with tracer().start_as_current_span(
            "smtp send" if channel == "email" else "webhook post",
            kind=SpanKind.CLIENT,
            attributes={"indgang.channel": channel},
        ):
            yield
        outcome = "sent"
    finally:
        DELIVERY_SECONDS.labels(channel).observe(time.perf_counter() - started)
        DELIVERY_ATTEMPTS.labels(channel, outcome).inc()


def delivery_retrying(channel: str) -> None:
    DELIVERIES_RETRYING.labels(channel).inc()


def delivery_given_up(channel: str) -> None:
    DELIVERIES_GIVEN_UP.labels(channel).inc()


# --- Consumer lag -------------------------------------------------------------------

CONSUMER_LAG = Gauge(
    "indgang_consumer_lag_records",
    "Records on a partition not yet consumed by this instance's group "
    "(the partition's high watermark minus the consumer's position)",
    ["service", "topic", "partition"],
)


async def observe_consumer_lag(broker: Any, service: str) -> None:
    """Set `indgang_consumer_lag_records` for every partition this instance consumes:
    from what each consumer knows already (no request to the broker per partition).
    Partitions that moved to another instance are dropped, so the sum over instances
    stays the group's lag."""
    measured: set[tuple[str, str, str]] = set()
    for subscriber in getattr(broker, "subscribers", ()):
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            continue
        for partition in consumer.assignment():
            highwater = consumer.highwater(partition)
            if highwater is None:
                continue
            try:
                position = await consumer.position(partition)
            except Exception:  # the assignment changed meanwhile (a rebalance)
                continue
            labels = (service, partition.topic, str(partition.partition))
            CONSUMER_LAG.labels(*labels).set(max(highwater - position, 0))
            measured.add(labels)
    for gone in _lag_measured - measured:
        CONSUMER_LAG.remove(*gone)
    _lag_measured.clear()
    _lag_measured.update(measured)


_lag_measured: set[tuple[str, str, str]] = set()
