"""Seeing what the system did, from outside: independent Kafka readers and guide's API.

A `Watch` reads every partition of one topic with no consumer group, from the end
offsets it resolved before the first send: it takes nothing from the services, joins
no group (no rebalances) and sees every output. It keeps, per inquiry, when it first
saw a record and which CloudEvent ids it saw, so a second *different* event for one
inquiry (a duplicated effect) can be told from the same event delivered twice (a
redelivery, which the design allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import h11
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from http1 import Client
from prometheus_client.parser import text_string_to_metric_families

from indgang_runtime.http_security import DEVELOPMENT_GUIDE_READER_KEY

now = time.perf_counter
KeyOf = Callable[[dict[str, Any]], str | None]


def by_inquiry(body: dict[str, Any]) -> str | None:
    value = body.get("inquiry_id")
    return str(value) if value else None


def receipt_of_inquiry(body: dict[str, Any]) -> str | None:
    """notification-delivered of the inquirer's receipt (its other mails do not count)."""
    return by_inquiry(body) if body.get("message_kind") == "receipt" else None


async def partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Partitions per topic; describe_topics, unlike a consumer, never auto-creates one."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    counts = {t["topic"]: len(t["partitions"]) for t in described if not t["error_code"]}
    if missing := [t for t in topics if not counts.get(t)]:
        raise LookupError(f"topics missing: {missing}")
    return counts


class Watch:
    def __init__(
        self, bootstrap: str, topic: str, key_of: KeyOf = by_inquiry, keep: str | None = None
    ) -> None:
        self.topic = topic
        self.key_of = key_of
        self.keep = keep  # a body field to remember per key (e.g. case_id)
        self.first: dict[str, float] = {}
        self.ids: dict[str, set[str]] = {}
        self.records: Counter[str] = Counter()
        self.kept: dict[str, str] = {}
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        self._task: asyncio.Task[None] | None = None

    async def start(self, partitions: int) -> None:
        tps = [TopicPartition(self.topic, p) for p in range(partitions)]
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:
            await self._consumer.position(tp)  # resolves the end offset now, not lazily
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            t = now()
            for records in batches.values():
                for record in records:
                    self._note(t, record.value, record.headers)

    def _note(self, t: float, value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> None:
        try:
            body = json.loads(value or b"")
        except ValueError:
            return
        if not isinstance(body, dict) or (key := self.key_of(body)) is None:
            return
        ce_id = next((v.decode() for k, v in headers if k == "ce_id"), "")
        self.records[key] += 1
        self.ids.setdefault(key, set()).add(ce_id)
        self.first.setdefault(key, t)
        if self.keep and key not in self.kept and body.get(self.keep):
            self.kept[key] = str(body[self.keep])

    def missing(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k not in self.first}

    async def wait_for(self, keys: set[str], until: float) -> bool:
        """Whether all keys were seen before `until` (perf_counter); _pump takes the times."""
        while self.missing(keys) and now() < until:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return not self.missing(keys)

    def duplicated(self, keys: Iterable[str]) -> int:
        """Keys with more than one distinct CloudEvent id: the effect happened twice."""
        return sum(1 for k in keys if len(self.ids.get(k, ())) > 1)

    def redelivered(self, keys: Iterable[str]) -> int:
        """Records beyond the first of each CloudEvent id: the same event seen again."""
        return sum(self.records[k] - len(self.ids[k]) for k in keys if k in self.ids)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()


async def stored_recommendations(
    guide_url: str, case_ids: Iterable[str], until: float, concurrency: int = 8
) -> set[str]:
    """The cases for which guide's API has recommendations, asked until all have them or
    `until` (perf_counter) passes; at least once each, so a late check still counts what is
    there. Asked after the step's sending, so the questions do not load the step itself."""
    wanted, found = set(case_ids), set[str]()
    # Recommendations are for staff and routing only (issue 12): the bench asks as routing
    # does, with the guide reader key its development stack accepts; on the bench's own
    # client, as the inquirers: these questions run during the drain, beside late inquiries.
    key = [("Authorization", f"Bearer {DEVELOPMENT_GUIDE_READER_KEY}")]
    http = Client(guide_url, concurrency, headers=key)

    async def ask(case_id: str) -> None:
        with contextlib.suppress(OSError, h11.ProtocolError, TimeoutError):
            path = f"/api/v1/guide/recommendations/{case_id}"
            status, _ = await http.request("GET", path)
            if status == 200:
                found.add(case_id)

    try:
        while True:
            await asyncio.gather(*(ask(c) for c in wanted - found))
            if found >= wanted or now() >= until:
                return found
            await asyncio.sleep(1.0)
    finally:
        await http.close()


async def store_commands(service_urls: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each service's store commands so far (`indgang_store_commands_total` on its
    /metrics, open in development) by "command collection"; a service that does not
    answer is left out."""

    async def one(http: httpx.AsyncClient, url: str) -> dict[str, float] | None:
        try:
            response = await http.get(url + "/metrics")
            response.raise_for_status()
        except httpx.HTTPError:
            return None
        return {
            f"{sample.labels['command']} {sample.labels['collection']}": sample.value
            for family in text_string_to_metric_families(response.text)
            if family.name == "indgang_store_commands"
            for sample in family.samples
            if sample.name == "indgang_store_commands_total"
        }

    async with httpx.AsyncClient(timeout=10) as http:
        counts = await asyncio.gather(*(one(http, u) for u in service_urls.values()))
    return {name: c for name, c in zip(service_urls, counts, strict=True) if c is not None}


def commands_between(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """The commands each service sent between two readings, by "command collection"."""
    return {
        service: {
            kind: n - before[service].get(kind, 0.0)
            for kind, n in sorted(counted.items())
            if n > before[service].get(kind, 0.0)
        }
        for service, counted in after.items()
        if service in before
    }
