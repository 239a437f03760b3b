"""Consumer lag, sampled every second from outside: for each service's consumer group and
each partition it reads, the end offset minus the group's committed offset. A partition
*stalls* while it has lag and its committed offset does not move."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from poison import partitions_of
from stack import SERVICES

ROOT = Path(__file__).resolve().parents[1]


def subscriptions(services: Collection[str] = SERVICES) -> dict[str, list[str]]:
    """Service -> the topics it consumes, from the committed AsyncAPI document, for the
    services prove starts (stack.SERVICES) only: the group of one it does not run
    (reporting) never commits, so its lag would only grow and count as a stall, and the
    poison put on a topic only such a service reads would wait for a dead letter in vain."""
    doc = json.loads((ROOT / "contracts" / "asyncapi.json").read_text())
    channels = doc["channels"]
    found: dict[str, list[str]] = {}
    for key, op in doc["operations"].items():
        if op["action"] != "receive" or key.split("/")[0] not in services:
            continue
        channel = channels[op["channel"]["$ref"].rsplit("/", 1)[-1]]
        found.setdefault(key.split("/")[0], []).append(channel["address"])
    return found


@dataclass
class Sample:
    t: float
    lag: dict[str, int]  # group -> total lag


@dataclass
class Tracker:
    committed: int = -1
    since: float = 0.0  # when it last moved, or had no lag
    stalls: dict[float, float] = field(default_factory=dict)  # stall start -> last seen

    def stalled_for(self, excluded: list[tuple[float, float]]) -> float:
        """The longest stall, not counting the time inside `excluded` intervals."""
        return max(
            (end - start - sum(max(0.0, min(end, b) - max(start, a)) for a, b in excluded)
             for start, end in self.stalls.items()),
            default=0.0,
        )  # fmt: skip


@dataclass
class LagWatch:
    bootstrap: str
    prefix: str
    samples: list[Sample] = field(default_factory=list)
    trackers: dict[tuple[str, str, int], Tracker] = field(default_factory=dict)
    gaps: int = 0  # samples that failed (the broker was down)

    def groups(self) -> dict[str, list[str]]:
        # One group per subscription (`indgang_runtime.messaging.consumer_group`).
        return {
            f"{self.prefix}indgang-{service}.{t}": [self.prefix + t]
            for service, topics in subscriptions().items()
            for t in topics
        }

    async def run(self, stop: asyncio.Event) -> None:
        groups = self.groups()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, request_timeout_ms=5000
        )
        await admin.start()
        await consumer.start()
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(self.sample(admin, consumer, groups), 5)
                except Exception:  # the broker is down or electing: a gap, try again
                    self.gaps += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            await consumer.stop()
            await admin.close()

    async def sample(
        self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, groups: dict[str, list[str]]
    ) -> Sample:
        tps = await partitions_of(consumer, {t for topics in groups.values() for t in topics})
        ends = await consumer.end_offsets(tps)
        t = time.time()
        lag: dict[str, int] = {}
        for group, topics in groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            total = 0
            for tp, end in ends.items():
                if tp.topic not in topics:
                    continue
                meta = committed.get(tp)
                offset = meta.offset if meta is not None and meta.offset >= 0 else 0
                behind = max(0, end - offset)
                total += behind
                tracker = self.trackers.setdefault(
                    (group, tp.topic, tp.partition), Tracker(offset, t)
                )
                if offset != tracker.committed or behind == 0:
                    tracker.committed, tracker.since = offset, t
                if behind:
                    tracker.stalls[tracker.since] = t
            lag[group] = total
        sample = Sample(t, lag)
        self.samples.append(sample)
        return sample

    def longest_stall(self, excluded: list[tuple[float, float]] = []) -> tuple[float, str]:  # noqa: B006
        """The longest a partition with lag went without its group committing, and where;
        time inside `excluded` (e.g. while the only broker was down) not counted."""
        if not self.trackers:
            return 0.0, ""
        key, tracker = max(self.trackers.items(), key=lambda kv: kv[1].stalled_for(excluded))
        return tracker.stalled_for(excluded), f"{key[0]} {key[1]}[{key[2]}]"

    def final_lag(self) -> dict[str, int]:
        return self.samples[-1].lag if self.samples else {}


@dataclass
class WriteProbe:
    """Whether the cluster takes writes, asked from outside every second: one `acks=all`
    record to each partition of a probe topic of the run's own (replicated as the
    cluster's topics are). While any fails, the cluster itself is in trouble (its only
    broker down, two of three down, or a failover under way), and the stall check does
    not count that time against the services."""

    bootstrap: str
    topic: str
    replication: int
    probes: list[tuple[float, bool]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.admin import NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        await admin.start()
        try:
            configs = {"min.insync.replicas": "2"} if self.replication >= 3 else {}
            await admin.create_topics(
                [NewTopic(self.topic, 6, self.replication, topic_configs=configs)]
            )
        finally:
            await admin.close()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", request_timeout_ms=3000, linger_ms=0
        )
        await producer.start()
        try:
            while not stop.is_set():
                t = time.time()
                try:
                    await asyncio.wait_for(
                        asyncio.gather(
                            *(
                                producer.send_and_wait(self.topic, b"probe", partition=p)
                                for p in range(6)
                            )
                        ),
                        4,
                    )
                    self.probes.append((t, True))
                except Exception:
                    self.probes.append((t, False))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, 1.0 - (time.time() - t)))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    def outages(self) -> list[tuple[float, float]]:
        """From each first failed probe to the next probe that went through."""
        found, since = [], None
        for t, ok in self.probes:
            if not ok and since is None:
                since = t
            elif ok and since is not None:
                found.append((since, t))
                since = None
        if since is not None:
            found.append((since, self.probes[-1][0]))
        return found
