"""The guide on the real store and broker: in this process (API tests) or as a real
process (event and browser tests), isolated by run id (database and topic prefix)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from indgang_guide.app import create_app
from indgang_guide.settings import GuideSettings

from harness import KAFKA_BOOTSTRAP, MONGODB_URI, ROOT, ServiceProcess, service_env
from pytest_indgang import drop_run


def settings_for(run_id: str, name: str, **overrides: object) -> GuideSettings:
    return GuideSettings(
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
        kafka_topic_prefix=f"test-{run_id}.",
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"t_{run_id}_{name}",
        outbox_poll_seconds=0.2,
        users_file=ROOT / "deploy" / "dev" / "users.toml",
        # Its own consumer group: in-process apps must not take partitions from
        # the guide process that the event tests talk to.
        consumer_group=f"indgang-guide-{name}",
        **overrides,  # type: ignore[arg-type]
    )


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert response.status_code == 303, response.text
    # Every later POST/PUT/DELETE of this session carries its CSRF token (issue 12).
    session = await client.get("/auth/session")
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]


class RunningApp:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://guide.test"
        )


async def run_app(settings: GuideSettings) -> AsyncIterator[RunningApp]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningApp(app)


@pytest.fixture(scope="module")
async def guide_app(infra: None, run_id: str) -> AsyncIterator[RunningApp]:
    """The guide app in this process with its lifespan (store, broker, outbox relay)."""
    async for running in run_app(settings_for(run_id, "guideapp")):
        yield running


@pytest.fixture(scope="session")
async def guide_process(infra: None, run_id: str) -> AsyncIterator[ServiceProcess]:
    """The guide as a real process on a random port."""
    service = ServiceProcess("guide", service_env(run_id, "guide", KAFKA_BOOTSTRAP))
    service.start()
    try:
        await service.wait_ready()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session", autouse=True)
async def _drop_run_data(run_id: str) -> AsyncIterator[None]:
    yield
    await drop_run(run_id)


@dataclass(frozen=True)
class GuideKit:
    """Helpers the tests get as a fixture (test modules cannot import each other here)."""

    run_id: str
    content: Path = field(default_factory=lambda: Path(GuideSettings().content_dir))

    def settings(self, name: str, **overrides: object) -> GuideSettings:
        return settings_for(self.run_id, name, **overrides)

    def run(self, settings: GuideSettings) -> AsyncIterator[RunningApp]:
        return run_app(settings)

    async def login(self, client: httpx.AsyncClient, user: str) -> None:
        await login(client, user)


@pytest.fixture(scope="session")
def kit(run_id: str) -> GuideKit:
    return GuideKit(run_id)
