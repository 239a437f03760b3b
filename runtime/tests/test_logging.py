"""JSON logs on stdout: one object per line with the service, level and message, library
logs through the same renderer, and no access log (it would hold client IP addresses)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from indgang_runtime.logging import configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka", "pymongo")
    loggers = {name: logging.getLogger(name) for name in names}
    saved = {
        name: (logger.handlers[:], logger.propagate, logger.disabled, logger.level)
        for name, logger in loggers.items()
    }
    config = structlog.get_config()
    yield
    root.handlers[:], root.level = handlers, level
    for name, (kept, propagate, disabled, kept_level) in saved.items():
        logger = loggers[name]
        logger.handlers[:], logger.propagate, logger.disabled = kept, propagate, disabled
        logger.setLevel(kept_level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.usefixtures("restored")
def test_our_log_events_are_json_lines_with_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("routing", "INFO")
    log = structlog.get_logger("t")
    log.info("case_routed", case_id="c-1")
    log.debug("too_detailed")
    structlog.contextvars.bind_contextvars(event_id="e-9")
    log.warning("dead_lettered", reason="bad")
    (routed, dead) = lines(capsys.readouterr().out)
    assert routed["message"] == "case_routed"
    assert routed["case_id"] == "c-1"
    assert routed["service"] == "routing"
    assert routed["level"] == "info"
    assert routed["timestamp"].endswith("Z")
    assert dead["level"] == "warning"
    assert dead["event_id"] == "e-9"  # bound for the event being handled


@pytest.mark.usefixtures("restored")
def test_library_logs_come_out_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("guide", "WARNING")
    library = logging.getLogger("a.library")  # any library's stdlib logger
    library.warning("consumer %s stopped", "x")
    library.info("below the level")
    (record,) = lines(capsys.readouterr().out)
    assert record["message"] == "consumer x stopped"
    assert record["logger"] == "a.library"
    assert record["level"] == "warning"
    assert record["service"] == "guide"


@pytest.mark.usefixtures("restored")
def test_no_access_log_and_no_reconnect_noise(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("intake")
    access = logging.getLogger("uvicorn.access")
    access.info('10.0.0.7:5123 - "POST / HTTP/1.1" 200')
    access.warning('10.0.0.7:5123 - "POST / HTTP/1.1" 413')
    logging.getLogger("aiokafka").error("Unable connect to node with id 1")
    logging.getLogger("pymongo").info("heartbeat")
    assert capsys.readouterr() == ("", "")
    logging.getLogger("uvicorn.error").error("worker died")
    (record,) = lines(capsys.readouterr().out)
    assert record["message"] == "worker died"
