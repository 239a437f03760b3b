"""Reading what the system did from outside, after the drain: every record of the run's
topics from the beginning, with a consumer of the prove's own (no group: it takes nothing
from the services and joins nothing), and the JSON lines of the flaky SMTP server and
webhook receiver."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from poison import partitions_of


@dataclass(frozen=True)
class Record:
    topic: str  # without the run's prefix, e.g. "indgang.case-routed.v1"
    partition: int
    offset: int
    timestamp_ms: int
    headers: dict[str, str]
    body: dict[str, Any] | None  # None: not a JSON object (poison, for instance)

    @property
    def ce_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def ce_type(self) -> str:
        return self.headers.get("ce_type", "")


async def read_all(bootstrap: str, prefix: str, timeout_s: float = 120) -> list[Record]:
    """Every record of every topic with `prefix`, up to the end offsets taken first."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, max_partition_fetch_bytes=4 * 1024 * 1024
    )
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(prefix)]
        tps = await partitions_of(consumer, topics)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        left = {tp for tp, end in ends.items() if end > 0}
        records: list[Record] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while left and loop.time() < deadline:
            batches = await consumer.getmany(*left, timeout_ms=1000, max_records=5000)
            for tp, batch in batches.items():
                for r in batch:
                    record = _record(prefix, r)
                    if not record.ce_id.startswith("poison-"):  # the prove's own poison
                        records.append(record)
                    if r.offset + 1 >= ends[tp]:
                        left.discard(tp)
        if left:
            raise TimeoutError(f"could not read to the end of {sorted(map(str, left))}")
        return records
    finally:
        await consumer.stop()


def _record(prefix: str, r: Any) -> Record:
    headers = {k: v.decode(errors="replace") for k, v in (r.headers or ())}
    try:
        body = json.loads(r.value or b"")
    except (ValueError, UnicodeDecodeError):
        body = None
    return Record(
        r.topic.removeprefix(prefix),
        r.partition,
        r.offset,
        r.timestamp,
        headers,
        body if isinstance(body, dict) else None,
    )


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.strip():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue  # a line cut off by the kill of the writer
    return lines
