"""The process shape every service shares: periodic jobs, the health and metrics
endpoints, and the app's lifespan (start-up hooks, the broker started in the background
and retried, everything stopped at the end). Stand-ins for the broker and store."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

import indgang_runtime.service as service
from indgang_runtime.service import Runtime, build_app, repeat
from indgang_runtime.settings import ServiceSettings

SETTINGS = ServiceSettings(
    service_name="t", mongodb_database="t", http_port=1, kafka_bootstrap_servers="127.0.0.1:1"
)


class Store:
    def __init__(self, up: bool = True) -> None:
        self.up = up

    async def command(self, name: str) -> dict[str, Any]:
        if not self.up:
            raise ConnectionError("store down")
        return {"ok": 1}


class Client:
    closed = False

    async def close(self) -> None:
        self.closed = True


class Broker:
    subscribers: tuple[Any, ...] = ()  # no consumer groups to carry offsets over for

    def __init__(self, answers: bool = True) -> None:
        self.answers = answers
        self.started = 0
        self.stopped = 0
        self.pings = 0

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def ping(self, timeout: float) -> bool:
        self.pings += 1
        return self.answers


def runtime(store: Store | None = None, broker: Broker | None = None, **kw: Any) -> Runtime:
    return Runtime(SETTINGS, broker or Broker(), Client(), store or Store(), **kw)  # type: ignore[arg-type]


# --- repeat ------------------------------------------------------------------------------


async def test_a_periodic_job_runs_at_once_then_every_period() -> None:
    runs: list[float] = []
    third = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def job() -> None:
        runs.append(loop.time())
        if len(runs) == 3:
            third.set()

    task = asyncio.create_task(repeat(job, 0.05, "tick"))
    await asyncio.sleep(0)
    assert len(runs) == 1  # the first round does not wait
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert all(later - earlier >= 0.04 for earlier, later in itertools.pairwise(runs))


async def test_a_failing_round_does_not_end_the_job() -> None:
    rounds = 0

    async def flaky() -> None:
        nonlocal rounds
        rounds += 1
        if rounds <= 2:
            raise ConnectionError("the store is down")

    task = asyncio.create_task(repeat(flaky, 0.01, "flaky"))
    for _ in range(500):
        if rounds > 3:
            break
        await asyncio.sleep(0.01)
    assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rounds > 3  # it went on after the failing rounds


async def test_the_jobs_preparation_runs_first_again_until_it_succeeds_then_never() -> None:
    """One-time work (filing a store's existing data) runs before the job's first round,
    is tried again each round while it fails (the job does not run without it), and once
    it succeeded only the job runs."""
    calls: list[str] = []
    attempts = 0

    async def prepare() -> None:
        nonlocal attempts
        attempts += 1
        calls.append("prepare")
        if attempts <= 2:
            raise ConnectionError("the store is down")

    async def job() -> None:
        calls.append("job")

    task = asyncio.create_task(repeat(job, 0.01, "filed", prepare=prepare))
    for _ in range(500):
        if calls.count("job") >= 3:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert calls[:4] == ["prepare", "prepare", "prepare", "job"]
    assert calls.count("prepare") == 3
    assert calls.count("job") >= 3


async def test_cancelling_the_job_ends_it() -> None:
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(repeat(slow, 0.01, "slow"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- health and metrics --------------------------------------------------------------------


async def probe(rt: Runtime, path: str) -> httpx.Response:
    app = build_app(rt, title="t", description="t")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        return await client.get(path)


async def test_ready_when_the_store_and_the_broker_answer() -> None:
    rt = runtime(broker_connected=True)
    response = await probe(rt, "/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "store": "ok", "broker": "ok"}


@pytest.mark.parametrize(
    ("store_up", "connected", "answers", "expected"),
    [
        (False, True, True, {"store": "unreachable", "broker": "ok"}),
        (True, False, True, {"store": "ok", "broker": "unreachable"}),  # not started yet
        (True, True, False, {"store": "ok", "broker": "unreachable"}),
        (False, False, False, {"store": "unreachable", "broker": "unreachable"}),
    ],
)
async def test_not_ready_says_what_is_unreachable(
    store_up: bool, connected: bool, answers: bool, expected: dict[str, str]
) -> None:
    broker = Broker(answers)
    rt = runtime(Store(store_up), broker, broker_connected=connected)
    response = await probe(rt, "/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", **expected}
    assert broker.pings == (1 if connected else 0)  # a broker never started is not asked


async def test_live_and_metrics_need_nothing_reachable() -> None:
    rt = runtime(Store(up=False))
    assert (await probe(rt, "/health/live")).json() == {"status": "live"}
    metrics = await probe(rt, "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "python_info" in metrics.text


async def test_the_services_routers_are_included_and_the_runtime_kept() -> None:
    router = APIRouter()

    @router.get("/hello")
    async def hello() -> str:
        return "hej"

    rt = runtime()
    app = build_app(rt, title="Testtjeneste", description="d", routers=[router])
    assert app.state.runtime is rt
    assert app.title == "Testtjeneste"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        assert (await client.get("/hello")).json() == "hej"


# --- the lifespan ------------------------------------------------------------------------


class Relay:
    def __init__(self) -> None:
        self.indexed = False
        self.running = asyncio.Event()
        self.cancelled = False

    async def ensure_indexes(self) -> None:
        self.indexed = True

    async def run(self) -> None:
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_the_lifespan_starts_everything_and_stops_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order: list[str] = []
    topic_attempts = 0

    async def ensure_topics(bootstrap: str, prefix: str) -> list[str]:
        nonlocal topic_attempts
        topic_attempts += 1
        if topic_attempts == 1:
            raise ConnectionError("Kafka is not up yet")
        return []

    monkeypatch.setattr(service, "ensure_topics", ensure_topics)
    broker, relay, ticked = Broker(), Relay(), asyncio.Event()

    async def first() -> None:
        order.append("first")

    async def second() -> None:
        order.append("second")

    async def periodic() -> None:
        ticked.set()
        await asyncio.Event().wait()

    rt = runtime(broker=broker, relay=relay, on_startup=[first, second], background=[periodic])
    app: FastAPI = build_app(rt, title="t", description="t")
    async with app.router.lifespan_context(app):
        assert order == ["first", "second"]
        assert relay.indexed
        await asyncio.wait_for(ticked.wait(), 2)
        # The first start fails (Kafka down): the HTTP side is up, the broker is retried,
        # and the relay waits for it instead of failing into its backoff.
        assert not rt.broker_connected
        assert not relay.running.is_set()
        for _ in range(40):
            if rt.broker_connected:
                break
            await asyncio.sleep(0.05)
        assert rt.broker_connected
        await asyncio.wait_for(relay.running.wait(), 2)
        assert topic_attempts == 2
        assert broker.started == 1
    assert relay.cancelled
    assert broker.stopped >= 1
    assert rt.client.closed


async def test_a_task_that_ignores_its_cancellation_does_not_keep_the_service_from_stopping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_topics(bootstrap: str, prefix: str) -> list[str]:
        return []

    monkeypatch.setattr(service, "ensure_topics", no_topics)
    monkeypatch.setattr(service, "_STOP_GRACE_SECONDS", 0.2)
    release, started = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        # Like a store call that swallows the cancellation until its connection closes.
        started.set()
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    rt = runtime(background=[stubborn])
    app: FastAPI = build_app(rt, title="t", description="t")
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(started.wait(), 2)
    # The lifespan ended although the task is still running, and the client was closed.
    assert rt.client.closed
    stuck = [t for t in asyncio.all_tasks() if t.get_name() == "stubborn"]
    assert stuck
    assert not stuck[0].done()
    release.set()
    await asyncio.wait_for(stuck[0], 2)


async def test_a_service_connects_from_its_settings_and_adds_what_runs_beside_http() -> None:
    rt = Runtime.connect(SETTINGS)
    try:
        assert rt.db.name == SETTINGS.mongodb_database
        assert rt.relay is None

        async def prepare() -> None: ...

        async def job() -> None: ...

        rt.configure(on_startup=[prepare], background=[job])
        rt.configure(on_startup=[job])
        # Start-up hooks keep their order; later calls add, never replace.
        assert rt.on_startup == [prepare, job]
        assert rt.background == [job]
    finally:
        await rt.client.close()


async def test_writes_wait_for_a_journaled_majority_unless_configured_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Majority + journal is what survives a replica-set failover (production).
    default = Runtime.connect(SETTINGS)
    monkeypatch.setenv("MONGODB_WRITE_CONCERN", "1")
    monkeypatch.setenv("MONGODB_JOURNAL", "false")
    relaxed_settings = ServiceSettings(service_name="t", mongodb_database="t", http_port=1)
    relaxed = Runtime.connect(relaxed_settings)
    try:
        assert default.client.write_concern.document == {
            "w": "majority",
            "j": True,
            "wtimeout": 10_000,
        }
        assert relaxed_settings.mongodb_write_concern == 1
        assert relaxed.client.write_concern.document["w"] == 1
        assert relaxed.client.write_concern.document["j"] is False
    finally:
        await default.client.close()
        await relaxed.client.close()
