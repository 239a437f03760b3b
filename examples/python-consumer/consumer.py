"""A department's consumer of indgang's events, on aiokafka and the contracts package.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 GROUP_ID=jobcenter-indgang \
        python examples/python-consumer/consumer.py indgang.referral-made.v1

What it shows (docs/integrators.md, "Rules"):
- its own consumer group (never one of indgang's `indgang-<service>…` groups);
- each record decoded with `indgang_contracts.decode`, which checks the CloudEvents
  headers and validates the data against the event model (the same rules as the JSON
  Schemas in contracts/schemas/), including formats such as `email` and `date`;
- deduplication on `ce_id` (delivery is at least once), in a SQLite table here;
- a record it cannot handle is parked (here: appended to a JSON-lines file, with the
  reason) and the consumer moves on; it never writes to indgang's dead-letter topic;
- the offset is committed after a record was handled or parked, never before.

Environment: KAFKA_BOOTSTRAP_SERVERS (127.0.0.1:9092), GROUP_ID (example-department),
TOPIC_PREFIX (''), SEEN_DB and PARKED_FILE (seen.sqlite3 and parked.jsonl next to this
file), MAX_RECORDS
(stop after that many; 0 = run until Ctrl-C), AUTO_OFFSET_RESET (earliest).
It prints one JSON line per record: {"outcome": "handled"|"duplicate"|"parked", ...}.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from indgang_contracts import Envelope, Event, InvalidEvent, ReferralMade, decode

HERE = Path(__file__).resolve().parent


class SeenEvents:
    """The ce_ids already handled. Keep them at least as long as the topic's retention."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (ce_id TEXT PRIMARY KEY, at TEXT)")

    def first_time(self, ce_id: str) -> bool:
        """Records `ce_id`; False when it was there already."""
        with self._db:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO seen VALUES (?, ?)", (ce_id, datetime.now(UTC).isoformat())
            )
        return cursor.rowcount == 1


def park(path: str, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
    """Keep a record we cannot handle, with why, for a person to look at; then move on."""
    entry = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": (record.key or b"").decode(errors="replace"),
        "headers": {k: v.decode(errors="replace") for k, v in record.headers},
        "value": (record.value or b"").decode(errors="replace"),
        "reason": reason,
        "parked_at": datetime.now(UTC).isoformat(),
    }
    with open(path, "a", encoding="utf-8") as parked:
        parked.write(json.dumps(entry, ensure_ascii=False) + "\n")


def handle(envelope: Envelope[Event]) -> dict[str, str]:
    """The department's own work. Here: pick out what a job centre would act on."""
    event = envelope.data
    summary = {"type": envelope.type, "subject": envelope.subject or ""}
    if isinstance(event, ReferralMade):
        # `reference` is the case's reference, the one the enterprise knows and quotes;
        # `consultant` is indgang's owner of the case, whom to call back.
        summary |= {
            "reference": event.reference,
            "department": event.target.department.value,
            "consultant": event.consultant.name,
        }
    return summary


async def consume(topics: Sequence[str]) -> int:
    prefix = os.environ.get("TOPIC_PREFIX", "")
    seen = SeenEvents(os.environ.get("SEEN_DB", str(HERE / "seen.sqlite3")))
    parked_file = os.environ.get("PARKED_FILE", str(HERE / "parked.jsonl"))
    limit = int(os.environ.get("MAX_RECORDS", "0"))
    consumer = AIOKafkaConsumer(
        *(f"{prefix}{t}" for t in topics),
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        group_id=os.environ.get("GROUP_ID", "example-department"),
        enable_auto_commit=False,
        auto_offset_reset=os.environ.get("AUTO_OFFSET_RESET", "earliest"),
    )
    await consumer.start()
    count = 0
    try:
        async for record in consumer:
            try:
                envelope = decode(list(record.headers), record.value, record.key)
            except InvalidEvent as exc:
                park(parked_file, record, exc.reason)
                result = {"outcome": "parked", "reason": exc.reason}
            else:
                if seen.first_time(envelope.id):
                    result = {"outcome": "handled", "ce_id": envelope.id, **handle(envelope)}
                else:
                    result = {"outcome": "duplicate", "ce_id": envelope.id}
            # Commit only what was handled or parked: a crash before this line means
            # the record comes again, and the ce_id table drops the repeat.
            tp = TopicPartition(record.topic, record.partition)
            await consumer.commit({tp: record.offset + 1})
            print(json.dumps(result, ensure_ascii=False), flush=True)
            count += 1
            if limit and count >= limit:
                break
    finally:
        await consumer.stop()
    return count


def main() -> None:
    topics = sys.argv[1:] or ["indgang.referral-made.v1"]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(consume(topics))


if __name__ == "__main__":
    main()
