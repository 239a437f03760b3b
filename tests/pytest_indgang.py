"""Shared fixtures (a pytest plugin, loaded with `-p pytest_indgang` for every test directory).

Real parts: the broker and store started by `deploy/infra.sh` — or, where a Docker
engine answers, by testcontainers (INDGANG_TEST_INFRA, tests/infra_choice.py; the
header says which) — the four services as real processes, a real SMTP server, and
headless Chromium (Debian's package) driven by Playwright, with axe-core from npm for
accessibility checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from infra_choice import Choice, Containers, InfraChoiceError, choose, start_containers
from playwright.async_api import Browser, Page, async_playwright
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

import harness
from harness import (
    KAFKA_BOOTSTRAP,
    KAFKA_LIBS,
    MONGODB_URI,
    ROOT,
    ServiceProcess,
    SmtpServer,
    reachable,
    service_env,
)

SERVICES = ("intake", "routing", "notifications", "guide")

# Tests use the development users, keys and secrets, which production refuses
# (ENVIRONMENT defaults to production): set here, at import, so settings built in
# the tests and the services they start as processes both read it. A test of the
# production check sets or removes it itself.
os.environ.setdefault("ENVIRONMENT", "development")

# --- Markers by fixture ----------------------------------------------------------
#
# A test is marked `infra` when it uses, directly or through other fixtures, one of
# these (pytest's `item.fixturenames` is the whole closure), so `make unit`
# (`pytest -m "not infra"`) runs everything that needs no broker, store or browser.
# A fixture that starts services, or opens the store or the broker, depends on
# `infra`; the others here reach the infrastructure without it.
INFRA_FIXTURES = frozenset(
    {
        "infra",  # the shared broker and store; every fixture that uses them asks for it
        "system",  # the four services as processes
        "private_kafka",  # a broker of the test's own, from the jars deploy/infra.sh installed
        "routing",  # routing's app on the real store (services/routing/tests/conftest.py)
        "kit",  # guide's helpers, whose `run` starts the guide app on the store and broker
        "browser",  # headless Chromium
    }
)
BROWSER_FIXTURES = frozenset({"browser"})
# Parametrised fixtures whose named parameter is the real store (runtime/tests/conftest.py
# runs every store test on the in-memory fake and on the store).
INFRA_PARAMS = {"db": "store"}
# Test modules that reach the store with no fixture to tell: Hypothesis state machines
# (unittest-style test cases, which take no fixtures) that open their own client.
# The short prove starts an infrastructure instance of its own (deploy/infra.sh).
INFRA_MODULES = frozenset(
    {"services/routing/tests/test_store_machine.py", "tests/e2e/test_prove.py"}
)


def needs_infra(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if names & INFRA_FIXTURES:
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(params.get(name) == value for name, value in INFRA_PARAMS.items()):
        return True
    path = item.path.as_posix()
    return any(path.endswith("/" + module) for module in INFRA_MODULES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if needs_infra(item):
            item.add_marker(pytest.mark.infra)
        if set(getattr(item, "fixturenames", ())) & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if _containers is not None and needs_local_kafka(item) and not KAFKA_LIBS.exists():
            item.add_marker(pytest.mark.skip(reason=LOCAL_KAFKA_ONLY))


# --- Which infrastructure: deploy/infra.sh's, or containers -------------------------
#
# Chosen before any conftest or test module is imported (they read the addresses at
# import): in containers mode the containers start here, and KAFKA_BOOTSTRAP_SERVERS,
# MONGODB_URI and harness's constants name them for everything after.

_choice: Choice | None = None
_containers: Containers | None = None

# A broker of the test's own that it stops and starts, and the short prove's own
# deploy/infra.sh instance: these need deploy/infra.sh's Kafka jars (and Java).
LOCAL_KAFKA_FIXTURES = frozenset({"private_kafka"})
LOCAL_KAFKA_ONLY = (
    "containers mode: this test runs a Kafka broker of its own from deploy/infra.sh's "
    "jars (bash deploy/infra.sh install; needs Java), which are not installed"
)


def needs_local_kafka(item: pytest.Item) -> bool:
    if set(getattr(item, "fixturenames", ())) & LOCAL_KAFKA_FIXTURES:
        return True
    return item.path.as_posix().endswith("/tests/e2e/test_prove.py")


def infra_excluded(markexpr: str) -> bool:
    """True when the run's `-m` leaves out every infra test (`make unit`): then no
    container is started."""
    return markexpr.replace(" ", "") in ("notinfra", "not(infra)")


def use_infrastructure(kafka_bootstrap: str, mongodb_uri: str) -> None:
    """Point the tests, and the services they start, at this broker and store."""
    global KAFKA_BOOTSTRAP, MONGODB_URI
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    os.environ["MONGODB_URI"] = mongodb_uri
    harness.KAFKA_BOOTSTRAP = KAFKA_BOOTSTRAP = kafka_bootstrap
    harness.MONGODB_URI = MONGODB_URI = mongodb_uri


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    global _choice, _containers
    try:
        _choice = choose(
            os.environ, local_broker_running=lambda: reachable(KAFKA_BOOTSTRAP, timeout=0.5)
        )
        markexpr = getattr(early_config.known_args_namespace, "markexpr", "") or ""
        if _choice.mode == "containers" and not infra_excluded(markexpr):
            _containers = start_containers(os.environ)
            use_infrastructure(_containers.kafka_bootstrap, _containers.mongodb_uri)
    except InfraChoiceError as exc:
        raise pytest.UsageError(str(exc)) from None
    except Exception as exc:  # Docker's own errors: say what failed, not a traceback
        raise pytest.UsageError(
            f"{_choice.header() if _choice else 'infrastructure'}: starting the containers "
            f"failed: {type(exc).__name__}: {exc}"
        ) from exc


def pytest_report_header() -> list[str]:
    if _choice is None:
        return []
    lines = [_choice.header()]
    if _containers is not None:
        lines.append(f"  Kafka {_containers.kafka_bootstrap}, MongoDB (container)")
    elif _choice.mode == "containers":
        lines.append("  none started: this run's -m leaves out the infra tests")
    return lines


def pytest_unconfigure() -> None:
    global _containers
    if _containers is not None:
        _containers.stop()
        _containers = None


# Whether this session asked for the infrastructure: if not, it made nothing to drop.
_infra_used = False


@pytest.fixture(scope="session")
def infra() -> None:
    """The shared broker and store must run (`make test` starts them)."""
    global _infra_used
    _infra_used = True
    problems = [
        f"{name} not reachable at {where}"
        for name, where in (
            ("Kafka", KAFKA_BOOTSTRAP),
            # mongodb://[user:password@]host:port/…
            ("MongoDB-compatible store", MONGODB_URI.split("//")[-1].split("/")[0].split("@")[-1]),
        )
        if not reachable(where)
    ]
    if problems:
        pytest.fail("; ".join(problems) + " — start them with `bash deploy/infra.sh up`")


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@dataclass
class System:
    run_id: str
    bootstrap: str
    services: dict[str, ServiceProcess]

    def url(self, name: str) -> str:
        return self.services[name].url

    def topic(self, name: str) -> str:
        return f"test-{self.run_id}.{name}"


@contextlib.asynccontextmanager
async def start_system(run_id: str, smtp: SmtpServer) -> AsyncIterator[System]:
    """All four services as real processes, isolated by topic prefix and databases; a test
    that must see only its own events (e.g. counting them) starts one with a run id of its
    own."""
    services = {
        name: ServiceProcess(name, service_env(run_id, name, KAFKA_BOOTSTRAP, smtp.port))
        for name in SERVICES
    }
    # The services find each other on this run's ports, not on make up's.
    services["routing"].env["GUIDE_URL"] = services["guide"].url
    services["intake"].env["GUIDE_PUBLIC_URL"] = services["guide"].url + "/hjaelp"
    services["guide"].env["INTAKE_FORM_URL"] = services["intake"].url + "/"
    services["notifications"].env["ROUTING_PUBLIC_URL"] = services["routing"].url
    for service in services.values():
        service.start()
    try:
        await asyncio.gather(*(s.wait_ready() for s in services.values()))
        yield System(run_id, KAFKA_BOOTSTRAP, services)
    finally:
        for service in services.values():
            service.stop()
        await drop_run(run_id)


@pytest.fixture(scope="session")
async def system(infra: None, run_id: str, smtp: SmtpServer) -> AsyncIterator[System]:
    """The session's four services (see start_system)."""
    async with start_system(run_id, smtp) as started:
        yield started


@pytest.fixture
async def fresh_db(infra: None, run_id: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """An empty database of its own on the real store, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    name = f"t_{run_id}_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def drop_run(run_id: str) -> None:
    """Remove the run's databases and topics (none if no test used the infrastructure)."""
    if not _infra_used:
        return
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URI)
    try:
        for name in await client.list_database_names():
            if name.startswith(f"t_{run_id}_"):
                await client.drop_database(name)
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"test-{run_id}.")]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


# --- Browser -------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's
# hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's `chromium` package, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (.ci/run does)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="da-DK")
    page = await context.new_page()
    yield page
    await context.close()


async def axe_violations(
    page: Page, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[Any]:
    """Run axe-core (from npm) in the page; the violations of the given impacts."""
    if not AXE.exists():
        raise AssertionError("node_modules/axe-core missing: run `make sync` (npm ci)")
    # Evaluated, not added as a <script>: the pages' Content-Security-Policy refuses
    # inline scripts, and the browser tests must see the policy the users get.
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "async () => await axe.run(document, "
        "{runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    return [v for v in result["violations"] if v["impact"] in impacts]
