"""Creates indgang's topics idempotently (`indgang-topics`, also run at service start)."""

from __future__ import annotations

import asyncio
import contextlib
import os

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from indgang_contracts.topics import TOPICS


async def ensure_topics(
    bootstrap_servers: str, prefix: str = "", replication_factor: int = 1
) -> list[str]:
    """Create missing topics; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in TOPICS if f"{prefix}{t.name}" not in existing]
        if missing:
            # Another instance may create it at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(f"{prefix}{t.name}", t.partitions, replication_factor)
                        for t in missing
                    ]
                )
        return [t.name for t in missing]
    finally:
        await admin.close()


def main() -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    created = asyncio.run(ensure_topics(bootstrap, prefix))
    for topic in TOPICS:
        state = "created" if topic.name in created else "exists"
        print(f"{prefix}{topic.name:40} partitions={topic.partitions} {state}")
