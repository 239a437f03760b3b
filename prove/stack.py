"""The prove's own stack: its own infrastructure instance (deploy/infra.sh with
INDGANG_VAR and INDGANG_PORT_OFFSET, so `make up`'s broker and store are never touched
or killed), its own topic prefix, databases and consumer groups, the four services as
processes it can SIGKILL and restart, a flaky SMTP server and a flaky webhook receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "routing", "notifications", "guide")
WEBHOOK_SECRET = "prove-webhook-secret"  # the receiver checks every signature with it
PORT_OFFSET = 100  # the instance's ports: Kafka 9192…, store 27117


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Infra:
    """deploy/infra.sh on the prove's own instance (var/prove-<n>b, ports + 100)."""

    def __init__(self, brokers: int, log: Path) -> None:
        self.brokers = brokers
        self.var = ROOT / "var" / f"prove-{brokers}b"
        self.log = log
        self.env = {
            **os.environ,
            "INDGANG_VAR": str(self.var),
            "INDGANG_PORT_OFFSET": str(PORT_OFFSET),
            "KAFKA_BROKERS": str(brokers),
            "INDGANG_NO_MAIL": "1",  # the prove's own flaky SMTP server takes the mail
            "INDGANG_SKIP_TOPICS": "1",  # the services create the prefixed topics
        }
        for name in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "SMTP_HOST"):
            self.env.pop(name, None)  # an outer setting must not point the prove elsewhere

    def run(self, *args: str) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n$ infra.sh {' '.join(args)}  ({time.strftime('%T')})\n".encode())
            out.flush()
            subprocess.run(
                ["bash", str(ROOT / "deploy" / "infra.sh"), *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                cwd=ROOT,
            )

    async def arun(self, *args: str) -> None:
        await asyncio.to_thread(self.run, *args)

    @property
    def bootstrap(self) -> str:
        path = self.var / "run" / "kafka.bootstrap"
        if path.exists():
            return path.read_text().strip()
        return f"127.0.0.1:{9092 + PORT_OFFSET}"

    @property
    def mongodb_uri(self) -> str:
        return f"mongodb://127.0.0.1:{27017 + PORT_OFFSET}"

    def broker_names(self) -> list[str]:
        return ["kafka"] if self.brokers == 1 else [f"kafka-{i}" for i in range(1, 4)]


@dataclass
class Service:
    """One service process; `kill` is SIGKILL (no shutdown at all), `start` the same
    process again on the same port, as a supervisor (systemd, Kubernetes) would."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port)}
        env.pop("CONSUMER_GROUP", None)
        self.starts += 1
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"from indgang_{self.name}.app import main; main()"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def ready(self, within: float) -> bool:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=3) as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url + "/health/ready")).status_code == 200:
                        return True
                await asyncio.sleep(0.3)
        return False

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Child:
    """A helper process of the prove (flaky SMTP, flaky webhook) that says `ready`."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("ab"),
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise RuntimeError(f"{self.name} did not start (said {line!r}); see {self.log}")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 10)
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()


def subscriptions_file(path: Path, webhook_url: str) -> Path:
    """The prove's webhook subscription: every referral event to the flaky receiver."""
    path.write_text(
        "[[subscription]]\n"
        'id = "prove-afdeling"\n'
        'name = "Prove: en afdelings fagsystem"\n'
        'event_types = ["referral-made", "referral-updated"]\n'
        'channel = "webhook"\n'
        f'url = "{webhook_url}"\n'
        f'secret = "{WEBHOOK_SECRET}"\n'
    )
    return path


def service_env(
    name: str,
    *,
    bootstrap: str,
    mongodb_uri: str,
    prefix: str,
    db_prefix: str,
    smtp_port: int,
    subscriptions: Path,
    brokers: int,
) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "development",  # the development users, keys and secrets are allowed
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_TOPIC_PREFIX": prefix,
        "MONGODB_URI": mongodb_uri,
        "MONGODB_DATABASE": f"{db_prefix}{name}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SUBSCRIPTIONS_FILE": str(subscriptions),
        "WEBHOOK_ALLOW_PLAIN_HTTP": "true",
        "ADMIN_API_KEY": "dev-admin-key",
        # The load comes from a few hundred made-up client addresses.
        "RATE_LIMIT_PUBLIC": "1000000/minute",
        # Retries on the scale of the run, not of a working day: a refused mail or a
        # failed webhook comes back within seconds, and a delivery claimed by a killed
        # notifications is taken over after 20 s instead of 2 minutes.
        "RETRY_BASE_SECONDS": "2",
        "RETRY_MAX_SECONDS": "20",
        "MAX_ATTEMPTS": "20",
        "DELIVERY_LEASE_SECONDS": "20",
        "WEBHOOK_TIMEOUT_SECONDS": "3",
    }
    if brokers >= 3:
        env["KAFKA_TOPIC_REPLICATION_FACTOR"] = "3"
    return env
