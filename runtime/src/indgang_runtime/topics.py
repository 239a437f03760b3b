"""Creates indgang's topics idempotently (`indgang-topics`, also run at service start).

The replication factor is the cluster's own `default.replication.factor` unless one is
given (`KAFKA_TOPIC_REPLICATION_FACTOR` for `indgang-topics`): 1 on the single local
broker, 3 on the three-broker cluster (`KAFKA_BROKERS=3 bash deploy/infra.sh up`).
Topics replicated three times or more get `min.insync.replicas=2`, so an `acks=all`
write is on two brokers before it is acknowledged and one broker may be down.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from indgang_contracts.topics import TOPICS
from indgang_runtime.kafka_security import client_options
from indgang_runtime.settings import TopicsSettings

# Kafka error codes in a CreateTopics answer.
_TOPIC_ALREADY_EXISTS = 36


def min_insync_replicas(replication_factor: int) -> int:
    """Two in-sync copies once there are three, so one broker can be lost; else one."""
    return 2 if replication_factor >= 3 else 1


def _default_replication_factor(configs: list[Any], brokers: int) -> int:
    """The broker's `default.replication.factor` from a DescribeConfigs answer; the
    number of brokers (at most 3) when it cannot be read."""
    for response in configs:
        for resource in response.resources:
            for entry in resource[4]:
                if entry[0] == "default.replication.factor" and str(entry[1]).isdigit():
                    return max(1, int(entry[1]))
    return max(1, min(3, brokers))


async def cluster_replication_factor(admin: AIOKafkaAdminClient) -> int:
    """The replication factor the cluster gives a topic created without one."""
    cluster = await admin.describe_cluster()
    brokers = cluster.get("brokers") or []
    if not brokers:
        return 1
    configs = await admin.describe_configs(
        [
            ConfigResource(
                ConfigResourceType.BROKER,
                str(brokers[0]["node_id"]),
                {"default.replication.factor": None},
            )
        ]
    )
    return _default_replication_factor(configs, len(brokers))


def new_topics(names: list[tuple[str, int]], replication_factor: int) -> list[NewTopic]:
    """The topics to create, with `min.insync.replicas` set from the replication factor."""
    configs = {"min.insync.replicas": str(min_insync_replicas(replication_factor))}
    return [
        NewTopic(name, partitions, replication_factor, topic_configs=configs)
        for name, partitions in names
    ]


def _raise_on_errors(response: Any) -> None:
    # aiokafka returns per-topic errors instead of raising them. A topic that exists
    # already was created by another instance at the same moment: fine.
    for item in getattr(response, "topic_errors", []):
        topic, code = item[0], item[1]
        if code not in (0, _TOPIC_ALREADY_EXISTS):
            message = item[2] if len(item) > 2 and item[2] else f"error code {code}"
            raise RuntimeError(f"creating topic {topic} failed: {message}")


async def ensure_topics(
    bootstrap_servers: str,
    prefix: str = "",
    replication_factor: int | None = None,
    **client: Any,
) -> list[str]:
    """Create missing topics; returns the names created. `replication_factor=None`
    uses the cluster's `default.replication.factor`. `client`: connection options
    (security, `kafka_security.client_options`)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **client
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in TOPICS if f"{prefix}{t.name}" not in existing]
        if missing:
            factor = replication_factor or await cluster_replication_factor(admin)
            response = await admin.create_topics(
                new_topics([(f"{prefix}{t.name}", t.partitions) for t in missing], factor)
            )
            _raise_on_errors(response)
        return [t.name for t in missing]
    finally:
        await admin.close()


def main() -> None:
    settings = TopicsSettings()
    prefix = settings.kafka_topic_prefix
    created = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap_servers,
            prefix,
            settings.kafka_topic_replication_factor,
            **client_options(settings),
        )
    )
    for topic in TOPICS:
        state = "created" if topic.name in created else "exists"
        print(f"{prefix}{topic.name:40} partitions={topic.partitions} {state}")
