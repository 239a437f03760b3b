"""Real parts for the integration and end-to-end tests.

The tests run the services as real processes against the real broker and store
(started by `deploy/infra.sh`, or named by KAFKA_BOOTSTRAP_SERVERS/MONGODB_URI),
a real SMTP server (aiosmtpd, in this process) and, for outage tests, a private
Kafka broker of their own that they may stop and start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiosmtpd.controller import Controller

from indgang_contracts.envelope import Envelope, InvalidEvent, decode

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")
KAFKA_VERSION = "4.1.1"
# Where deploy/infra.sh installs the Kafka jars.
KAFKA_LIBS = (
    Path(os.environ.get("INDGANG_CACHE", Path.home() / ".cache" / "indgang"))
    / f"kafka-{KAFKA_VERSION}"
    / "libs"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """`app` (ASGI) served by uvicorn on a free loopback port in this event loop; yields
    its base URL and stops it afterwards."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn only offers the flag
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def reachable(hostport: str, timeout: float = 2.0) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout: float = 30.0, interval: float = 0.2
) -> T:
    """Poll until `probe` returns something truthy; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


# --- SMTP -----------------------------------------------------------------


class _Collect:
    def __init__(self, sink: list[Message], lock: threading.Lock) -> None:
        self.sink = sink
        self.lock = lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        with self.lock:
            self.sink.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    port: int = field(default_factory=free_port)
    received: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            _Collect(self.received, self._lock), hostname="127.0.0.1", port=self.port
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str, subject_part: str = "") -> list[Message]:
        with self._lock:
            return [
                m
                for m in self.received
                if address.lower() in str(m["To"]).lower() and subject_part in str(m["Subject"])
            ]


# --- Services as real processes ----------------------------------------------


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "HTTP_PORT": str(self.port), "HTTP_HOST": "127.0.0.1"}
        log_dir = ROOT / "var" / "log" / "tests"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.name}-{self.port}.log"
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from indgang_{self.name}.app import main; main()"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    async def wait_ready(self, timeout: float = 60.0, path: str = "/health/ready") -> None:
        async with httpx.AsyncClient(timeout=3.0) as client:

            async def ready() -> bool:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.log_tail()}")
                try:
                    return (await client.get(self.url + path)).status_code == 200
                except httpx.HTTPError:
                    return False

            try:
                await eventually(ready, timeout=timeout, interval=0.3)
            except AssertionError as exc:
                raise AssertionError(f"{self.name} not ready: {exc}\n{self.log_tail()}") from exc

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def service_env(
    run_id: str, name: str, bootstrap: str, smtp_port: int | None = None
) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "development",  # the development users, keys and secrets are allowed
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_TOPIC_PREFIX": f"test-{run_id}.",
        "MONGODB_URI": MONGODB_URI,
        "MONGODB_DATABASE": f"t_{run_id}_{name}",
        "OUTBOX_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        # Spans as JSON lines, one folder per run (tests/e2e/test_traces.py reads them).
        "TRACES_DIR": str(ROOT / "var" / "traces" / "tests" / run_id),
    }
    if smtp_port is not None:
        env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port)})
    return env


# --- Kafka -------------------------------------------------------------------


class EventLog:
    """An independent consumer (no group) reading a topic from its beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.records: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventLog:
        await self._consumer.start()
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _pump(self) -> None:
        async for record in self._consumer:
            self.records.append(record)

    def decoded(self) -> list[tuple[Any, Envelope[Any]]]:
        """Each record that holds a valid event, with that event."""
        out = []
        for r in self.records:
            try:
                out.append((r, decode(list(r.headers), r.value, r.key)))
            except InvalidEvent:
                continue
        return out

    def envelopes(self) -> list[Envelope[Any]]:
        return [envelope for _, envelope in self.decoded()]

    async def wait_for(
        self, predicate: Callable[[Envelope[Any]], bool], timeout: float = 30.0
    ) -> Envelope[Any]:
        async def probe() -> Envelope[Any] | None:
            return next((e for e in self.envelopes() if predicate(e)), None)

        return await eventually(probe, timeout=timeout)


async def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


class PrivateKafka:
    """A Kafka broker of the test's own, from the jars `deploy/infra.sh` installed.

    Outage tests stop and start it without disturbing the shared broker.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.controller_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xmx512m",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.workdir}",
            "-cp",
            f"{KAFKA_LIBS}/*",
            main,
            *args,
        ]

    def prepare(self) -> None:
        if not KAFKA_LIBS.exists():
            raise AssertionError(f"Kafka jars missing in {KAFKA_LIBS}: run deploy/infra.sh install")
        template = (ROOT / "deploy" / "kafka" / "server.properties").read_text()
        config = (
            template.replace("@DATA_DIR@", str(self.workdir / "data"))
            .replace("@HOST@", "127.0.0.1")
            .replace("@CONTROLLER_PORT@", str(self.controller_port))
            .replace("@PORT@", str(self.port))
        )
        self.config = self.workdir / "server.properties"
        self.config.write_text(config)
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                uuid.uuid4().hex[:22],
                "-c",
                str(self.config),
                "--standalone",
            ),
            check=True,
            capture_output=True,
        )

    async def start(self) -> None:
        log = (self.workdir / "kafka-stdout.log").open("ab")
        self.process = subprocess.Popen(
            self._java("kafka.Kafka", str(self.config)), stdout=log, stderr=subprocess.STDOUT
        )

        async def up() -> bool:
            return reachable(self.bootstrap, 0.5)

        await eventually(up, timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
