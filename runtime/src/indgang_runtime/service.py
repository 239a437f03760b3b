"""The shape every service shares: one FastAPI app running HTTP and Kafka in one process.

The broker is started in the app's lifespan (not FastStream's deprecated FastAPI
plugin). If Kafka is down at start-up the HTTP side still comes up — requests
are stored and their events wait in the outbox — and the broker keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from indgang_runtime import mongo
from indgang_runtime.group_offsets import carry_over
from indgang_runtime.http_security import install_http_security
from indgang_runtime.kafka_security import client_options
from indgang_runtime.logging import configure_logging
from indgang_runtime.messaging import make_broker
from indgang_runtime.mongo import Document, ping
from indgang_runtime.openapi import document_api
from indgang_runtime.outbox import OutboxRelay
from indgang_runtime.problems import install_problems
from indgang_runtime.settings import ServiceSettings
from indgang_runtime.telemetry import (
    configure_tracing,
    flush_traces,
    instrument_app,
    observe_consumer_lag,
)
from indgang_runtime.topics import ensure_topics

log = structlog.get_logger(__name__)

Hook = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    """What a service's composition root hands to `build_app`."""

    settings: ServiceSettings
    broker: KafkaBroker
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    relay: OutboxRelay | None = None
    on_startup: list[Hook] = field(default_factory=list)
    background: list[Hook] = field(default_factory=list)
    broker_connected: bool = False
    broker_up: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def connect(cls, settings: ServiceSettings) -> Runtime:
        """The service's broker and store from its settings (both connect when used)."""
        client = mongo.connect(
            settings.mongodb_uri,
            w=settings.mongodb_write_concern,
            journal=settings.mongodb_journal,
            wtimeout_ms=settings.mongodb_wtimeout_ms,
            service=settings.service_name,
        )
        return cls(settings, make_broker(settings), client, client[settings.mongodb_database])

    def configure(
        self,
        *,
        relay: OutboxRelay | None = None,
        on_startup: Sequence[Hook] = (),
        background: Sequence[Hook] = (),
    ) -> None:
        """What runs beside HTTP and the consumers: the outbox relay, start-up hooks (in
        this order, before anything is served) and background jobs (cancelled at stop)."""
        if relay is not None:
            self.relay = relay
        self.on_startup = [*self.on_startup, *on_startup]
        self.background = [*self.background, *background]


async def _start_broker(runtime: Runtime) -> None:
    delay = 0.5
    while True:
        try:
            await ensure_topics(
                runtime.settings.kafka_bootstrap_servers,
                runtime.settings.kafka_topic_prefix,
                **client_options(runtime.settings),
            )
            await _carry_over_offsets(runtime)
            await runtime.broker.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker_start_failed", error=type(exc).__name__, retry_in=delay)
            with contextlib.suppress(Exception):
                await runtime.broker.stop()
            await asyncio.sleep(delay)
            # At most 2 s: consumers resume soon after the broker is back (make prove
            # measures how long a partition stalls), and one attempt per 2 s costs little.
            delay = min(delay * 2, 2.0)
        else:
            runtime.broker_connected = True
            runtime.broker_up.set()
            log.info("broker_started")
            return


async def _carry_over_offsets(runtime: Runtime) -> None:
    """Before the consumers join: new per-subscription groups start where the service's
    former single group stopped (`group_offsets`)."""
    groups: dict[str, str] = {}
    for subscriber in runtime.broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        for topic in getattr(subscriber, "topics", ()):
            if group:
                groups[topic.name] = group
    if groups:
        settings = runtime.settings
        await carry_over(
            settings.kafka_bootstrap_servers,
            settings.group_id,
            groups,
            **client_options(settings),
        )


# How long stopping waits for the background tasks to end after cancelling them.
_STOP_GRACE_SECONDS = 5.0


async def _relay_once_connected(runtime: Runtime, relay: OutboxRelay) -> None:
    # Publishing before the broker has started fails and puts the relay into its
    # backoff, which would hold back what was written during a restart.
    await runtime.broker_up.wait()
    await relay.run()


async def repeat(
    job: Callable[[], Awaitable[object]],
    seconds: float,
    name: str,
    *,
    prepare: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Run `job` now and then every `seconds`, for the service's lifetime.

    For periodic work (deadlines, purges, refreshes): a failing round (the store
    down) is logged and the job simply runs again next round.

    `prepare` is the job's one-time work on a store (filing what is already there,
    finding the day to start from). It may read a whole collection, so it runs here,
    in the background, not among the start-up hooks: the service answers, is ready
    and consumes meanwhile. It runs before the first round and, until it has
    succeeded once, again before every round; `job` only runs after it.
    """
    prepared = prepare is None
    while True:
        try:
            if not prepared:
                assert prepare is not None
                await prepare()
                prepared = True
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "periodic_job_failed", job=name, error=type(exc).__name__, detail=str(exc)[:200]
            )
        await asyncio.sleep(seconds)


async def _consumer_lag(runtime: Runtime) -> None:
    await runtime.broker_up.wait()
    await repeat(
        lambda: observe_consumer_lag(runtime.broker, runtime.settings.service_name),
        CONSUMER_LAG_SECONDS,
        "consumer-lag",
    )


# How often each instance measures its consumers' lag (indgang_consumer_lag_records).
CONSUMER_LAG_SECONDS = 15.0


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    public: dict[str, Any] = {"security": []}

    @router.get("/health/live", summary="The process is alive", openapi_extra=public)
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get(
        "/health/ready",
        summary="Ready: the store and the broker are reachable",
        openapi_extra=public,
    )
    async def ready() -> JSONResponse:
        store_ok = await ping(runtime.db)
        broker_ok = runtime.broker_connected and await runtime.broker.ping(timeout=2.0)
        body = {
            "status": "ready" if store_ok and broker_ok else "not ready",
            "store": "ok" if store_ok else "unreachable",
            "broker": "ok" if broker_ok else "unreachable",
        }
        return JSONResponse(body, status_code=200 if store_ok and broker_ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def build_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    **fastapi_options: Any,
) -> FastAPI:
    settings = runtime.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        for hook in runtime.on_startup:
            await hook()
        if runtime.relay is not None:
            await runtime.relay.ensure_indexes()
        tasks = [asyncio.create_task(_start_broker(runtime), name="broker-start")]
        if runtime.relay is not None:
            tasks.append(
                asyncio.create_task(
                    _relay_once_connected(runtime, runtime.relay), name="outbox-relay"
                )
            )
        tasks += [asyncio.create_task(job(), name=job.__name__) for job in runtime.background]
        tasks.append(asyncio.create_task(_consumer_lag(runtime), name="consumer-lag"))
        log.info("service_started", port=settings.http_port)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Bounded: a task stuck in a store call that ignores its cancellation must
            # not keep the service from stopping (closing the client below ends it).
            ended, stuck = await asyncio.wait(tasks, timeout=_STOP_GRACE_SECONDS)
            for task in ended:  # retrieved, so asyncio does not warn about them
                if not task.cancelled():
                    task.exception()
            if stuck:
                log.warning("tasks_not_stopped", tasks=sorted(t.get_name() for t in stuck))
            with contextlib.suppress(Exception):
                await runtime.broker.stop()
            await runtime.client.close()
            flush_traces()
            log.info("service_stopped")

    configure_tracing(
        settings.service_name,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        traces_dir=settings.traces_dir,
        sampler=settings.otel_traces_sampler,
    )
    app = FastAPI(title=title, description=description, lifespan=lifespan, **fastapi_options)
    instrument_app(app)  # the request's span starts the trace its events continue
    app.state.runtime = runtime
    install_problems(app)  # every error as problem details (RFC 9457)
    install_http_security(app, settings)  # headers on every response; operations not public
    app.include_router(health_router(runtime))
    document_api(app)  # security and error responses; the service may name its own parts
    for router in routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app with uvicorn (the console scripts call this), on uvloop and httptools:
    named, not "auto", so a build that lost them fails at start instead of running
    slower unnoticed."""
    uvicorn.run(
        app,
        loop="uvloop",
        http="httptools",
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )
