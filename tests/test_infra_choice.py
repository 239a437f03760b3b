"""Issue 15, point 7: the tests' choice between deploy/infra.sh's servers and containers.

No Docker engine exists here, so these test the choice itself: the environment and
what answers decide it, a fake Docker engine on a unix socket stands in for the real
one, fake containers for testcontainers', and pytest itself says which it uses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from infra_choice import (
    INSTALL_HINT,
    Choice,
    InfraChoiceError,
    choose,
    docker_answers,
    docker_endpoint,
    start_containers,
)

from harness import ROOT


def docker(answers: bool) -> Any:
    asked: list[str] = []

    def probe(endpoint: str) -> bool:
        asked.append(endpoint)
        return answers

    probe.asked = asked  # type: ignore[attr-defined]
    return probe


def test_auto_without_docker_is_local_as_before() -> None:
    choice = choose({}, docker(False))
    assert choice == Choice("local", "auto: no Docker engine at unix:///var/run/docker.sock")


def test_auto_with_docker_and_nothing_else_is_containers() -> None:
    assert choose({}, docker(True)).mode == "containers"
    assert choose({"INDGANG_TEST_INFRA": "auto"}, docker(True)).mode == "containers"


def test_auto_keeps_a_running_local_broker_or_named_servers() -> None:
    # make test starts deploy/infra.sh first: its servers are used, no containers.
    running = choose({}, docker(True), local_broker_running=lambda: True)
    assert running == Choice("local", "auto: deploy/infra.sh's broker is running")
    named = choose({"MONGODB_URI": "mongodb://db:27017"}, docker(True))
    assert named == Choice("local", "auto: MONGODB_URI set")


def test_local_never_asks_docker() -> None:
    probe = docker(True)
    assert choose({"INDGANG_TEST_INFRA": "local"}, probe).mode == "local"
    assert probe.asked == []


def test_containers_asks_docker_where_docker_host_says() -> None:
    probe = docker(True)
    environ = {"INDGANG_TEST_INFRA": "Containers", "DOCKER_HOST": "tcp://127.0.0.1:2375"}
    assert choose(environ, probe).mode == "containers"
    assert probe.asked == ["tcp://127.0.0.1:2375"]
    # Even with the local broker up: asked for by name.
    assert choose(environ, probe, local_broker_running=lambda: True).mode == "containers"


def test_containers_without_docker_stops_the_run_saying_what_to_do() -> None:
    with pytest.raises(InfraChoiceError, match=r"no Docker engine answers at unix:///x\.sock"):
        choose({"INDGANG_TEST_INFRA": "containers", "DOCKER_HOST": "unix:///x.sock"}, docker(False))


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(InfraChoiceError, match="use one of auto, local, containers"):
        choose({"INDGANG_TEST_INFRA": "kubernetes"}, docker(True))


def test_the_header_says_which_and_why() -> None:
    assert (
        Choice("containers", "auto: Docker at x")
        .header()
        .startswith("infrastructure: containers (testcontainers")
    )
    assert "deploy/infra.sh" in Choice("local", "r").header()
    assert docker_endpoint({}) == "unix:///var/run/docker.sock"


# --- A fake Docker engine ----------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """A unix socket answering like Docker's `GET /_ping` with `reply[0]`."""
    path = tmp_path / "docker.sock"
    reply = [b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Length: 2\r\n\r\nOK"]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                if connection.recv(512).startswith(b"GET /_ping "):
                    connection.sendall(reply[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"unix://{path}", reply
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_a_docker_engine_that_answers_ping_is_found(engine: tuple[str, list[bytes]]) -> None:
    endpoint, _ = engine
    assert docker_answers(endpoint)
    assert choose({"DOCKER_HOST": endpoint}).mode == "containers"


def test_a_socket_that_does_not_answer_ok_is_no_engine(
    engine: tuple[str, list[bytes]], tmp_path: Path
) -> None:
    endpoint, reply = engine
    reply[0] = b"HTTP/1.1 500 Internal Server Error\r\n\r\n"
    assert not docker_answers(endpoint)
    assert not docker_answers(f"unix://{tmp_path / 'missing.sock'}")
    assert not docker_answers("ssh://somewhere")


# --- Starting the containers --------------------------------------------------------


class FakeContainer:
    def __init__(self, events: list[str], name: str, fail: bool = False) -> None:
        self.events, self.name, self.fail = events, name, fail

    def start(self) -> FakeContainer:
        if self.fail:
            raise RuntimeError(f"{self.name} did not start")
        self.events.append(f"start {self.name}")
        return self

    def stop(self) -> None:
        self.events.append(f"stop {self.name}")

    def get_bootstrap_server(self) -> str:
        return "localhost:32801"

    def get_connection_url(self) -> str:
        return "mongodb://localhost:32802"


def test_containers_start_and_stop_in_order_with_their_addresses() -> None:
    events: list[str] = []
    images: list[str] = []

    def kafka(image: str) -> FakeContainer:
        images.append(image)
        return FakeContainer(events, "kafka")

    def mongo(image: str) -> FakeContainer:
        images.append(image)
        return FakeContainer(events, "mongo")

    containers = start_containers({"INDGANG_TEST_MONGO_IMAGE": "mongo:8"}, kafka, mongo)
    assert (containers.kafka_bootstrap, containers.mongodb_uri) == (
        "localhost:32801",
        "mongodb://localhost:32802",
    )
    assert images == ["confluentinc/cp-kafka:7.9.0", "mongo:8"]
    containers.stop()
    assert events == ["start kafka", "start mongo", "stop mongo", "stop kafka"]


def test_a_container_that_fails_to_start_leaves_none_running() -> None:
    events: list[str] = []
    with pytest.raises(RuntimeError, match="mongo did not start"):
        start_containers(
            {},
            lambda image: FakeContainer(events, "kafka"),
            lambda image: FakeContainer(events, "mongo", fail=True),
        )
    assert events == ["start kafka", "stop kafka"]


def test_without_testcontainers_installed_the_message_says_how() -> None:
    def missing(image: str) -> Any:
        raise ImportError("No module named 'testcontainers'")

    with pytest.raises(InfraChoiceError) as raised:
        start_containers({}, missing, missing)
    assert INSTALL_HINT in str(raised.value)


# --- pytest says which --------------------------------------------------------------


def run_pytest(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDGANG_TEST_")}
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pytest_header_names_the_infrastructure() -> None:
    result = run_pytest(
        {"INDGANG_TEST_INFRA": "local"},
        "--collect-only",
        "tests/test_infra_choice.py::test_an_unknown_mode_is_refused",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "infrastructure: local (deploy/infra.sh" in result.stdout
    assert "INDGANG_TEST_INFRA=local" in result.stdout


def test_pytest_refuses_containers_without_docker(tmp_path: Path) -> None:
    result = run_pytest(
        {"INDGANG_TEST_INFRA": "containers", "DOCKER_HOST": f"unix://{tmp_path}/none.sock"},
        "--collect-only",
        "tests/test_infra_choice.py::test_an_unknown_mode_is_refused",
    )
    assert result.returncode == 4  # pytest's usage error
    assert "no Docker engine answers at unix://" in result.stderr


def test_pytest_in_containers_mode_starts_them_or_says_why_not(
    engine: tuple[str, list[bytes]],
) -> None:
    # A Docker engine answers (the fake): the plugin goes on to start the containers,
    # which the fake cannot run — without testcontainers installed it says how to get
    # it, with it Docker's error; either way a usage error, never a half-started run.
    endpoint, _ = engine
    result = run_pytest(
        {"INDGANG_TEST_INFRA": "containers", "DOCKER_HOST": endpoint},
        "--collect-only",
        "tests/test_infra_choice.py::test_an_unknown_mode_is_refused",
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "testcontainers" in result.stderr or "starting the containers failed" in result.stderr
