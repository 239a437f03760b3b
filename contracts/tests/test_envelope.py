"""CloudEvents binary mode: what we write, any CloudEvents reader can read; garbage is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from indgang_contracts import InquiryReceived, InvalidEvent, decode, encode
from indgang_contracts.generate import schemas

INQUIRY = InquiryReceived.model_validate(
    {
        "municipality_code": "756",
        "inquiry_id": "9a1e0c1e-1111-4a4a-8f8f-000000000001",
        "reference": "H-ABCDEFGH",
        "received_at": datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        "channel": "web",
        "organisation_key": "cvr:35954716",
        "organisation": {"name": "Kaffe & Omsorg ApS", "cvr": "35954716", "stage": "start_up"},
        "contact": {"name": "Åse Ødegård", "email": "aase@example.dk"},
        "needs": ["hiring_vulnerable_unemployed"],
        "description": "Vi vil ansætte to i løntilskud.",
        "privacy_notice_version": "2026-11",
    }
)


def _headers(record_headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in record_headers.items()]


def test_binary_mode_headers_and_body() -> None:
    record = encode(INQUIRY, source="/indgang/intake")
    assert record.topic == "indgang.inquiry-received.v1"
    assert record.key == "cvr:35954716"
    for header in ("ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion", "ce_subject"):
        assert header in record.headers
    assert record.headers["ce_type"] == "dk.indgang.inquiry-received.v1"
    assert record.headers["ce_specversion"] == "1.0"
    assert record.headers["content-type"] == "application/json"
    assert record.headers["ce_municipalitycode"] == "756"
    body = json.loads(record.value)
    assert body["contact"]["name"] == "Åse Ødegård"
    jsonschema.validate(body, schemas()["inquiry-received.v1.json"])


def test_round_trip() -> None:
    record = encode(INQUIRY, source="/indgang/intake")
    envelope = decode(_headers(record.headers), record.value, record.key.encode())
    assert envelope.data == INQUIRY
    assert envelope.id == record.headers["ce_id"]
    assert envelope.source == "/indgang/intake"


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ([], b"{}", "not a CloudEvent"),
        (
            [
                ("ce_id", b"1"),
                ("ce_type", b"dk.indgang.nope.v1"),
                ("ce_source", b"/x"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/json"),
            ],
            b"{}",
            "unknown event type",
        ),
        (
            [
                ("ce_id", b"1"),
                ("ce_type", b"dk.indgang.inquiry-received.v1"),
                ("ce_source", b"/x"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/json"),
            ],
            b"\xff\xfe{",
            "not a JSON object",
        ),
        (
            [
                ("ce_id", b"1"),
                ("ce_type", b"dk.indgang.inquiry-received.v1"),
                ("ce_source", b"/x"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/json"),
            ],
            b'{"municipality_code": "756"}',
            "invalid dk.indgang.inquiry-received.v1 data",
        ),
    ],
)
def test_invalid_records_are_refused_with_reason(
    headers: list[tuple[str, bytes]], value: bytes, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(headers, value)
    assert reason in caught.value.reason
