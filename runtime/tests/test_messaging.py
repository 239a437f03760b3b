"""Kafka helpers beside the consumer (see test_consumer.py): retrying transient faults,
the options every subscriber uses, publishing under the topic prefix, and the relay as
the settings configure it."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from faststream import AckPolicy
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from indgang_contracts.envelope import encode
from indgang_contracts.examples import CASE_ROUTED
from indgang_runtime.messaging import (
    make_broker,
    outbox_relay,
    publish_record,
    retry_transient,
    subscriber_options,
)
from indgang_runtime.settings import ServiceSettings


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(
        **{"service_name": "routing", "mongodb_database": "r", "http_port": 8002, **values}
    )


class Flaky:
    """An action that fails with `error` `failures` times, then answers."""

    def __init__(self, error: BaseException, failures: int) -> None:
        self.error = error
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("store failover"),
        DuplicateKeyError("another instance got there first"),
        KafkaConnectionError(),
        ConnectionRefusedError(),
        TimeoutError(),
    ],
)
async def test_transient_faults_are_retried_until_the_action_succeeds(
    error: BaseException,
) -> None:
    action = Flaky(error, failures=3)
    assert await retry_transient(action, first_delay=0) == "done"
    assert action.calls == 4


async def test_after_the_last_attempt_the_fault_propagates() -> None:
    action = Flaky(AutoReconnect("still down"), failures=10)
    with pytest.raises(AutoReconnect):
        await retry_transient(action, attempts=3, first_delay=0)
    assert action.calls == 3  # the subscriber then rewinds: nothing is lost


@pytest.mark.parametrize("error", [OperationFailure("refused", 2), ValueError("poison")])
async def test_other_errors_are_not_retried(error: BaseException) -> None:
    action = Flaky(error, failures=1)
    with pytest.raises(type(error)):
        await retry_transient(action, first_delay=0)
    assert action.calls == 1


async def test_retries_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("indgang_runtime.messaging.asyncio.sleep", sleep)
    await retry_transient(Flaky(TimeoutError(), failures=7), attempts=8, first_delay=1.0)
    # Each wait is the delay plus up to as much jitter; the delay doubles up to 10 s.
    for wait, delay in zip(waits, [1, 2, 4, 8, 10, 10, 10], strict=True):
        assert delay <= wait <= 2 * delay


def test_every_subscriber_commits_after_the_work_in_a_group_of_its_own() -> None:
    options = subscriber_options(settings(kafka_topic_prefix="t."), "t.indgang.x.v1")
    assert options["group_id"] == "t.indgang-routing.indgang.x.v1"
    assert options["ack_policy"] == AckPolicy.NACK_ON_ERROR
    assert options["auto_offset_reset"] == "earliest"
    assert "batch" not in options


def test_every_subscriber_takes_its_heartbeat_session_and_idle_waits_from_the_settings() -> None:
    options = subscriber_options(
        settings(
            kafka_heartbeat_interval_ms=1500,
            kafka_session_timeout_ms=9000,
            kafka_idle_fetch_wait_ms=7000,
            kafka_fetcher_wakeup_ms=900,
        ),
        "indgang.x.v1",
    )
    assert options["heartbeat_interval_ms"] == 1500
    assert options["session_timeout_ms"] == 9000
    assert options["fetch_max_wait_ms"] == 7000
    assert options["consumer_timeout_ms"] == 900


def test_a_batch_subscriber_takes_up_to_the_configured_batch() -> None:
    options = subscriber_options(
        settings(consumer_batch_size=25, kafka_batch_poll_wait_ms=700), "indgang.x.v1", batch=True
    )
    assert options["batch"] is True
    assert options["max_records"] == 25
    assert options["batch_timeout_ms"] == 700
    assert options["group_id"] == "indgang-routing.indgang.x.v1"


class Broker:
    def __init__(self) -> None:
        self.published: list[tuple[bytes, str, dict[str, Any]]] = []

    async def publish(self, value: bytes, topic: str, **options: Any) -> None:
        self.published.append((value, topic, options))


async def test_a_record_is_published_under_the_prefix_with_its_key_and_headers() -> None:
    broker = Broker()
    record = encode(CASE_ROUTED, source="/test")
    await publish_record(broker, "staging.", record)  # type: ignore[arg-type]
    ((value, topic, options),) = broker.published
    assert topic == f"staging.{record.topic}"
    assert value == record.value
    assert options == {"key": record.key.encode(), "headers": record.headers}


def test_the_relay_is_configured_by_the_settings() -> None:
    relay = outbox_relay(settings(http_port=8123), Broker(), [])  # type: ignore[arg-type]
    assert relay.instance == f"{socket.gethostname()}:8123"  # stable across restarts
    named = outbox_relay(settings(instance_id="routing-a"), Broker(), [])  # type: ignore[arg-type]
    assert named.instance == "routing-a"


def test_a_cluster_bootstrap_list_reaches_the_client_as_several_addresses() -> None:
    # FastStream takes a string as one address; three brokers must be three.
    broker = make_broker(settings(kafka_bootstrap_servers="127.0.0.1:9092, 127.0.0.1:9094"))
    assert broker._connection_kwargs["bootstrap_servers"] == ["127.0.0.1:9092", "127.0.0.1:9094"]
