"""Reporting's tests import the known history (history.py) by name: with
`--import-mode=importlib` this directory is not on sys.path unless put there."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from indgang_reporting.app import create_app
from indgang_reporting.settings import ReportingSettings

from harness import KAFKA_BOOTSTRAP, MONGODB_URI, ROOT
from pytest_indgang import drop_run

REPORTS_KEY = "test-reports-key-0123456789abcdef"


def settings_for(run_id: str, name: str, **overrides: object) -> ReportingSettings:
    return ReportingSettings(
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
        kafka_topic_prefix=f"test-{run_id}.",
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"t_{run_id}_{name}",
        users_file=ROOT / "deploy" / "dev" / "users.toml",
        reports_api_key=REPORTS_KEY,
        consumer_group=f"indgang-reporting-{name}",
        **overrides,  # type: ignore[arg-type]
    )


class RunningApp:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://reporting.test"
        )


async def run_app(settings: ReportingSettings) -> AsyncIterator[RunningApp]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningApp(app)


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert response.status_code == 303, response.text


@pytest.fixture(scope="module")
async def reporting_app(infra: None, run_id: str) -> AsyncIterator[RunningApp]:
    """Reporting in this process with its lifespan, on an empty read model."""
    async for running in run_app(settings_for(run_id, "reportingpages")):
        yield running


@pytest.fixture(scope="session", autouse=True)
async def _drop_run_data(run_id: str) -> AsyncIterator[None]:
    yield
    await drop_run(run_id)
