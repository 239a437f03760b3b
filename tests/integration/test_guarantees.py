"""Redelivery, garbage and invalid input on the real broker and store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from indgang_contracts.envelope import encode
from indgang_contracts.examples import INQUIRY_RECEIVED

from harness import MONGODB_URI, EventLog, SmtpServer, eventually, produce
from pytest_indgang import System


def _inquiry(suffix: str) -> Any:
    contact = INQUIRY_RECEIVED.contact.model_copy(
        update={"email": f"redeliver-{suffix}@example.dk"}
    )
    return INQUIRY_RECEIVED.model_copy(
        update={
            "inquiry_id": f"00000000-0000-4000-8000-{suffix:0>12}",
            "reference": f"H-R{suffix[-7:]:0>7}",
            "contact": contact,
            "organisation_key": f"email:redeliver-{suffix}@example.dk",
        }
    )


async def test_redelivered_event_makes_one_case_and_one_mail(
    system: System, smtp: SmtpServer
) -> None:
    inquiry = _inquiry("1")
    record = encode(inquiry, source="/test/redelivery")
    headers = [(k, v.encode()) for k, v in record.headers.items()]
    topic = system.topic("indgang.inquiry-received.v1")
    async with EventLog(system.bootstrap, system.topic("indgang.case-routed.v1")) as routed:
        for _ in range(3):  # the same record, as Kafka redelivers it
            await produce(system.bootstrap, topic, record.value, record.key.encode(), headers)
        await routed.wait_for(lambda e: e.data.inquiry_id == inquiry.inquiry_id)
        await eventually(lambda: _mails(smtp, inquiry.contact.email))
        await asyncio.sleep(3)  # time for duplicates, if there were any
        assert len([e for e in routed.envelopes() if e.data.inquiry_id == inquiry.inquiry_id]) == 1
    # One receipt; and whatever else the inquirer gets (the introduction), never twice.
    assert len(smtp.to(inquiry.contact.email, "modtaget")) == 1
    ids = [str(m["Message-ID"]) for m in smtp.to(inquiry.contact.email)]
    assert len(ids) == len(set(ids))
    async with httpx.AsyncClient() as http:
        # Routing's case API is for staff: the team lead sees every case.
        signed_in = await http.post(
            f"{system.url('routing')}/auth/login",
            data={"username": "teamleder", "password": "indgang-dev"},
        )
        assert signed_in.status_code == 303
        cases = (
            await http.get(
                f"{system.url('routing')}/api/v1/cases", params={"inquiry_id": inquiry.inquiry_id}
            )
        ).json()
    assert len(cases) == 1


async def test_garbage_goes_to_dead_letter_and_consumer_goes_on(
    system: System, smtp: SmtpServer
) -> None:
    topic = system.topic("indgang.inquiry-received.v1")
    valid = _inquiry("2")
    valid_record = encode(valid, source="/test/garbage")
    invalid_data = encode(_inquiry("3"), source="/test/garbage")
    async with (
        EventLog(system.bootstrap, system.topic("indgang.dead-letter.v1")) as dead,
        EventLog(system.bootstrap, system.topic("indgang.case-routed.v1")) as routed,
    ):
        # 1. not a CloudEvent at all
        await produce(system.bootstrap, topic, b"\x00\xffnot json", b"garbage-key", [])
        # 2. a CloudEvent whose data violates the schema
        broken = json.loads(invalid_data.value)
        broken["needs"] = ["world_peace"]
        await produce(
            system.bootstrap,
            topic,
            json.dumps(broken).encode(),
            invalid_data.key.encode(),
            [(k, v.encode()) for k, v in invalid_data.headers.items()],
        )
        # 3. a valid event after them is still processed
        await produce(
            system.bootstrap,
            topic,
            valid_record.value,
            valid_record.key.encode(),
            [(k, v.encode()) for k, v in valid_record.headers.items()],
        )
        await routed.wait_for(lambda e: e.data.inquiry_id == valid.inquiry_id)

        async def dead_letters() -> list[dict[str, str]] | None:
            rows = [
                {k: v.decode() for k, v in r.headers}
                for r in dead.records
                if r.key in (b"garbage-key", invalid_data.key.encode())
            ]
            groups = {(row["dlt_consumer_group"], row["dlt_reason"][:20]) for row in rows}
            # routing and notifications both consume inquiry-received: 2 groups x 2 records
            return rows if len(groups) >= 4 else None

        rows = await eventually(dead_letters)
    reasons = " | ".join(row["dlt_reason"] for row in rows)
    assert "not a CloudEvent" in reasons
    assert "needs.0" in reasons
    assert all(row["dlt_original_topic"] == topic for row in rows)
    assert {row["dlt_consumer_group"] for row in rows} == {
        f"test-{system.run_id}.indgang-routing.indgang.inquiry-received.v1",
        f"test-{system.run_id}.indgang-notifications.indgang.inquiry-received.v1",
    }
    await eventually(lambda: _mails(smtp, valid.contact.email))


async def test_invalid_http_input_stores_and_publishes_nothing(system: System) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    inquiries = client[f"t_{system.run_id}_intake"]["inquiries"]
    before = await inquiries.count_documents({})
    async with (
        EventLog(system.bootstrap, system.topic("indgang.inquiry-received.v1")) as events,
        httpx.AsyncClient() as http,
    ):
        await asyncio.sleep(1)
        seen_before = len(events.records)
        response = await http.post(
            f"{system.url('intake')}/api/v1/inquiries",
            json={
                "organisation": {"name": "", "cvr": "12345678", "stage": "idea"},
                "contact": {"name": "A", "email": "nope"},
                "needs": [],
                "description": "x",
                "privacy_notice_accepted": True,
            },
        )
        assert response.status_code == 422
        fields = {".".join(str(p) for p in e["loc"][1:]) for e in response.json()["detail"]}
        assert {"organisation.name", "organisation.cvr", "contact.email", "needs"} <= fields
        await asyncio.sleep(2)
        assert len(events.records) == seen_before
    assert await inquiries.count_documents({}) == before
    await client.close()


async def _mails(smtp: SmtpServer, address: str) -> list[Any]:
    return smtp.to(address)
