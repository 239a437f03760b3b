"""Notifications' test fixtures: a fresh database of its own on the real store for each
store test, and for the delivery tests a notifications process with a real SMTP server and
webhook receiver (their helpers are in delivery_harness.py, which test modules import by
name: with `--import-mode=importlib` this directory is not on sys.path unless put there)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from harness import ServiceProcess, SmtpServer, eventually
from pytest_indgang import drop_run

sys.path.insert(0, str(Path(__file__).parent))

from delivery_harness import (
    JOBCENTER_SECRET,
    Notifications,
    WebhookReceiver,
    notifications_env,
    started,
    write_config,
)

# --- the delivery tests: a notifications process per test module ------------------------


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hooks = WebhookReceiver(secrets={"/jobcenter": JOBCENTER_SECRET})
    app = Starlette(routes=[Route("/{path:path}", hooks.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=hooks.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: started(server))
    yield hooks
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def notifications(
    infra: None,
    mail: SmtpServer,
    receiver: WebhookReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Notifications]:
    run_id = uuid.uuid4().hex[:8]
    config = write_config(tmp_path_factory.mktemp("notifications"), receiver)
    process = ServiceProcess("notifications", notifications_env(run_id, mail.port, config))
    process.start()
    try:
        await process.wait_ready()
        yield Notifications(run_id, process, mail, receiver)
    finally:
        process.stop()
        await drop_run(run_id)
