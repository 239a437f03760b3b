"""Signatures, retry policy, subscription validation, the delivery log's search terms and
the purge's days: pure functions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from indgang_notifications.domain.delivery_log import (
    created_hour,
    newest_first,
    recent_hours,
    search_term,
    search_terms,
)
from indgang_notifications.domain.retention import days_to_visit, finished_through
from indgang_notifications.domain.retry import RetryPolicy
from indgang_notifications.domain.signature import signature, verify
from indgang_notifications.domain.subscriptions import Subscription
from indgang_runtime.deadline_days import scheduled_day

SECRET = "whsec-test-0123456789abcdef"


@given(body=st.binary(max_size=2000), timestamp=st.integers(1_600_000_000, 2_000_000_000))
def test_signature_verifies_only_the_signed_body(body: bytes, timestamp: int) -> None:
    header = signature(SECRET, timestamp, body)
    assert verify(header, body, SECRET, now=timestamp + 10)
    assert not verify(header, body + b"x", SECRET, now=timestamp + 10)
    assert not verify(header, body, SECRET + "x", now=timestamp + 10)


def test_signature_rejects_replays_outside_the_window_and_garbage() -> None:
    header = signature(SECRET, 1_800_000_000, b"{}")
    assert verify(header, b"{}", SECRET, now=1_800_000_300)
    assert not verify(header, b"{}", SECRET, now=1_800_000_301)
    assert not verify(header, b"{}", SECRET, now=1_799_999_699)
    assert not verify("v1=abc", b"{}", SECRET, now=1_800_000_000)
    assert not verify("t=notanumber,v1=abc", b"{}", SECRET, now=1_800_000_000)
    assert not verify("", b"{}", SECRET, now=1_800_000_000)


@given(attempts=st.integers(1, 50), seed=st.integers())
def test_backoff_grows_is_capped_and_jittered(attempts: int, seed: int) -> None:
    policy = RetryPolicy(base_seconds=2.0, max_seconds=600.0, max_attempts=8)
    delay = policy.delay(attempts, random.Random(seed))
    raw = min(600.0, 2.0 * 2 ** (attempts - 1))
    assert 0.5 * raw <= delay <= 1.5 * raw
    assert policy.gives_up_after(attempts) == (attempts >= 8)


def test_backoff_spreads_deliveries_that_failed_together() -> None:
    policy = RetryPolicy(1.0, 60.0, 5)
    rng = random.Random(7)
    assert len({round(policy.delay(3, rng), 6) for _ in range(20)}) > 1


WEBHOOK = {
    "id": "jobcenter",
    "name": "Jobcentrets fagsystem",
    "event_types": ["referral-made"],
    "channel": "webhook",
    "url": "https://jc.example/hook",
    "secret": "s" * 20,
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"event_types": ["notification-delivered"]}, "unknown event types"),
        ({"secret": None}, "needs a 'secret'"),
        ({"url": "ftp://x"}, "http(s) 'url'"),
        ({"channel": "email", "email": "a@b.dk", "event_types": ["case-routed"]}, "use a webhook"),
        ({"id": "Has Spaces"}, "id"),
        ({"filters": [{"field": "target.department", "values": []}]}, "values"),
    ],
)
def test_invalid_subscriptions_are_refused_with_the_reason(
    change: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Subscription.model_validate({**WEBHOOK, **change})


def test_public_view_never_shows_the_secret() -> None:
    shown = Subscription.model_validate(WEBHOOK).public()
    assert "secret" not in shown
    assert shown["has_secret"] is True
    assert "s" * 20 not in str(shown)


def test_a_delivery_is_found_by_each_id_in_any_letter_case() -> None:
    terms = search_terms("case-7", None, "H-2026-000123", " Aase@Example.DK ")
    assert terms == ["aase@example.dk", "case-7", "h-2026-000123"]
    assert search_term("  h-2026-000123") in terms
    assert search_term("AASE@example.dk") in terms


def test_the_listing_reads_hours_newest_first_in_utc() -> None:
    at = datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert created_hour(at) == "2026-02-28T23"
    assert recent_hours(at, 3) == ["2026-02-28T23", "2026-02-28T22", "2026-02-28T21"]
    assert len(recent_hours(at)) == 48
    rows = [
        {"id": n, "status": status, "created_at": at + timedelta(minutes=n)}
        for n, status in enumerate(["sent", "dead", "sent", "pending"])
    ]
    assert [r["id"] for r in newest_first(rows)] == [3, 2, 1, 0]
    assert [r["id"] for r in newest_first(rows, "sent", limit=1)] == [2]


def test_a_deadline_is_filed_under_its_day_or_today_if_it_has_passed() -> None:
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    assert scheduled_day(datetime(2026, 7, 10, 23, 59, tzinfo=UTC), now) == "2026-07-10"
    # 00:30 in Copenhagen in summer is the evening before in UTC.
    local = datetime(2026, 7, 11, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert scheduled_day(local, now) == "2026-07-10"
    assert scheduled_day(now - timedelta(days=3), now) == "2026-06-10"


def test_the_purge_finishes_a_day_only_well_after_it_ended() -> None:
    assert finished_through(datetime(2026, 6, 11, 0, 30, tzinfo=UTC)) == date(2026, 6, 9)
    assert finished_through(datetime(2026, 6, 11, 1, 30, tzinfo=UTC)) == date(2026, 6, 10)
    now = datetime(2026, 6, 11, 0, 30, tzinfo=UTC)
    assert days_to_visit(date(2026, 6, 8), now) == ["2026-06-09", "2026-06-10", "2026-06-11"]
    assert days_to_visit(None, now) == ["2026-06-10", "2026-06-11"]
