"""Reporting's test fixtures. The helpers are in reporting_kit.py and the known history
in reporting_history.py, which test modules import by name: with
`--import-mode=importlib` this directory is not on sys.path unless put there."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reporting_kit import RunningApp, run_app, settings_for

from pytest_indgang import drop_run


@pytest.fixture(scope="module")
async def reporting_app(infra: None, run_id: str) -> AsyncIterator[RunningApp]:
    """Reporting in this process with its lifespan, on an empty read model."""
    async for running in run_app(settings_for(run_id, "reportingpages")):
        yield running


@pytest.fixture(scope="session", autouse=True)
async def _drop_run_data(run_id: str) -> AsyncIterator[None]:
    yield
    await drop_run(run_id)
