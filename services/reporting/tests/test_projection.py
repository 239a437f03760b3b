"""The read model fed through the real broker into the real store: the known history,
shuffled and with duplicates (redelivery, and the same event re-published under a new
CloudEvent id), gives exactly the figures of the pure model; a rebuild (read model
dropped, consumer groups deleted) reads the topics from the start and gives them again;
a record that is no event is dead-lettered."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from reporting_history import HISTORY
from reporting_kit import REPORTS_KEY, facts_of, run_app, settings_for

from indgang_contracts.envelope import encode
from indgang_contracts.events import Event, InquiryReceived
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_reporting.domain import figures as f
from indgang_reporting.domain.facts import COLLECTIONS, FactBook
from indgang_reporting.domain.figures import Selection
from indgang_reporting.domain.periods import Span
from indgang_reporting.entrypoints.rebuild import rebuild
from indgang_reporting.web.selection import today

from harness import KAFKA_BOOTSTRAP, MONGODB_URI, EventLog, eventually, produce

QUERY = {"from": "2026-11-01", "to": "2026-12-31", "per": "month"}


async def _send(prefix: str, events: Sequence[tuple[Event, str]]) -> None:
    for event, event_id in events:
        record = encode(event, source="/indgang/test", event_id=event_id)
        await produce(
            KAFKA_BOOTSTRAP,
            f"{prefix}{record.topic}",
            record.value,
            record.key.encode(),
            [(k, v.encode()) for k, v in record.headers.items()],
        )


def _expected() -> dict[str, Any]:
    """The pure model's figures for the history, as the JSON endpoints give them."""
    book = FactBook()
    for event in HISTORY:
        book.record(event)
    span = Span(date(2026, 11, 1), date(2026, 12, 31), "month")
    selection = Selection(span, today())
    facts = facts_of(book, span)
    return {
        name: report(facts, selection).model_dump(mode="json") for name, report in f.REPORTS.items()
    }


async def _figures(client: httpx.AsyncClient) -> dict[str, Any]:
    out = {}
    for name in f.REPORTS:
        response = await client.get(
            f"/api/v1/reports/{name}", params=QUERY, headers={"X-Reports-Key": REPORTS_KEY}
        )
        assert response.status_code == 200, response.text
        out[name] = response.json()
    return out


async def test_the_history_through_the_broker_gives_the_pure_figures_and_a_rebuild_again(
    infra: None, run_id: str
) -> None:
    expected = _expected()
    ids = [str(uuid.uuid4()) for _ in HISTORY]
    sent = list(zip(HISTORY, ids, strict=True))
    # Duplicates: a third redelivered with the same id, a few re-published with new ids.
    sent += random.Random(7).sample(sent, len(sent) // 3)
    sent += [(event, str(uuid.uuid4())) for event in HISTORY[::5]]
    random.Random(14).shuffle(sent)
    settings = settings_for(run_id, "projection")

    async for running in run_app(settings):
        await _send(settings.kafka_topic_prefix, sent)
        async with running.client() as client:

            async def settled() -> dict[str, Any] | None:
                figures = await _figures(client)
                return figures if figures == expected else None

            assert await eventually(settled, timeout=90) == expected

    # Rebuild: the read model and the consumer groups go; a new start reads it all again.
    deleted = await rebuild(settings)
    assert len(deleted) == 11
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    try:
        db = mongo[settings.mongodb_database]
        assert [await db[name].count_documents({}) for name in COLLECTIONS] == [0] * len(
            COLLECTIONS
        )
    finally:
        await mongo.close()
    async for running in run_app(settings):
        async with running.client() as client:

            async def rebuilt() -> dict[str, Any] | None:
                figures = await _figures(client)
                return figures if figures == expected else None

            assert await eventually(rebuilt, timeout=90) == expected


async def test_a_record_that_is_no_event_is_dead_lettered(infra: None, run_id: str) -> None:
    settings = settings_for(run_id, "poison")
    group = f"{settings.consumer_group}.{topic_for(InquiryReceived)}"
    async for _ in run_app(settings):
        prefix = settings.kafka_topic_prefix
        async with EventLog(KAFKA_BOOTSTRAP, f"{prefix}{DEAD_LETTER_TOPIC}") as dead:
            topic = f"{prefix}{topic_for(InquiryReceived)}"
            await produce(KAFKA_BOOTSTRAP, topic, b"{not json", b"poison", [])

            async def found() -> Any:
                return next(
                    (
                        r
                        for r in dead.records
                        if dict(r.headers or []).get("dlt_consumer_group") == group.encode()
                    ),
                    None,
                )

            letter = await eventually(found, timeout=60)
            assert letter.value == b"{not json"
