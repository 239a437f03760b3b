"""Poison records for `make prove`: produce bad records, find them again in the dead-letter topic.

    uv run --frozen python prove/poison.py inject --bootstrap 127.0.0.1:9092 \\
        [--per-topic 50] [--out poison.jsonl] TOPIC...
    uv run --frozen python prove/poison.py find --bootstrap 127.0.0.1:9092 \\
        [--dlq indgang.dead-letter.v1] [--wait 60] POISON.jsonl

Three kinds, in turn, spread over each topic's partitions (explicit partition):

- `not_cloudevent`: random bytes, no headers at all. The marker is the Kafka key
  and the first bytes of the value. Decoder: "not a CloudEvent: ce_id/ce_type
  headers missing".
- `schema_invalid`: the topic's real event type, encoded by the project's own
  `indgang_contracts.envelope.encode` (binary mode: `ce_*` headers, `content-type:
  application/json`) from the contract example, then the JSON data broken: a
  required field removed, or `municipality_code` made a number. Decoder: "invalid
  <ce_type> data: ...".
- `unknown_type`: the same valid headers and valid data, but `ce_type`
  `dk.indgang.prove-unknown.v1`, which no model knows. Decoder: "unknown event type".

Every record's marker is `poison-<uuid>`: the Kafka key of each kind, and also
`ce_id` where there are headers. The consumers dead-letter a bad record with its
key, value and headers unchanged (runtime/src/indgang_runtime/messaging.py,
`EventConsumer._dead_letter_raw`) and add `dlt_reason`, `dlt_original_topic`,
`dlt_original_partition`, `dlt_original_offset`, `dlt_consumer_group` and
`dlt_failed_at` headers, to `<prefix>indgang.dead-letter.v1`; every consumer
group of the topic does so on its own, so one poison record appears once per
group (more than once if a consumer died between dead-lettering and committing).
Topics no service of prove's stack consumes (notification-delivered,
notification-failed: only reporting, which prove does not start) are never
dead-lettered: `expected_groups` says who should.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from stack import SERVICES

from indgang_contracts.envelope import encode
from indgang_contracts.events import EVENT_TYPES, Event
from indgang_contracts.examples import EXAMPLES
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for

KINDS = ("not_cloudevent", "schema_invalid", "unknown_type")
UNKNOWN_TYPE = "dk.indgang.prove-unknown.v1"
SOURCE = "/indgang/prove/poison"
MARKER_PREFIX = "poison-"
ASYNCAPI = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.json"


@dataclass(frozen=True)
class PoisonRecord:
    """One bad record: what was (or will be) produced, and what should become of it."""

    marker: str
    kind: str
    topic: str
    key: bytes
    headers: list[tuple[str, bytes]]
    value: bytes
    # A piece of the reason the consumers' decoder gives for it.
    expected_reason: str
    # For schema_invalid: how the data was broken ("missing <field>", "wrong type <field>").
    defect: str | None = None
    partition: int | None = None
    offset: int | None = None

    def to_json(self) -> dict[str, Any]:
        """For the CLI's output file: bytes as text (value as hex)."""
        out = asdict(self)
        out["key"] = self.key.decode()
        out["headers"] = {name: value.decode(errors="replace") for name, value in self.headers}
        out["value"] = self.value.hex()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PoisonRecord:
        return cls(
            **{
                **data,
                "key": data["key"].encode(),
                "headers": [(k, v.encode()) for k, v in data["headers"].items()],
                "value": bytes.fromhex(data["value"]),
            }
        )


@dataclass
class DeadLetter:
    """What the dead-letter topic(s) hold for one marker: the first record's facts,
    and every group that dead-lettered it (`tries`: how many dead-letter records)."""

    marker: str
    reason: str
    topic: str  # the original topic (dlt_original_topic)
    partition: int | None
    offset: int | None
    dlq_topic: str
    failed_at: str | None
    groups: list[str] = field(default_factory=list)  # one entry per dead-letter record
    reasons: list[str] = field(default_factory=list)

    @property
    def tries(self) -> int:
        return len(self.groups)

    @property
    def tries_by_group(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for group in self.groups:
            counts[group] = counts.get(group, 0) + 1
        return counts


# --- Building ------------------------------------------------------------------


def contract_topic(topic: str) -> tuple[str, str]:
    """(prefix, contract topic name) of a real topic name, e.g. 'test-1.indgang.x.v1'."""
    names = [topic_for(model) for model in EVENT_TYPES.values()] + [DEAD_LETTER_TOPIC]
    for name in names:
        if topic.endswith(name):
            return topic[: -len(name)], name
    raise ValueError(f"{topic!r} is not an indgang topic")


def event_model(topic: str) -> type[Event]:
    """The event type published on `topic` (prefix allowed)."""
    _, name = contract_topic(topic)
    for model in EVENT_TYPES.values():
        if topic_for(model) == name:
            return model
    raise ValueError(f"no event type is published on {topic!r}")


def example(model: type[Event]) -> Event:
    for event in EXAMPLES:
        if type(event) is model:
            return event
    raise LookupError(f"no contract example of {model.__name__}")


def new_marker() -> str:
    return f"{MARKER_PREFIX}{uuid.uuid4()}"


def _required_field(model: type[Event]) -> str:
    """A required field other than municipality_code (the event's own id, as a rule)."""
    required = [
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name != "municipality_code"
    ]
    return required[0] if required else "municipality_code"


def build(topic: str, kind: str, marker: str | None = None, variant: int = 0) -> PoisonRecord:
    """One poison record of `kind` for `topic` (not yet sent). `variant` chooses how
    schema_invalid data is broken: even: a required field missing; odd: a wrong type."""
    marker = marker or new_marker()
    key = marker.encode()
    if kind == "not_cloudevent":
        # Random bytes after the marker; never valid UTF-8 JSON by construction (0xff).
        value = key + b"\xff" + os.urandom(48)
        return PoisonRecord(marker, kind, topic, key, [], value, "not a CloudEvent")
    if kind not in KINDS:
        raise ValueError(f"unknown poison kind {kind!r}; one of {KINDS}")
    model = event_model(topic)
    record = encode(example(model), source=SOURCE, event_id=marker)
    headers = dict(record.headers)
    data = json.loads(record.value)
    if kind == "unknown_type":
        headers["ce_type"] = UNKNOWN_TYPE
        headers["ce_dataschema"] = "urn:indgang:schema:prove-unknown:v1"
        return PoisonRecord(
            marker,
            kind,
            topic,
            key,
            [(name, text.encode()) for name, text in headers.items()],
            record.value,
            "unknown event type",
        )
    if variant % 2 == 0:
        name = _required_field(model)
        data.pop(name)
        defect = f"missing {name}"
    else:
        data["municipality_code"] = 756  # the schema says: a string of three digits
        defect = "wrong type municipality_code"
    return PoisonRecord(
        marker,
        kind,
        topic,
        key,
        [(name, text.encode()) for name, text in headers.items()],
        json.dumps(data, ensure_ascii=False).encode(),
        f"invalid {model.ce_type()} data",
        defect=defect,
    )


def plan(topic: str, per_topic: int, partitions: Sequence[int]) -> list[PoisonRecord]:
    """`per_topic` records for `topic`: the kinds in turn, spread over `partitions`
    so that each kind lands on several of them."""
    if not partitions:
        raise ValueError(f"{topic!r} has no partitions")
    parts = sorted(partitions)
    records = []
    for i in range(per_topic):
        turn, k = divmod(i, len(KINDS))
        # Each kind walks over the partitions, starting at a different one.
        partition = parts[(turn + k) % len(parts)]
        record = build(topic, KINDS[k], variant=turn)
        records.append(_with(record, partition=partition))
    return records


def _with(record: PoisonRecord, **changes: Any) -> PoisonRecord:
    return PoisonRecord(**{**asdict(record), **changes})


# --- Kafka ----------------------------------------------------------------------


async def inject(bootstrap: str, topics: list[str], per_topic: int = 50) -> list[PoisonRecord]:
    """Produce `per_topic` poison records to each topic (acks=all); returns them with
    the partition and offset each got. The topics must exist."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, client_id="prove-poison"
    )
    try:
        await producer.start()  # inside: a failed start must still close the producer
        planned: list[PoisonRecord] = []
        for topic in topics:
            partitions = await producer.partitions_for(topic)
            if not partitions:
                raise ValueError(f"topic {topic!r} does not exist on {bootstrap}")
            planned.extend(plan(topic, per_topic, list(partitions)))
        futures = [
            await producer.send(
                r.topic, r.value, key=r.key, headers=r.headers, partition=r.partition
            )
            for r in planned
        ]
        metadata = await asyncio.gather(*futures)
        return [_with(r, offset=m.offset) for r, m in zip(planned, metadata, strict=True)]
    finally:
        await producer.stop()


def dead_letter_topic(prefix: str = "") -> str:
    return f"{prefix}{DEAD_LETTER_TOPIC}"


def expected_groups(
    topic: str, asyncapi: Path = ASYNCAPI, services: Collection[str] = SERVICES
) -> set[str]:
    """The consumer groups that read `topic` and so each dead-letter a poison record on
    it (from contracts/asyncapi.json, generated from the services' subscribers;
    group = `<prefix>indgang-<service>.<topic>`, one per subscription), of the services
    prove starts (stack.SERVICES: not reporting, whose groups never run there)."""
    prefix, name = contract_topic(topic)
    document = json.loads(asyncapi.read_text(encoding="utf-8"))
    groups = set()
    for operation_id, operation in document.get("operations", {}).items():
        if operation.get("action") != "receive":
            continue
        channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        service = operation_id.split("/", 1)[0]
        if channel.get("address") == name and service in services:
            groups.add(f"{prefix}indgang-{service}.{name}")
    return groups


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics` (those that exist), from fresh cluster metadata.

    `consumer.topics()` fetches the metadata but does not keep it, and
    `partitions_for_topic` knows only topics the consumer subscribed to; so the
    client's metadata is fetched directly."""
    cluster = await consumer._client.fetch_all_metadata()
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(cluster.partitions_for_topic(topic) or ())
    ]


def marker_of(key: bytes | None, headers: Iterable[tuple[str, bytes]]) -> str | None:
    """The poison marker of a record: its ce_id if that is one, else its key."""
    for name, value in headers:
        if name == "ce_id" and value.decode(errors="replace").startswith(MARKER_PREFIX):
            return value.decode(errors="replace")
    if key is not None and key.startswith(MARKER_PREFIX.encode()):
        return key.decode(errors="replace")
    return None


async def dead_letters(
    bootstrap: str,
    dlq_topics: list[str],
    markers: Iterable[str],
    *,
    wait: float = 0.0,
) -> dict[str, DeadLetter]:
    """The dead-lettered poison records among `markers`, read from the beginning of
    `dlq_topics` with a consumer of no group (nothing committed). Reads up to the end
    the topics had when it started; with `wait` > 0, keeps reading new records for up
    to that many seconds while some markers are still missing."""
    wanted = set(markers)
    found: dict[str, DeadLetter] = {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="prove-dead-letters",
    )
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, dlq_topics)
        if not partitions:
            return found
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        positions = {tp: await consumer.position(tp) for tp in partitions}
        deadline = time.monotonic() + wait
        while True:
            caught_up = all(positions[tp] >= end[tp] for tp in partitions)
            if caught_up and (wanted <= found.keys() or time.monotonic() >= deadline):
                break
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for tp, records in batches.items():
                for record in records:
                    positions[tp] = record.offset + 1
                    _collect(found, wanted, tp.topic, record.key, list(record.headers or ()))
            for tp in partitions:
                positions[tp] = await consumer.position(tp)
        return found
    finally:
        await consumer.stop()


def _collect(
    found: dict[str, DeadLetter],
    wanted: set[str],
    dlq_topic: str,
    key: bytes | None,
    headers: list[tuple[str, bytes]],
) -> None:
    marker = marker_of(key, headers)
    if marker is None or marker not in wanted:
        return
    text = {name: value.decode(errors="replace") for name, value in headers}
    reason = text.get("dlt_reason", "")
    group = text.get("dlt_consumer_group", "")
    letter = found.get(marker)
    if letter is None:
        partition = text.get("dlt_original_partition")
        offset = text.get("dlt_original_offset")
        letter = found[marker] = DeadLetter(
            marker=marker,
            reason=reason,
            topic=text.get("dlt_original_topic", ""),
            partition=int(partition) if partition and partition.isdigit() else None,
            offset=int(offset) if offset and offset.isdigit() else None,
            dlq_topic=dlq_topic,
            failed_at=text.get("dlt_failed_at"),
        )
    letter.groups.append(group)
    letter.reasons.append(reason)


# --- CLI ------------------------------------------------------------------------


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    put = commands.add_parser("inject", help="produce poison records; one JSON line each")
    put.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    put.add_argument("--per-topic", type=int, default=50)
    put.add_argument("--out", type=Path, help="write the records here (default: stdout)")
    put.add_argument("topics", nargs="+")
    get = commands.add_parser("find", help="match a poison file against the dead-letter topic")
    get.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    get.add_argument("--dlq", action="append", help="dead-letter topic(s); default: by prefix")
    get.add_argument("--wait", type=float, default=0.0, help="seconds to wait for missing ones")
    get.add_argument("poison", type=Path, help="the file `inject --out` wrote")
    return parser.parse_args(argv)


async def _main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.command == "inject":
        records = await inject(args.bootstrap, args.topics, args.per_topic)
        lines = "".join(json.dumps(r.to_json()) + "\n" for r in records)
        if args.out:
            args.out.write_text(lines, encoding="utf-8")
        else:
            sys.stdout.write(lines)
        return 0
    poison = [
        PoisonRecord.from_json(json.loads(line))
        for line in args.poison.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    dlqs = args.dlq or sorted({dead_letter_topic(contract_topic(p.topic)[0]) for p in poison})
    found = await dead_letters(args.bootstrap, dlqs, [p.marker for p in poison], wait=args.wait)
    missing = 0
    for p in poison:
        letter = found.get(p.marker)
        expected = expected_groups(p.topic)
        groups = letter.tries_by_group if letter else {}
        ok = set(groups) == expected and (
            letter is None or all(p.expected_reason in reason for reason in letter.reasons)
        )
        missing += not ok
        print(
            json.dumps(
                {
                    "marker": p.marker,
                    "kind": p.kind,
                    "topic": p.topic,
                    "ok": ok,
                    "expected_groups": sorted(expected),
                    "groups": groups,
                    "reason": letter.reason if letter else None,
                }
            )
        )
    print(f"{len(poison) - missing}/{len(poison)} as expected", file=sys.stderr)
    return 1 if missing else 0


def main() -> None:
    raise SystemExit(asyncio.run(_main()))


if __name__ == "__main__":
    main()
