"""flaky_webhook as the driver runs it: requests signed and sent by notifications' own
webhook adapter (the structured CloudEvent body, its signature and delivery id headers)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flaky_webhook import verify_signature, webhook_timeout
from records import iter_jsonl, read_jsonl, webhook_summary

from indgang_contracts.envelope import decode, encode
from indgang_contracts.examples import CASE_ROUTED
from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.cloudevent import structured
from indgang_notifications.domain.signature import signature
from indgang_notifications.settings import DEVELOPMENT_NETWORKS

SECRET = "prove-webhook-secret-0123456789"


def body() -> bytes:
    record = encode(CASE_ROUTED, source="/indgang/routing", event_id="event-1")
    envelope = decode([(k, v.encode()) for k, v in record.headers.items()], record.value)
    return structured(envelope)


async def post(port: int, delivery: str = "delivery-1", timeout: float = 5.0) -> str:
    """What notifications' sender makes of the answer: "sent", or the error."""
    sender = WebhookSender(
        timeout, allow_plain_http=True, user_agent="prove-test", allowed=DEVELOPMENT_NETWORKS
    )
    try:
        await sender.post(f"http://127.0.0.1:{port}/hooks/jobcenter", SECRET, body(), delivery)
    except SendFailed as exc:
        return f"{'permanent' if exc.permanent else 'transient'}: {exc}"
    finally:
        await sender.close()
    return "sent"


async def test_a_taken_request_is_one_line(start_tool: Callable[..., Any]) -> None:
    tool = start_tool(
        "flaky_webhook.py", "--secret", SECRET, "--fail-rate", "0", "--slow-rate", "0"
    )
    assert await post(tool.port) == "sent"
    [line] = read_jsonl(tool.out)
    assert line["status"] == 204
    assert line["signature_ok"] is True
    assert line["path"] == "/hooks/jobcenter"
    assert line["delivery_id"] == "delivery-1"
    assert line["event_id"] == "event-1"
    assert line["event_type"] == "dk.indgang.case-routed.v1"
    assert line["subject"] == CASE_ROUTED.subject()
    assert line["outcome"] == "ok"
    assert line["slow"] is False
    assert line["content_type"].startswith("application/cloudevents+json")


async def test_rate_one_answers_500_which_the_sender_retries(
    start_tool: Callable[..., Any],
) -> None:
    tool = start_tool(
        "flaky_webhook.py", "--secret", SECRET, "--fail-rate", "1", "--slow-rate", "0"
    )
    outcomes = [await post(tool.port, f"d{i}") for i in range(5)]
    assert outcomes == ["transient: HTTP 500 from receiver"] * 5
    lines = read_jsonl(tool.out)
    assert [line["status"] for line in lines] == [500] * 5
    assert webhook_summary(lines).never_taken == {f"d{i}" for i in range(5)}


async def test_rate_zero_never_fails_and_a_rate_between_fails_some(
    start_tool: Callable[..., Any],
) -> None:
    never = start_tool(
        "flaky_webhook.py", "--secret", SECRET, "--fail-rate", "0", "--slow-rate", "0"
    )
    assert [await post(never.port, f"d{i}") for i in range(20)] == ["sent"] * 20
    some = start_tool(
        "flaky_webhook.py",
        "--secret",
        SECRET,
        "--fail-rate",
        "0.3",
        "--slow-rate",
        "0",
        "--seed",
        "3",
    )
    outcomes = [await post(some.port, f"d{i}") for i in range(60)]
    failed = sum(o != "sent" for o in outcomes)
    assert 6 <= failed <= 36, failed  # seeded: the same count every run
    assert sum(line["status"] == 500 for line in read_jsonl(some.out)) == failed


async def test_a_slow_answer_outlasts_the_senders_timeout_and_is_recorded_after(
    start_tool: Callable[..., Any],
) -> None:
    tool = start_tool(
        "flaky_webhook.py",
        "--secret",
        SECRET,
        "--fail-rate",
        "0",
        "--slow-rate",
        "1",
        "--slow-seconds",
        "1.5",
    )
    started = time.monotonic()
    outcome = await post(tool.port, timeout=0.5)
    assert outcome.startswith("transient: the receiver did not answer in time"), outcome
    assert time.monotonic() - started < 1.4
    for _ in range(50):
        if read_jsonl(tool.out):
            break
        await asyncio.sleep(0.1)
    [line] = read_jsonl(tool.out)
    assert line["slow"] is True
    assert line["outcome"] == "slow"
    assert webhook_summary([line]).refused == {"delivery-1": 1}


async def test_a_bad_signature_gets_401_and_sigusr1_stops_the_failures(
    start_tool: Callable[..., Any],
) -> None:
    tool = start_tool(
        "flaky_webhook.py", "--secret", SECRET, "--fail-rate", "1", "--slow-rate", "0"
    )
    async with httpx.AsyncClient() as client:
        timestamp = int(time.time())
        answer = await client.post(
            f"http://127.0.0.1:{tool.port}/x",
            content=body(),
            headers={"X-Indgang-Signature": signature("wrong-secret", timestamp, body())},
        )
    assert answer.status_code == 401
    assert tool.signal(signal.SIGUSR1) == "failing off"
    assert await post(tool.port) == "sent"
    assert tool.signal(signal.SIGUSR1) == "failing on"
    assert (await post(tool.port)).startswith("transient: HTTP 500")
    lines = read_jsonl(tool.out)
    assert [(line["signature_ok"], line["status"]) for line in lines] == [
        (False, 401),
        (True, 204),
        (True, 500),
    ]


def test_signature_check_matches_notifications() -> None:
    payload = b'{"id":"1"}'
    now = int(time.time())
    assert verify_signature(signature(SECRET, now, payload), payload, SECRET, now)
    assert not verify_signature(signature(SECRET, now, payload), payload + b" ", SECRET, now)
    assert not verify_signature(signature(SECRET, now - 301, payload), payload, SECRET, now)
    rotated = (
        f"{signature('old-secret-0123456789', now, payload)},v1="
        + signature(SECRET, now, payload).split("v1=")[1]
    )
    assert verify_signature(rotated, payload, SECRET, now)


def test_slow_default_is_notifications_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_TIMEOUT_SECONDS", raising=False)
    assert webhook_timeout() == 10.0
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "3.5")
    assert webhook_timeout() == 3.5


def test_reading_skips_a_line_being_written(tmp_path: Any) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps({"a": 1}) + "\n" + '{"b": ', encoding="utf-8")
    assert list(iter_jsonl(path)) == [{"a": 1}]
    assert list(iter_jsonl(tmp_path / "missing.jsonl")) == []
