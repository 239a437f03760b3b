"""Issue 15, point 8: re-driving dead letters after a fix (tools/redrive.py).

On the real broker: a real consumer (`wiring.subscribe`, FastStream) dead-letters the
events its handler fails on; after "the fix" the tool lists them, re-drives only those
its filters select, and the same consumer handles them — the original record, key
and headers, without the dead-lettering's headers. The filters alone run without one.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from faststream.kafka import KafkaRouter

from indgang_contracts.envelope import Envelope, encode
from indgang_contracts.events import CaseRouted, InquiryReceived
from indgang_contracts.examples import CASE_ROUTED, INQUIRY_RECEIVED
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_runtime.messaging import EventConsumer, make_broker
from indgang_runtime.settings import ServiceSettings, TopicsSettings
from indgang_runtime.topics import ensure_topics
from indgang_runtime.wiring import subscribe

from harness import KAFKA_BOOTSTRAP, ROOT, EventLog, eventually, produce


def load_redrive() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redrive", ROOT / "tools" / "redrive.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redrive"] = module
    spec.loader.exec_module(module)
    return module


redrive = load_redrive()
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def letter(**headers: str) -> Any:
    return redrive.DeadLetter(
        partition=0,
        offset=7,
        key=b"k",
        value=b"{}",
        headers=tuple((name, value.encode()) for name, value in headers.items()),
    )


ROUTED_LETTER = {
    "ce_id": "e1",
    "ce_type": "dk.indgang.case-routed.v1",
    "dlt_reason": "handler failed: KeyError: 'team'",
    "dlt_original_topic": "p.indgang.case-routed.v1",
    "dlt_consumer_group": "p.indgang-notifications",
    "dlt_failed_at": T0.isoformat(),
}


def test_the_filters_select_by_reason_type_topic_group_and_time() -> None:
    routed = letter(**ROUTED_LETTER)
    select = redrive.Selection
    assert select().matches(routed)
    assert select(reason=redrive.pattern("KeyError")).matches(routed)
    assert not select(reason=redrive.pattern("^invalid")).matches(routed)
    assert select(types=frozenset({"case-routed"})).matches(routed)
    assert select(types=frozenset({"dk.indgang.case-routed.v1"})).matches(routed)
    assert not select(types=frozenset({"inquiry-received"})).matches(routed)
    assert select(topics=frozenset({"indgang.case-routed.v1"})).matches(routed, "p.")
    assert not select(topics=frozenset({"indgang.case-routed.v1"})).matches(routed, "q.")
    assert select(groups=frozenset({"p.indgang-notifications"})).matches(routed)
    assert not select(groups=frozenset({"p.indgang-guide"})).matches(routed)
    assert select(since=T0, until=T0 + timedelta(seconds=1)).matches(routed)
    assert not select(since=T0 + timedelta(seconds=1)).matches(routed)
    assert not select(until=T0).matches(routed)
    # Naive times are UTC, as in the listing.
    assert select(since=redrive.moment("2026-12-01T07:59")).matches(routed)


def test_a_record_not_dead_lettered_by_us_is_never_re_driven() -> None:
    foreign = letter(ce_id="x", ce_type="dk.indgang.case-routed.v1")
    assert not redrive.Selection().matches(foreign)


def test_the_republished_headers_are_the_originals_and_where_it_came_from() -> None:
    headers = letter(**ROUTED_LETTER, traceparent="00-ab-cd-01").original_headers(
        "p.indgang.dead-letter.v1", T0
    )
    names = [name for name, _ in headers]
    assert names == ["ce_id", "ce_type", "traceparent", "indgang_redriven"]
    assert dict(headers)["indgang_redriven"] == (
        b"p.indgang.dead-letter.v1/0/7 at 2026-12-01T08:00:00+00:00"
    )


def test_the_listing_shows_no_content() -> None:
    line = letter(**ROUTED_LETTER).line()
    assert line.startswith("0:7  2026-12-01T08:00:00+00:00  dk.indgang.case-routed.v1")
    assert "{}" not in line


# --- On the real broker ------------------------------------------------------------


@dataclass
class Consumer:
    """A service's consumer of case-routed whose handler fails until it is fixed."""

    broken: bool = True
    handled: list[str] = field(default_factory=list)

    async def on_case_routed(self, envelope: Envelope[CaseRouted]) -> None:
        if self.broken:
            raise KeyError("team")
        self.handled.append(envelope.id)


def args(*argv: str) -> argparse.Namespace:
    parsed: argparse.Namespace = redrive.parse(list(argv))
    return parsed


@pytest.fixture
async def prefix(infra: None, run_id: str) -> str:
    # Under the run's prefix, so the session's clean-up removes the topics.
    name = f"test-{run_id}.rd{uuid.uuid4().hex[:6]}."
    await ensure_topics(KAFKA_BOOTSTRAP, name, 1)
    return name


@pytest.fixture
async def running(prefix: str) -> AsyncIterator[Consumer]:
    settings = ServiceSettings(
        service_name="redrive-test",
        mongodb_database="unused",
        http_port=1,
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
        kafka_topic_prefix=prefix,
    )
    broker = make_broker(settings)
    consumer = Consumer()
    router = KafkaRouter()
    subscribe(
        router,
        settings,
        EventConsumer(broker, settings),
        CaseRouted,
        consumer.on_case_routed,
        description="test",
    )
    broker.include_router(router)
    await broker.start()
    try:
        yield consumer
    finally:
        await broker.stop()


async def test_dead_letters_are_re_driven_to_the_consumer_after_the_fix(
    prefix: str, running: Consumer, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = TopicsSettings(kafka_bootstrap_servers=KAFKA_BOOTSTRAP, kafka_topic_prefix=prefix)
    routed = [encode(CASE_ROUTED, source="/indgang/routing") for _ in range(2)]
    # Undecodable: dead-lettered as well, by the same consumer, but not re-driven below.
    received = encode(INQUIRY_RECEIVED, source="/indgang/intake")
    for record in [*routed, received]:
        await produce(
            KAFKA_BOOTSTRAP,
            f"{prefix}{topic_for(CaseRouted)}",
            record.value,
            record.key.encode(),
            [(k, v.encode()) for k, v in record.headers.items()],
        )
    dead_letter_topic = f"{prefix}{DEAD_LETTER_TOPIC}"
    async with EventLog(KAFKA_BOOTSTRAP, dead_letter_topic) as dead:
        await eventually(lambda: asyncio.sleep(0, len(dead.records) == 3), timeout=60)

    # Listing only: nothing is sent.
    assert await redrive.run(args("--type", "case-routed", "--reason", "KeyError"), settings) == 0
    listed = capsys.readouterr().out
    assert "2 of 3 dead letters" in listed
    assert "nothing sent" in listed
    await asyncio.sleep(1)
    assert running.handled == []

    running.broken = False  # the fix
    assert (
        await redrive.run(
            args("--type", "case-routed", "--since", "2000-01-01", "--apply"), settings
        )
        == 0
    )
    assert "2 re-driven" in capsys.readouterr().out
    handled = await eventually(
        lambda: asyncio.sleep(0, running.handled if len(running.handled) == 2 else None),
        timeout=60,
    )
    assert sorted(handled) == sorted(r.headers["ce_id"] for r in routed)

    # The original record again: key, value, headers, and where it was re-driven from.
    async with EventLog(KAFKA_BOOTSTRAP, f"{prefix}{topic_for(CaseRouted)}") as log:
        await eventually(lambda: asyncio.sleep(0, len(log.records) >= 5), timeout=60)
        again = [r for r in log.records if dict(r.headers).get("indgang_redriven")]
    assert len(again) == 2
    for record in again:
        original = next(
            r for r in routed if r.headers["ce_id"] == dict(record.headers)["ce_id"].decode()
        )
        assert record.value == original.value
        assert record.key == original.key.encode()
        headers = dict(record.headers)
        assert not any(name.startswith("dlt_") for name in headers)
        assert {k: v.encode() for k, v in original.headers.items()}.items() <= headers.items()
    assert not any(
        dict(r.headers).get("ce_type") == InquiryReceived.ce_type().encode() for r in again
    )
