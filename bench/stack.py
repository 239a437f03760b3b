"""A fresh indgang stack for one bench run: the four services as processes of their own,
on free ports, with their own topic prefix, databases and consumer groups, wired to
each other and to an SMTP sink of the bench's own. Only the broker and the store are
shared with `make up` (they are what is being measured together with the services).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from resources import Part

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "routing", "notifications", "guide")


class StackFailed(Exception):
    """The stack could not be started or did not work end to end; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port)}
        env.pop("CONSUMER_GROUP", None)  # the group must follow this stack's topic prefix
        with self.log.open("ab") as out:
            # The interpreter itself, not `uv run`: the pid measured is then the service's.
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"from indgang_{self.name}.app import main; main()"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
            )  # fmt: skip

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class SmtpSink:
    """bench/smtp_sink.py as a child process; `count` is the mails it accepted so far."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        script = str(Path(__file__).with_name("smtp_sink.py"))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, script, str(self.port), stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if line != b"ready\n":
            raise StackFailed(f"SMTP sink did not start (said {line!r})")
        self._reader = asyncio.create_task(self._count(self.process.stdout))

    async def _count(self, stdout: asyncio.StreamReader) -> None:
        async for line in stdout:
            if line.startswith(b"mail "):
                self.count += 1

    async def settled(self, quiet: float, until: float) -> None:
        """Wait until no mail arrived for `quiet` s (the senders are done), or until `until`
        (time.perf_counter, the bench's clock) passes."""
        last, since = self.count, time.perf_counter()
        while time.perf_counter() < until and time.perf_counter() - since < quiet:
            await asyncio.sleep(0.2)
            if self.count != last:
                last, since = self.count, time.perf_counter()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


class Stack:
    """One stack: `label` (empty, preloaded) names it in topics, databases and logs."""

    def __init__(self, label: str, bootstrap: str, mongodb_uri: str, run_dir: Path) -> None:
        stamp = f"{int(time.time())}-{label}"
        self.label = label
        self.prefix = f"bench-{stamp}."  # topics and (automatically) consumer groups
        self.db_prefix = f"bench_{stamp.replace('-', '_')}_"
        self.bootstrap = bootstrap
        self.mongodb_uri = mongodb_uri
        self.run_dir = run_dir
        self.sink = SmtpSink()
        self.services = {
            name: Service(name, self._env(name), run_dir / f"{label}-{name}.log")
            for name in SERVICES
        }
        s = self.services
        # The services find each other on this stack's ports, as tests/pytest_indgang.py does.
        s["routing"].env["GUIDE_URL"] = s["guide"].url
        s["intake"].env["GUIDE_PUBLIC_URL"] = s["guide"].url + "/hjaelp"
        s["guide"].env["INTAKE_FORM_URL"] = s["intake"].url + "/"
        s["notifications"].env["ROUTING_PUBLIC_URL"] = s["routing"].url

    def database(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def topic(self, name: str) -> str:
        return self.prefix + name

    def _env(self, name: str) -> dict[str, str]:
        return {
            "ENVIRONMENT": "development",  # the development users, keys and secrets are allowed
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "MONGODB_URI": self.mongodb_uri,
            "MONGODB_DATABASE": self.database(name),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.sink.port),
            # Webhooks as in `make up`: the job centre's receiver on :8090 subscribes to
            # referral-made only, which the bench never causes, so no webhook is sent.
            "SUBSCRIPTIONS_FILE": "deploy/dev/subscriptions.toml",
            "WEBHOOK_ALLOW_PLAIN_HTTP": "true",
            "ADMIN_API_KEY": "dev-admin-key",
            # The load comes from a few hundred made-up client addresses; the per-address
            # limit (10/minute by default) would turn the bench into a test of the limiter.
            "RATE_LIMIT_PUBLIC": "1000000/minute",
        }

    def parts(self) -> list[Part]:
        return [
            Part(name, (s.process.pid,))
            for name, s in self.services.items()
            if s.process is not None
        ]

    async def start(self, ready_timeout: float) -> float:
        """Start the sink and the services; seconds until every service was ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        await self.sink.start()
        t0 = time.monotonic()
        for service in self.services.values():
            service.start()
        await asyncio.gather(*(self._ready(s, ready_timeout) for s in self.services.values()))
        return time.monotonic() - t0

    async def _ready(self, service: Service, within: float) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=3) as http:
            while time.monotonic() < deadline:
                assert service.process is not None
                if service.process.poll() is not None:
                    raise StackFailed(f"{service.name} exited at start:\n{service.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(service.url + "/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise StackFailed(f"{service.name} not ready within {within:g} s:\n{service.tail()}")

    async def stop(self, keep: bool) -> None:
        """Stop the processes; unless keep, drop this stack's databases and topics."""
        if keep:
            for name, s in self.services.items():
                print(f"  kept {self.label} {name}: {s.url} (pid {s.process and s.process.pid})")
            return
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in self.services.values()))
        await self.sink.stop()
        await self.drop()

    async def drop(self) -> None:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(self.mongodb_uri)
        try:
            for name in await client.list_database_names():
                if name.startswith(self.db_prefix):
                    await client.drop_database(name)
        finally:
            await client.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=30000)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if topics:
                await admin.delete_topics(topics)
            # aiokafka cannot delete consumer groups: the empty `bench-…` groups are left
            # for Kafka to expire (offsets.retention.minutes).
        finally:
            await admin.close()
