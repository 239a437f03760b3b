"""Routing's test fixtures: the app on the real store (a database of its own per test),
started as its lifespan would (indexes, the seeded team and providers), without Kafka.

Test modules reach the helpers through the fixtures: with `--import-mode=importlib`
this file cannot be imported by name."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import Envelope, decode
from indgang_contracts.events import Event, InquiryReceived
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_routing.app import create_app
from indgang_routing.settings import RoutingSettings
from indgang_routing.web.console import Console

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# A port nobody listens on: the guide is "down" unless a test starts one.
GUIDE_DOWN = "http://127.0.0.1:9"


@dataclass
class Routing:
    app: FastAPI
    db: AsyncDatabase[dict[str, Any]]

    @property
    def use(self) -> Console:
        console: Console = self.app.state.console
        return console

    @property
    def cases(self) -> Any:
        return self.db["cases"]

    async def case(self, case_id: str) -> dict[str, Any]:
        found = await self.cases.find_one({"_id": case_id})
        assert found is not None, f"no case {case_id}"
        return found

    async def events(self, case_id: str, type_: type[Event] | None = None) -> list[Envelope[Any]]:
        """The events a case has put in its outbox, in order."""
        case = await self.case(case_id)
        envelopes = [
            decode([(k, v.encode()) for k, v in e["headers"].items()], e["value"].encode())
            for e in case.get("outbox", [])
        ]
        return [e for e in envelopes if type_ is None or isinstance(e.data, type_)]

    @staticmethod
    def inquiry(
        n: int,
        organisation_key: str = "cvr:35954716",
        needs: list[str] | None = None,
        **changes: Any,
    ) -> InquiryReceived:
        return inquiry(n, organisation_key, needs, **changes)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://routing.test"
        )


def settings_for(database: str, **overrides: Any) -> RoutingSettings:
    values: dict[str, Any] = {
        "mongodb_uri": MONGODB_URI,
        "mongodb_database": database,
        "guide_url": GUIDE_DOWN,
        "guide_timeout_seconds": 0.5,
        "users_file": os.path.join(ROOT, "deploy/dev/users.toml"),
        "api_keys_file": os.path.join(ROOT, "deploy/dev/api-keys.toml"),
        **overrides,
    }
    return RoutingSettings(**values)


async def start(settings: RoutingSettings) -> FastAPI:
    app = create_app(settings)
    for hook in app.state.runtime.on_startup:  # indexes, the seeded team and providers
        await hook()
    # The background jobs' one-time work, which their first rounds do at once on start
    # (the tests run the rounds themselves, with the clock moved).
    casework = app.state.console.casework
    await casework.overdue.prepare()
    await casework.overdue_referrals.prepare()
    await app.state.retention.prepare()
    return app


@pytest.fixture
async def routing() -> AsyncIterator[Routing]:
    database = f"t_routing_{uuid.uuid4().hex[:10]}"
    app = await start(settings_for(database))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    try:
        yield Routing(app, client[database])
    finally:
        await client.drop_database(database)
        await client.close()
        await app.state.runtime.client.close()


def inquiry(
    n: int,
    organisation_key: str = "cvr:35954716",
    needs: list[str] | None = None,
    **changes: Any,
) -> InquiryReceived:
    """A variant of the contract's example inquiry, the n-th of its organisation."""
    data = INQUIRY_RECEIVED.model_dump(mode="json")
    data.update(
        {
            "inquiry_id": f"00000000-0000-4000-8000-{n:012}",
            "reference": f"H-T{n:07}",
            "organisation_key": organisation_key,
            **changes,
        }
    )
    if needs is not None:
        data["needs"] = needs
    return InquiryReceived.model_validate(data)
