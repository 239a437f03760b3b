"""Which infrastructure the tests use: deploy/infra.sh's servers, or containers.

`INDGANG_TEST_INFRA` chooses (issue 15, point 7):

- `local`: the broker and the store that `deploy/infra.sh up` runs on this machine
  (`make test` starts them), or those KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI name.
- `containers`: Kafka and MongoDB in containers started by testcontainers for the
  session and removed after it; needs a reachable Docker engine, else the run stops
  saying so.
- `auto` (the default): containers when a Docker engine answers and nothing else is
  there to use — neither KAFKA_BOOTSTRAP_SERVERS nor MONGODB_URI is set and no broker
  runs on Kafka's local address (as after `make infra-up`); otherwise `local`. Without
  Docker this is `local`, so a machine without Docker (CI here) runs as before.

The choice is shown in pytest's header ("infrastructure: …") with the reason.
A contributor with Docker and nothing else (no Java, no PostgreSQL) runs
`uv run --with 'testcontainers[kafka,mongodb]>=4.8' pytest` (CONTRIBUTING.md).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

Mode = Literal["local", "containers"]
MODES = ("auto", "local", "containers")
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
# Images for containers mode (override with INDGANG_TEST_KAFKA_IMAGE / _MONGO_IMAGE):
# testcontainers' KafkaContainer drives Confluent's image; KRaft from 7.0 on.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
MONGO_IMAGE = "mongo:7"
INSTALL_HINT = (
    "install testcontainers for this run: uv run --with 'testcontainers[kafka,mongodb]>=4.8' pytest"
)


class InfraChoiceError(Exception):
    """The requested infrastructure cannot be had; the message says what to do."""


@dataclass(frozen=True)
class Choice:
    mode: Mode
    reason: str

    def header(self) -> str:
        where = (
            "containers (testcontainers: Kafka and MongoDB for this session)"
            if self.mode == "containers"
            else "local (deploy/infra.sh's servers, or KAFKA_BOOTSTRAP_SERVERS/MONGODB_URI)"
        )
        return f"infrastructure: {where} — {self.reason}"


def docker_endpoint(environ: Mapping[str, str]) -> str:
    """Where the Docker engine is asked: DOCKER_HOST, else the default unix socket."""
    return environ.get("DOCKER_HOST") or f"unix://{DEFAULT_DOCKER_SOCKET}"


def docker_answers(endpoint: str, timeout: float = 2.0) -> bool:
    """True if a Docker engine answers `GET /_ping` with OK at `endpoint`
    (unix:///path or tcp://host:port; TLS endpoints are taken as answering if they
    accept a connection)."""
    url = urlparse(endpoint)
    try:
        if url.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(url.path)
        elif url.scheme in ("tcp", "http", "https"):
            sock = socket.create_connection(
                (url.hostname or "127.0.0.1", url.port or 2375), timeout
            )
            if url.scheme == "https" or os.environ.get("DOCKER_TLS_VERIFY"):
                sock.close()
                return True
        else:
            return False
    except OSError:
        return False
    with sock:
        try:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(512)
        except OSError:
            return False
    status, _, rest = reply.partition(b"\r\n")
    return status.split(b" ")[1:2] == [b"200"] and rest.rstrip().endswith(b"OK")


def choose(
    environ: Mapping[str, str],
    docker: Callable[[str], bool] = docker_answers,
    local_broker_running: Callable[[], bool] = lambda: False,
) -> Choice:
    """The infrastructure for this run, from the environment; `docker` says whether an
    engine answers at an endpoint, `local_broker_running` whether deploy/infra.sh's
    broker is up. Raises InfraChoiceError for an unknown mode or containers without
    Docker."""
    requested = (environ.get("INDGANG_TEST_INFRA") or "auto").strip().lower()
    if requested not in MODES:
        raise InfraChoiceError(
            f"INDGANG_TEST_INFRA={requested!r}: use one of {', '.join(MODES)} "
            "(tests/infra_choice.py)"
        )
    if requested == "local":
        return Choice("local", "INDGANG_TEST_INFRA=local")
    endpoint = docker_endpoint(environ)
    if requested == "containers":
        if not docker(endpoint):
            raise InfraChoiceError(
                f"INDGANG_TEST_INFRA=containers, but no Docker engine answers at {endpoint}: "
                "start Docker (or set DOCKER_HOST), or use INDGANG_TEST_INFRA=local with "
                "`bash deploy/infra.sh up`"
            )
        return Choice("containers", f"INDGANG_TEST_INFRA=containers, Docker at {endpoint}")
    named = [name for name in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI") if environ.get(name)]
    if named:
        return Choice("local", f"auto: {' and '.join(named)} set")
    if local_broker_running():
        return Choice("local", "auto: deploy/infra.sh's broker is running")
    if not docker(endpoint):
        return Choice("local", f"auto: no Docker engine at {endpoint}")
    return Choice("containers", f"auto: Docker at {endpoint} and no local broker")


class Container(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> None: ...


class KafkaLike(Container, Protocol):
    def get_bootstrap_server(self) -> str: ...


class MongoLike(Container, Protocol):
    def get_connection_url(self) -> str: ...


@dataclass
class Containers:
    """The session's containers and the addresses the tests use."""

    kafka_bootstrap: str
    mongodb_uri: str
    running: list[Container]

    def stop(self) -> None:
        for container in reversed(self.running):
            container.stop()
        self.running.clear()


def testcontainers_kafka(image: str) -> KafkaLike:
    """Kafka in KRaft mode, one node, six partitions per new topic (as deploy/infra.sh)."""
    from testcontainers.kafka import KafkaContainer

    kafka: KafkaLike = (
        KafkaContainer(image)
        .with_kraft()
        .with_env("KAFKA_NUM_PARTITIONS", "6")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
    )
    return kafka


def testcontainers_mongo(image: str) -> MongoLike:
    from testcontainers.mongodb import MongoDbContainer

    mongo: MongoLike = MongoDbContainer(image)
    return mongo


def start_containers(
    environ: Mapping[str, str],
    make_kafka: Callable[[str], KafkaLike] = testcontainers_kafka,
    make_mongo: Callable[[str], MongoLike] = testcontainers_mongo,
) -> Containers:
    """Start Kafka, then MongoDB (testcontainers' by default); what started is stopped
    again if the other fails. InfraChoiceError if testcontainers is not installed."""
    running: list[Container] = []
    try:
        kafka = make_kafka(environ.get("INDGANG_TEST_KAFKA_IMAGE", KAFKA_IMAGE))
        mongo = make_mongo(environ.get("INDGANG_TEST_MONGO_IMAGE", MONGO_IMAGE))
    except ImportError as exc:
        raise InfraChoiceError(
            f"containers mode needs testcontainers ({exc}): {INSTALL_HINT}"
        ) from None
    try:
        for container in (kafka, mongo):
            container.start()
            running.append(container)
        return Containers(kafka.get_bootstrap_server(), mongo.get_connection_url(), running)
    except BaseException:
        for started in reversed(running):
            started.stop()
        raise
