"""Re-drives dead letters after a fix: reads the dead-letter topic, keeps the records
that match the filters, and republishes each one's original record — its key, value
and headers, without the `dlt_*` headers the dead-lettering added — to the topic it
came from (`dlt_original_topic`). docs/operations.md, "Re-driving dead letters".

    uv run python tools/redrive.py --type case-routed --since 2026-12-01T08:00   # list
    uv run python tools/redrive.py --type case-routed --since 2026-12-01T08:00 --apply

Without `--apply` it only lists what it would re-drive (partition:offset, when, event
type, original topic, consumer group, reason; never the record's content). It reads
the dead-letter topic from its beginning to its end at the start, with no consumer
group, so it commits nothing and can be run again. Every consumer group of the
original topic receives a re-driven record again; they all deduplicate on the
CloudEvent id (`ce_id`), so only the group that failed does the work. A record that
fails again is dead-lettered again, with `indgang_redriven` telling where it came
from. The key is the original's, so the record goes to its key's partition (after
the records already there).

Where the broker is, and how to sign in, as `indgang-topics`: KAFKA_BOOTSTRAP_SERVERS,
KAFKA_TOPIC_PREFIX, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_FILE (with a
principal allowed to read the dead-letter topic and write the original topics).
Exit status: 0 done (also when nothing matched), 1 a publish failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from indgang_contracts.topics import DEAD_LETTER_TOPIC
from indgang_runtime.kafka_security import client_options
from indgang_runtime.settings import TopicsSettings

# What indgang_runtime.messaging.EventConsumer adds when it dead-letters a record.
DLT_HEADERS = frozenset(
    {
        "dlt_reason",
        "dlt_original_topic",
        "dlt_original_partition",
        "dlt_original_offset",
        "dlt_consumer_group",
        "dlt_failed_at",
    }
)
# Added to a re-driven record: the dead letter it was re-driven from, and when.
REDRIVEN_HEADER = "indgang_redriven"


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for header_name, value in self.headers:
            if header_name == name:
                return value.decode(errors="replace")
        return None

    @property
    def original_topic(self) -> str | None:
        return self.header("dlt_original_topic")

    @property
    def reason(self) -> str:
        return self.header("dlt_reason") or ""

    @property
    def event_type(self) -> str:
        return self.header("ce_type") or ""

    @property
    def consumer_group(self) -> str:
        return self.header("dlt_consumer_group") or ""

    @property
    def failed_at(self) -> datetime | None:
        text = self.header("dlt_failed_at")
        try:
            return aware(datetime.fromisoformat(text)) if text else None
        except ValueError:
            return None

    def original_headers(self, dead_letter_topic: str, now: datetime) -> list[tuple[str, bytes]]:
        """The headers the original record had, and where it was re-driven from."""
        kept = [
            (name, value)
            for name, value in self.headers
            if name not in DLT_HEADERS and name != REDRIVEN_HEADER
        ]
        where = f"{dead_letter_topic}/{self.partition}/{self.offset} at {now.isoformat()}"
        return [*kept, (REDRIVEN_HEADER, where.encode())]

    def line(self) -> str:
        """What the listing shows: where, when, what and why; never the content."""
        when = self.failed_at.isoformat(timespec="seconds") if self.failed_at else "?"
        return (
            f"{self.partition}:{self.offset}  {when}  {self.event_type or '-'}  "
            f"{self.original_topic or '-'}  {self.consumer_group or '-'}  {self.reason[:160]}"
        )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """Which dead letters to re-drive; an empty criterion selects everything."""

    reason: re.Pattern[str] | None = None
    types: frozenset[str] = field(default_factory=frozenset)
    topics: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, letter: DeadLetter, prefix: str = "") -> bool:
        if letter.original_topic is None:
            return False  # not written by our dead-lettering: nowhere to send it
        if self.reason is not None and not self.reason.search(letter.reason):
            return False
        if self.types and not any(type_matches(t, letter.event_type) for t in self.types):
            return False
        if self.topics and letter.original_topic not in {
            name for t in self.topics for name in (t, f"{prefix}{t}")
        }:
            return False
        if self.groups and letter.consumer_group not in self.groups:
            return False
        failed_at = letter.failed_at
        if self.since is not None and (failed_at is None or failed_at < self.since):
            return False
        return not (self.until is not None and (failed_at is None or failed_at >= self.until))


def type_matches(wanted: str, event_type: str) -> bool:
    """`case-routed` matches `dk.indgang.case-routed.v1`; a full type matches itself."""
    if wanted == event_type:
        return True
    return event_type.startswith("dk.indgang.") and event_type.split(".")[2] == wanted


async def read_dead_letters(
    bootstrap: str, topic: str, options: dict[str, Any] | None = None
) -> list[DeadLetter]:
    """Every record of `topic` from its beginning to its end now; no consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(options or {}),
    )
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return []
        # Subscribing (without a group) brings the topic's partitions into the metadata;
        # then they are assigned by hand, to read each to the end it has now.
        consumer.subscribe([topic])
        partitions: set[int] = set()
        for _ in range(50):
            partitions = consumer.partitions_for_topic(topic) or set()
            if partitions:
                break
            await asyncio.sleep(0.1)
        consumer.unsubscribe()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await consumer.end_offsets(assigned)
        letters: list[DeadLetter] = []
        remaining = {tp for tp in assigned if end[tp] > 0}
        for tp in assigned:
            if end[tp] > 0 and await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < end[tp]:
                        letters.append(
                            DeadLetter(
                                partition=tp.partition,
                                offset=record.offset,
                                key=record.key,
                                value=record.value,
                                headers=tuple(record.headers or ()),
                            )
                        )
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return letters
    finally:
        await consumer.stop()


async def republish(
    bootstrap: str,
    letters: Sequence[DeadLetter],
    dead_letter_topic: str,
    options: dict[str, Any] | None = None,
) -> int:
    """Send each letter's original record back to its topic; the number sent."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **(options or {})
    )
    await producer.start()
    try:
        now = datetime.now(UTC)
        for letter in letters:
            assert letter.original_topic is not None  # Selection.matches keeps only these
            await producer.send_and_wait(
                letter.original_topic,
                letter.value,
                key=letter.key,
                headers=letter.original_headers(dead_letter_topic, now),
            )
        return len(letters)
    finally:
        await producer.stop()


def moment(text: str) -> datetime:
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO time (2026-12-01T08:00, UTC unless it says otherwise)"
        ) from None


def pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression: {exc}") from None


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/redrive.py",
        description="Re-drive records from the dead-letter topic to their original topics.",
    )
    parser.add_argument("--reason", type=pattern, help="regular expression on dlt_reason")
    parser.add_argument(
        "--type",
        action="append",
        default=[],
        help="event name (case-routed) or CloudEvent type; repeatable",
    )
    parser.add_argument(
        "--topic",
        action="append",
        default=[],
        help="original topic (indgang.case-routed.v1; the prefix is added); repeatable",
    )
    parser.add_argument(
        "--group", action="append", default=[], help="consumer group that failed; repeatable"
    )
    parser.add_argument("--since", type=moment, help="dead-lettered at or after (ISO time)")
    parser.add_argument("--until", type=moment, help="dead-lettered before (ISO time)")
    parser.add_argument("--limit", type=int, help="re-drive at most this many (the oldest)")
    parser.add_argument(
        "--apply", action="store_true", help="republish; without it only list what would be"
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, settings: TopicsSettings) -> int:
    options = client_options(settings)
    dead_letter_topic = f"{settings.kafka_topic_prefix}{DEAD_LETTER_TOPIC}"
    selection = Selection(
        reason=args.reason,
        types=frozenset(args.type),
        topics=frozenset(args.topic),
        groups=frozenset(args.group),
        since=args.since,
        until=args.until,
    )
    letters = await read_dead_letters(settings.kafka_bootstrap_servers, dead_letter_topic, options)
    chosen = [
        letter for letter in letters if selection.matches(letter, settings.kafka_topic_prefix)
    ]
    chosen.sort(key=lambda letter: letter.failed_at or datetime.min.replace(tzinfo=UTC))
    if args.limit is not None:
        chosen = chosen[: args.limit]
    for letter in chosen:
        print(letter.line())
    print(f"{len(chosen)} of {len(letters)} dead letters in {dead_letter_topic} match", end="")
    if not args.apply:
        print("; nothing sent (add --apply to re-drive them)")
        return 0
    try:
        sent = await republish(settings.kafka_bootstrap_servers, chosen, dead_letter_topic, options)
    except Exception as exc:
        print(f"; re-driving failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"; {sent} re-driven to their original topics")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return asyncio.run(run(args, TopicsSettings()))


if __name__ == "__main__":
    raise SystemExit(main())
