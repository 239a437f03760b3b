"""Kafka connection security in every service's settings (issue 12, finding 2): PLAINTEXT
to a broker off this machine, or SASL_SSL without a principal's password, is refused in
production; SASL_SSL gives every client the same SCRAM sign-in over verified TLS."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from indgang_runtime.kafka_security import broker_security, client_options
from indgang_runtime.messaging import make_broker
from indgang_runtime.settings import ServiceSettings, TopicsSettings, is_loopback_host

REQUIRED: dict[str, Any] = {"service_name": "routing", "mongodb_database": "x", "http_port": 1}
SASL: dict[str, Any] = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "indgang-routing",
    "kafka_sasl_password": "a-long-random-password-for-the-routing-principal",
}


def kafka_problems(**values: Any) -> list[str]:
    settings = ServiceSettings(**REQUIRED, environment="production", **values)
    return [p for p in settings.production_problems() if p.startswith("KAFKA_")]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.1.1", "[::1]", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["kafka", "10.0.0.5", "kafka.kommune.example", "0.0.0.0"])
def test_hosts_off_this_machine(host: str) -> None:
    assert not is_loopback_host(host)


def test_plaintext_on_loopback_is_fine_in_production() -> None:
    assert kafka_problems(kafka_bootstrap_servers="127.0.0.1:9092,localhost:9094") == []


def test_plaintext_to_a_remote_broker_is_refused_in_production() -> None:
    problems = kafka_problems(kafka_bootstrap_servers="127.0.0.1:9092,kafka-2.internal:9092")
    assert len(problems) == 1
    assert problems[0].startswith("KAFKA_SECURITY_PROTOCOL=PLAINTEXT to kafka-2.internal")
    assert "SASL_SSL" in problems[0]


def test_sasl_ssl_without_a_principal_or_password_is_refused_in_production() -> None:
    problems = kafka_problems(
        kafka_bootstrap_servers="kafka:9093", kafka_security_protocol="SASL_SSL"
    )
    assert [p.split(" ")[0] for p in problems] == ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"]


def test_a_development_password_or_a_missing_ca_file_is_refused(tmp_path: Path) -> None:
    problems = kafka_problems(
        kafka_bootstrap_servers="kafka:9093",
        **{**SASL, "kafka_sasl_password": "dev-kafka-routing"},
        kafka_ssl_ca_file=tmp_path / "missing-ca.pem",
    )
    assert [p.split(" ")[0] for p in problems] == ["KAFKA_SASL_PASSWORD", "KAFKA_SSL_CA_FILE"]


def test_sasl_ssl_with_its_principal_passes(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    assert kafka_problems(kafka_bootstrap_servers="kafka:9093", **SASL, kafka_ssl_ca_file=ca) == []


def test_plaintext_gives_the_clients_no_security() -> None:
    settings = ServiceSettings(**REQUIRED)
    assert broker_security(settings) is None
    assert client_options(settings) == {}


def test_sasl_ssl_gives_every_client_scram_over_verified_tls() -> None:
    settings = ServiceSettings(**REQUIRED, **SASL)
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "indgang-routing"
    assert options["sasl_plain_password"] == SASL["kafka_sasl_password"]
    context = options["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    # The broker is built with it (tests/security/test_kafka_acls.py shows it connecting).
    make_broker(settings)


def test_sasl_ssl_without_credentials_says_so_plainly() -> None:
    settings = ServiceSettings(**REQUIRED, kafka_security_protocol="SASL_SSL")
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        client_options(settings)


def test_indgang_topics_reads_the_same_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SASL.items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("KAFKA_TOPIC_REPLICATION_FACTOR", "3")
    settings = TopicsSettings()
    assert settings.kafka_topic_replication_factor == 3
    assert client_options(settings)["sasl_plain_username"] == "indgang-routing"


def test_indgang_topics_takes_an_empty_replication_factor_as_the_clusters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # deploy/infra.sh's create_topics passes KAFKA_TOPIC_REPLICATION_FACTOR= for that.
    monkeypatch.setenv("KAFKA_TOPIC_REPLICATION_FACTOR", "")
    assert TopicsSettings().kafka_topic_replication_factor is None
