"""The base settings every service subclasses: what they read from the environment and
the names derived from them (consumer group, topics, event source)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from indgang_runtime.settings import ServiceSettings


def settings(**values: object) -> ServiceSettings:
    required: dict[str, object] = {
        "service_name": "routing",
        "mongodb_database": "routing",
        "http_port": 8002,
    }
    return ServiceSettings(**{**required, **values})  # type: ignore[arg-type]


def test_the_consumer_group_is_named_after_the_service_and_carries_the_topic_prefix() -> None:
    assert settings().group_id == "indgang-routing"
    # A test run or second environment on the same cluster never joins the real group.
    assert settings(kafka_topic_prefix="test-ab12.").group_id == "test-ab12.indgang-routing"
    assert settings(kafka_topic_prefix="x.", consumer_group="mine").group_id == "mine"


def test_topics_get_the_prefix_and_events_the_service_as_source() -> None:
    plain, prefixed = settings(), settings(kafka_topic_prefix="staging.")
    assert plain.topic("indgang.case-routed.v1") == "indgang.case-routed.v1"
    assert prefixed.topic("indgang.case-routed.v1") == "staging.indgang.case-routed.v1"
    assert plain.event_source == "/indgang/routing"


def test_values_come_from_the_environment_by_their_standard_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICE_NAME", "guide")
    monkeypatch.setenv("MONGODB_DATABASE", "guide")
    monkeypatch.setenv("HTTP_PORT", "8004")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "t.")
    monkeypatch.setenv("OUTBOX_POLL_SECONDS", "0.5")
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("KAFKA_HEARTBEAT_INTERVAL_MS", "3000")
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "10000")
    monkeypatch.setenv("KAFKA_IDLE_FETCH_WAIT_MS", "1000")
    monkeypatch.setenv("KAFKA_FETCHER_WAKEUP_MS", "500")
    monkeypatch.setenv("KAFKA_BATCH_POLL_WAIT_MS", "2500")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("SOMETHING_ELSE", "ignored")
    read = ServiceSettings()
    assert (read.service_name, read.http_port, read.mongodb_database) == ("guide", 8004, "guide")
    assert read.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert read.outbox_poll_seconds == 0.5
    assert read.auth_mode == "oidc"
    assert read.group_id == "t.indgang-guide"
    assert (
        read.kafka_heartbeat_interval_ms,
        read.kafka_session_timeout_ms,
        read.kafka_idle_fetch_wait_ms,
        read.kafka_fetcher_wakeup_ms,
        read.kafka_batch_poll_wait_ms,
    ) == (3000, 10000, 1000, 500, 2500)
    assert read.otel_traces_sampler == "parentbased_traceidratio"


@pytest.mark.parametrize(
    "bad",
    [
        {"municipality_code": "75"},  # three digits
        {"municipality_code": "abc"},
        {"outbox_takeover_seconds": 0},
        {"outbox_batch_size": 0},
        {"consumer_batch_size": 0},
        {"auth_mode": "ldap"},
        {"http_port": "not a port"},
        # Kafka wants several heartbeats per session: at most a third of it.
        {"kafka_heartbeat_interval_ms": 2001, "kafka_session_timeout_ms": 6000},
        {"kafka_heartbeat_interval_ms": 4000},
        {"kafka_idle_fetch_wait_ms": 0},
        {"kafka_idle_fetch_wait_ms": 60_000},  # beyond the client's request timeout
        {"kafka_fetcher_wakeup_ms": 0},
        {"kafka_batch_poll_wait_ms": 0},
        {"otel_traces_sampler": "sometimes"},
    ],
)
def test_invalid_values_are_refused_at_start(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**bad)


def test_idle_consumers_heartbeat_every_two_seconds_in_a_six_second_session() -> None:
    # 2 s: a restart's rebalance waits at most that long more than at 1 s (make prove
    # allows a 30 s stall); 6 s: a killed instance's partitions move within seconds.
    read = settings()
    assert (read.kafka_heartbeat_interval_ms, read.kafka_session_timeout_ms) == (2000, 6000)


def test_required_values_have_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SERVICE_NAME", "MONGODB_DATABASE", "HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as refused:
        ServiceSettings()
    missing = {e["loc"][0] for e in refused.value.errors() if e["type"] == "missing"}
    assert missing == {"service_name", "mongodb_database", "http_port"}


def test_settings_cannot_be_changed_once_read() -> None:
    read = settings()
    with pytest.raises(ValidationError):
        read.kafka_topic_prefix = "other."  # type: ignore[misc]
