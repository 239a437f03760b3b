"""How `indgang-topics` replicates the topics it creates: the cluster's default
replication factor (1 on the local broker, 3 on the three-broker cluster) and two
in-sync replicas once there are three copies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from indgang_runtime.topics import (
    _default_replication_factor,
    _raise_on_errors,
    min_insync_replicas,
    new_topics,
)


def test_three_copies_need_two_in_sync_fewer_need_one() -> None:
    assert [min_insync_replicas(rf) for rf in (1, 2, 3, 5)] == [1, 1, 2, 2]


def test_new_topics_carry_the_replication_factor_and_min_insync() -> None:
    single, cluster = new_topics([("a", 6)], 1)[0], new_topics([("a", 6), ("b", 3)], 3)
    assert (single.replication_factor, single.topic_configs) == (
        1,
        {"min.insync.replicas": "1"},
    )
    assert [(t.name, t.num_partitions, t.replication_factor) for t in cluster] == [
        ("a", 6, 3),
        ("b", 3, 3),
    ]
    assert cluster[0].topic_configs == {"min.insync.replicas": "2"}


def describe_configs_answer(*entries: tuple[str, str]) -> list[object]:
    # DescribeConfigsResponse: resources of (error, message, type, name, entries).
    resource = (0, "", 4, "1", [(name, value, False, False, False) for name, value in entries])
    return [SimpleNamespace(resources=[resource])]


def test_the_broker_default_replication_factor_is_used() -> None:
    answer = describe_configs_answer(("default.replication.factor", "3"))
    assert _default_replication_factor(answer, brokers=3) == 3
    answer = describe_configs_answer(("default.replication.factor", "1"))
    assert _default_replication_factor(answer, brokers=3) == 1


def test_without_the_broker_setting_the_broker_count_decides_up_to_three() -> None:
    assert _default_replication_factor(describe_configs_answer(), brokers=1) == 1
    assert _default_replication_factor(describe_configs_answer(), brokers=5) == 3


def test_create_errors_are_raised_but_an_existing_topic_is_fine() -> None:
    _raise_on_errors(SimpleNamespace(topic_errors=[("a", 0, None), ("b", 36, "exists")]))
    with pytest.raises(RuntimeError, match="InvalidReplicationFactor"):
        _raise_on_errors(
            SimpleNamespace(topic_errors=[("a", 38, "InvalidReplicationFactor: 3 > 2")])
        )
