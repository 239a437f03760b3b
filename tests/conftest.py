"""Fixtures for tests on the real broker, store and SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from harness import (
    KAFKA_BOOTSTRAP,
    MONGODB_URI,
    ServiceProcess,
    SmtpServer,
    reachable,
    service_env,
)
from pymongo import AsyncMongoClient

SERVICES = ("intake", "routing", "notifications", "guide")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/" in str(item.path) and str(item.path).count("/services/") == 0:
            item.add_marker(pytest.mark.infra)


@pytest.fixture(scope="session")
def infra() -> None:
    """The shared broker and store must run (`make test` starts them)."""
    problems = [
        f"{name} not reachable at {where}"
        for name, where in (
            ("Kafka", KAFKA_BOOTSTRAP),
            ("MongoDB-compatible store", MONGODB_URI.split("//")[-1].split("/")[0]),
        )
        if not reachable(where)
    ]
    if problems:
        pytest.fail("; ".join(problems) + " — start them with `bash deploy/infra.sh up`")


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@dataclass
class System:
    run_id: str
    bootstrap: str
    services: dict[str, ServiceProcess]

    def url(self, name: str) -> str:
        return self.services[name].url

    def topic(self, name: str) -> str:
        return f"test-{self.run_id}.{name}"


@pytest.fixture(scope="session")
async def system(infra: None, run_id: str, smtp: SmtpServer) -> AsyncIterator[System]:
    """All four services as real processes, isolated by topic prefix and databases."""
    services = {
        name: ServiceProcess(name, service_env(run_id, name, KAFKA_BOOTSTRAP, smtp.port))
        for name in SERVICES
    }
    for service in services.values():
        service.start()
    try:
        await asyncio.gather(*(s.wait_ready() for s in services.values()))
        yield System(run_id, KAFKA_BOOTSTRAP, services)
    finally:
        for service in services.values():
            service.stop()
        await drop_run(run_id)


async def drop_run(run_id: str) -> None:
    """Remove the run's databases and topics."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URI)
    try:
        for name in await client.list_database_names():
            if name.startswith(f"t_{run_id}_"):
                await client.drop_database(name)
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"test-{run_id}.")]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()
