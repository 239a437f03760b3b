"""Issue 12, finding 10: the guide serves entries for internal use and a case's
recommendations to staff only; routing reads them for the consultant with its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from indgang_routing.adapters.guide import GuideClient
from indgang_routing.settings import RoutingSettings
from indgang_runtime.http_security import DEVELOPMENT_GUIDE_READER_KEY, guide_reader_key

from harness import serving

KEY = "k" * 40


@pytest.fixture
async def guide() -> AsyncIterator[str]:
    """A stand-in for the guide: a case's recommendations only with the key."""
    app = FastAPI()

    @app.get("/api/v1/guide/recommendations/{case_id}")
    async def recommendations(case_id: str, request: Request) -> Any:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return {"case_id": case_id, "items": []}
        return {"case_id": case_id, "items": [{"entry_id": "intern", "audience": "internal"}]}

    async with serving(app) as url:
        yield url


async def test_routing_presents_its_key_to_the_guide(guide: str) -> None:
    with_key = await GuideClient(guide, 2.0, KEY).recommendations("c-1")
    # The adapter adds each entry's staff page link (issue 13, point 7).
    assert with_key == [
        {"entry_id": "intern", "audience": "internal", "url": f"{guide}/guide/entries/intern"}
    ]
    assert await GuideClient(guide, 2.0).recommendations("c-1") == []


def test_the_key_is_the_setting_else_the_development_key_in_development_only() -> None:
    base: dict[str, Any] = {"environment": "development"}
    assert guide_reader_key(RoutingSettings(**base)) == DEVELOPMENT_GUIDE_READER_KEY
    assert guide_reader_key(RoutingSettings(**base, guide_reader_key=KEY)) == KEY
    assert guide_reader_key(RoutingSettings(environment="production")) is None
    problems = RoutingSettings(environment="production", guide_reader_key="dev-x")
    assert any("GUIDE_READER_KEY" in p for p in problems.production_problems())
