"""Routing's subscriber with FastStream's TestKafkaBroker and the real store."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from pymongo import AsyncMongoClient

from indgang_contracts.envelope import decode, encode
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_routing.app import create_app
from indgang_routing.domain.case import case_id_for
from indgang_routing.settings import RoutingSettings

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")


@pytest.fixture
async def routing() -> AsyncIterator[tuple[Any, Any, list[Any]]]:
    database = f"t_handlers_{uuid.uuid4().hex[:8]}_routing"
    settings = RoutingSettings(mongodb_uri=MONGODB_URI, mongodb_database=database)
    app = create_app(settings)
    broker = app.state.runtime.broker
    dead: list[Any] = []

    @broker.subscriber("indgang.dead-letter.v1")
    async def capture(body: bytes) -> None:
        dead.append(body)

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, client[database]["cases"], dead
    await client.drop_database(database)
    await client.close()
    await app.state.runtime.client.close()


async def test_on_inquiry_received_stores_case_with_case_routed_in_outbox(
    routing: tuple[Any, Any, list[Any]],
) -> None:
    broker, cases, _ = routing
    record = encode(INQUIRY_RECEIVED, source="/test")
    for _ in range(2):  # redelivered: still one case, one event
        await broker.publish(
            record.value, record.topic, key=record.key.encode(), headers=record.headers
        )
    case = await cases.find_one({"_id": case_id_for(INQUIRY_RECEIVED.inquiry_id)})
    assert case is not None
    assert case["consultant"]["id"] == "ane-kjaer"
    assert case["outbox_pending"] == 1
    (stored,) = case["outbox"]
    event = decode(
        [(k, v.encode()) for k, v in stored["headers"].items()], stored["value"].encode()
    )
    assert event.type == "dk.indgang.case-routed.v1"
    assert event.data.inquiry_id == INQUIRY_RECEIVED.inquiry_id  # type: ignore[attr-defined]
    assert await cases.count_documents({}) == 1


async def test_invalid_event_is_dead_lettered_not_stored(
    routing: tuple[Any, Any, list[Any]],
) -> None:
    broker, cases, dead = routing
    record = encode(INQUIRY_RECEIVED, source="/test")
    body = json.loads(record.value)
    del body["organisation"]
    await broker.publish(
        json.dumps(body).encode(), record.topic, key=record.key.encode(), headers=record.headers
    )
    assert await cases.count_documents({}) == 0
    assert len(dead) == 1
