"""Intake's HTTP rules against the running services (real processes, Kafka and store):
department forwarding by API key, staff intake, idempotent retries, repeat contacts,
bilingual validation, rate limits, body size limits, the honeypot and case closure."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from intake_helpers import IntakeStore, client_ip, inquiry, valid_cvr

from indgang_contracts.envelope import encode
from indgang_contracts.events import CaseStatusChanged
from indgang_contracts.examples import CASE_STATUS_CHANGED

from harness import EventLog, eventually, produce
from pytest_indgang import System

INQUIRIES = "/api/v1/inquiries"


@pytest.fixture
async def store(system: System) -> AsyncIterator[IntakeStore]:
    view = IntakeStore(system.run_id)
    yield view
    await view.close()


@pytest.fixture
async def received(system: System) -> AsyncIterator[EventLog]:
    async with EventLog(system.bootstrap, system.topic("indgang.inquiry-received.v1")) as log:
        yield log


def as_client(ip: str | None = None, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip or client_ip(), **headers}


async def test_department_system_forwards_by_api_key(
    system: System, received: EventLog, store: IntakeStore
) -> None:
    body = inquiry()
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        response = await http.post(
            INQUIRIES, json=body, headers=as_client(**{"X-API-Key": "dev-key-business_service"})
        )
        assert response.status_code == 202, response.text
        accepted = response.json()
        # Stored before the answer was given.
        (doc,) = await store.by_email(body["contact"]["email"])
        assert doc["_id"] == accepted["inquiry_id"]
        assert doc["channel"] == "forwarded"

        event = await received.wait_for(lambda e: e.data.inquiry_id == accepted["inquiry_id"])
        assert event.data.channel.value == "forwarded"
        assert event.data.forwarded_by.value == "business_service"
        assert event.data.received_by == "system:business_service"

        # The public's own submission is not forwarded by anyone.
        public = await http.post(INQUIRIES, json=inquiry(), headers=as_client())
        event = await received.wait_for(lambda e: e.data.inquiry_id == public.json()["inquiry_id"])
        assert (event.data.channel.value, event.data.forwarded_by, event.data.received_by) == (
            "web",
            None,
            None,
        )

        # A wrong key is refused, not quietly treated as the public.
        wrong = await http.post(
            INQUIRIES, json=inquiry(), headers=as_client(**{"X-API-Key": "guess"})
        )
        assert wrong.status_code == 403
        assert wrong.json()["detail_en"] == "Unknown API key."
        # The door is not the inquirer's to choose.
        spoofed = await http.post(
            INQUIRIES,
            json=inquiry(channel="forwarded", forwarded_by="job_centre"),
            headers=as_client(),
        )
        assert spoofed.status_code == 422
        assert {tuple(e["loc"]) for e in spoofed.json()["detail"]} == {
            ("body", "channel"),
            ("body", "forwarded_by"),
        }


async def test_idempotent_retry_returns_the_first_answer_and_stores_once(
    system: System, received: EventLog, store: IntakeStore
) -> None:
    body = inquiry()
    key = str(uuid.uuid4())
    ip = client_ip()
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        first = await http.post(
            INQUIRIES, json=body, headers=as_client(ip, **{"Idempotency-Key": key})
        )
        assert first.status_code == 202, first.text
        assert "idempotent-replayed" not in first.headers
        retry = await http.post(
            INQUIRIES, json=body, headers=as_client(ip, **{"Idempotency-Key": key})
        )
        assert retry.status_code == 202
        assert retry.json() == first.json()
        assert retry.headers["idempotent-replayed"] == "true"

        changed = await http.post(
            INQUIRIES,
            json={**body, "description": "Noget helt andet."},
            headers=as_client(ip, **{"Idempotency-Key": key, "Accept-Language": "en"}),
        )
        assert changed.status_code == 422
        (error,) = changed.json()["detail"]
        assert error["loc"] == ["header", "Idempotency-Key"]
        assert error["type"] == "idempotency_key_reused"
        assert "different request body" in error["msg"]
        assert "anden henvendelse" in error["msg_da"]

        too_long = await http.post(
            INQUIRIES, json=body, headers=as_client(ip, **{"Idempotency-Key": "k" * 256})
        )
        assert too_long.status_code == 422

    assert len(await store.by_email(body["contact"]["email"])) == 1
    await received.wait_for(lambda e: e.data.inquiry_id == first.json()["inquiry_id"])
    await asyncio.sleep(1.5)
    copies = [e for e in received.envelopes() if e.data.contact.email == body["contact"]["email"]]
    assert len(copies) == 1


async def test_outside_providers_do_not_share_idempotency_keys(system: System) -> None:
    """Each outside provider has its own key (issue 12, finding 9), so one provider's
    Idempotency-Key cannot replay another's answer, even for the same body."""
    body = inquiry()
    key = str(uuid.uuid4())
    answers = []
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        for provider in ("mentorhuset", "fondsraadgivning"):
            headers = {"X-API-Key": f"dev-key-provider-{provider}", "Idempotency-Key": key}
            response = await http.post(INQUIRIES, json=body, headers=as_client(**headers))
            assert response.status_code == 202, response.text
            assert "idempotent-replayed" not in response.headers
            answers.append(response.json()["inquiry_id"])
    assert answers[0] != answers[1]


async def test_repeat_contact_is_marked_as_follow_up_of_the_latest_inquiry(
    system: System, received: EventLog
) -> None:
    cvr = valid_cvr()
    # A department system is told it was a follow-up; the public is not
    # (test_no_case_disclosure.py).
    department = as_client(**{"X-API-Key": "dev-key-csr"})
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        first = await http.post(
            INQUIRIES,
            json=inquiry(organisation={"name": "Genbrug ApS", "cvr": cvr, "stage": "idea"}),
            headers=department,
        )
        assert first.json()["follow_up"] is False
        # Same CVR written another way, another person: the same organisation.
        second = await http.post(
            INQUIRIES,
            json=inquiry(
                organisation={"name": "Genbrug", "cvr": f"DK {cvr[:4]} {cvr[4:]}", "stage": "idea"}
            ),
            headers=department,
        )
        assert second.status_code == 202
        assert second.json()["follow_up"] is True
        third = await http.post(
            INQUIRIES,
            json=inquiry(organisation={"name": "Genbrug", "cvr": cvr, "stage": "start_up"}),
            headers=department,
        )
    event = await received.wait_for(lambda e: e.data.inquiry_id == second.json()["inquiry_id"])
    assert event.data.follow_up_of == first.json()["inquiry_id"]
    assert event.data.organisation_key == f"cvr:{cvr}"
    event = await received.wait_for(lambda e: e.data.inquiry_id == third.json()["inquiry_id"])
    assert event.data.follow_up_of == second.json()["inquiry_id"]


async def test_validation_messages_per_field_in_danish_and_english(
    system: System, store: IntakeStore
) -> None:
    bad = inquiry(
        organisation={"name": "X", "cvr": "DK 35 95 47 17", "stage": "idea"},
        contact={"name": "A", "email": "a@b", "phone": "+45 12"},
        needs=["rsv_registration", "world_peace"],
        description="x" * 5001,
    )
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        danish = await http.post(INQUIRIES, json=bad, headers=as_client())
        english = await http.post(f"{INQUIRIES}?lang=en", json=bad, headers=as_client())
        by_header = await http.post(
            INQUIRIES, json=bad, headers=as_client(**{"Accept-Language": "en-GB,en;q=0.8"})
        )
    assert danish.status_code == english.status_code == 422
    fields = {".".join(map(str, e["loc"][1:])): e for e in danish.json()["detail"]}
    assert set(fields) == {
        "organisation.cvr",
        "contact.email",
        "contact.phone",
        "needs.1",
        "description",
    }
    assert fields["organisation.cvr"]["type"] == "cvr_invalid"
    assert fields["organisation.cvr"]["msg"].startswith("CVR-nummeret")
    assert fields["description"]["msg"] == fields["description"]["msg_da"]
    assert "5001" in fields["description"]["msg"]
    english_cvr = next(e for e in english.json()["detail"] if e["loc"][-1] == "cvr")
    assert english_cvr["msg"].startswith("The CVR number")
    assert by_header.json()["detail"][0]["msg"] == by_header.json()["detail"][0]["msg_en"]
    assert await store.by_email("a@b") == []


async def test_staff_register_phone_and_forwarded_inquiries(
    system: System, received: EventLog
) -> None:
    base = system.url("intake")
    async with httpx.AsyncClient(base_url=base, timeout=10) as anonymous:
        page = await anonymous.get("/medarbejder/henvendelse", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].startswith("/auth/login")

    async with httpx.AsyncClient(base_url=base, timeout=10) as editor:
        await editor.post("/auth/login", data={"username": "redaktoer", "password": "indgang-dev"})
        assert (await editor.get("/medarbejder/henvendelse")).status_code == 403

    async with httpx.AsyncClient(base_url=base, timeout=10) as staff:
        login = await staff.post(
            "/auth/login", data={"username": "ane-kjaer", "password": "indgang-dev"}
        )
        assert login.status_code == 303
        form = await staff.get("/medarbejder/henvendelse")
        assert form.status_code == 200
        token = re.search(r'name="form_token" value="([^"]+)"', form.text)
        assert token is not None
        # The staff form carries the session's CSRF token; without it nothing is taken.
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None

        fields: dict[str, Any] = {
            "form_token": token.group(1),
            "channel": "forwarded",
            "forwarded_by": "",
            "organisation_name": "Værkstedet Ølstykke",
            "organisation_stage": "established_social_economy",
            "contact_name": "Bjørn Åkjær",
            "contact_email": f"bjorn.{uuid.uuid4().hex[:6]}@example.dk",
            "contact_language": "da",
            "needs": ["selling_to_municipality"],
            "description": "Ringede til indkøb, som sendte ham videre hertil.",
            "privacy_notice_accepted": "yes",
        }
        forged = await staff.post("/medarbejder/henvendelse", data=fields)
        assert forged.status_code == 403
        fields["csrf"] = csrf.group(1)
        missing_department = await staff.post("/medarbejder/henvendelse", data=fields)
        assert missing_department.status_code == 422
        assert 'href="#forwarded-by"' in missing_department.text
        assert "Værkstedet Ølstykke" in missing_department.text  # kept

        done = await staff.post(
            "/medarbejder/henvendelse", data={**fields, "forwarded_by": "procurement"}
        )
        assert done.status_code == 200, done.text
        reference = re.search(r'id="reference">([^<]+)<', done.text)
        assert reference is not None
        event = await received.wait_for(lambda e: e.data.reference == reference.group(1))
        assert event.data.channel.value == "forwarded"
        assert event.data.forwarded_by.value == "procurement"
        assert event.data.received_by == "ane-kjaer"

        phone = await staff.post(
            "/medarbejder/henvendelse",
            data={
                **fields,
                "form_token": token.group(1) + "x",
                "channel": "phone",
                "contact_email": f"telefon.{uuid.uuid4().hex[:6]}@example.dk",
            },
        )
        reference = re.search(r'id="reference">([^<]+)<', phone.text)
        assert reference is not None
        event = await received.wait_for(lambda e: e.data.reference == reference.group(1))
        assert (event.data.channel.value, event.data.forwarded_by) == ("phone", None)
        assert event.data.received_by == "ane-kjaer"


async def test_rate_limit_answers_429_with_retry_after(system: System) -> None:
    ip = client_ip()
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        # Ten per minute per client, counted whether the input was good or not.
        for _ in range(10):
            response = await http.post(INQUIRIES, json={"needs": []}, headers=as_client(ip))
            assert response.status_code == 422
        limited = await http.post(INQUIRIES, json=inquiry(), headers=as_client(ip))
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "Too many" in limited.json()["detail_en"]

        # The form shares the client's budget; the page keeps what was typed.
        page = await http.post(
            "/",
            data={"organisation_name": "Ærø Kaffe", "contact_email": "x@y.dk"},
            headers=as_client(ip, Accept="text/html"),
        )
        assert page.status_code == 429
        assert "retry-after" in page.headers
        assert 'value="Ærø Kaffe"' in page.text
        assert 'id="rate-limit"' in page.text

        # Other clients are not affected; department systems have their own budget.
        assert (await http.post(INQUIRIES, json=inquiry(), headers=as_client())).status_code == 202
        forwarded = await http.post(
            INQUIRIES, json=inquiry(), headers=as_client(ip, **{"X-API-Key": "dev-key-csr"})
        )
        assert forwarded.status_code == 202

    # Client addresses are used, not stored: not even in the service's log.
    log = system.services["intake"].log_path
    assert log is not None
    assert ip not in log.read_text(errors="replace")


async def streamed(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 8192 + 1):
        yield b" " * 8192


async def test_body_size_limit_answers_413(system: System, store: IntakeStore) -> None:
    big = inquiry(description="æ" * 40_000)  # 80 KB of UTF-8, over 64 KiB
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        declared = await http.post(INQUIRIES, json=big, headers=as_client())
        assert declared.status_code == 413
        assert "65536" in declared.json()["detail_en"]
        chunked = await http.post(
            INQUIRIES,
            content=streamed(100_000),
            headers=as_client(**{"Content-Type": "application/json"}),
        )
        assert "content-length" not in chunked.request.headers
        assert chunked.status_code == 413
        page = await http.post(
            "/",
            data={"description": "ø" * 40_000},
            headers=as_client(Accept="text/html"),
        )
        assert page.status_code == 413
        assert "Henvendelsen er for stor" in page.text
    assert await store.by_email(big["contact"]["email"]) == []


async def test_honeypot_pretends_success_and_stores_nothing(
    system: System, store: IntakeStore, received: EventLog
) -> None:
    email = f"robot.{uuid.uuid4().hex[:6]}@spam.example"
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        form = await http.get("/", headers=as_client())
        assert 'class="indgang-honeypot"' in form.text
        honeypot = re.search(r"<input[^>]*name=\"website\"[^>]*>", form.text)
        assert honeypot is not None
        assert 'tabindex="-1"' in honeypot.group(0)
        assert 'autocomplete="off"' in honeypot.group(0)
        response = await http.post(
            "/",
            data={
                "organisation_name": "Billige Ure",
                "organisation_stage": "idea",
                "contact_name": "Bot",
                "contact_email": email,
                "contact_language": "da",
                "needs": ["other"],
                "description": "Køb ure!",
                "privacy_notice_accepted": "yes",
                "website": "http://spam.example",
            },
            headers=as_client(),
        )
    assert response.status_code == 200
    assert re.search(r'id="reference">H-[0-9A-Z]{8}<', response.text)
    assert await store.by_email(email) == []
    await asyncio.sleep(2)
    assert not [e for e in received.envelopes() if e.data.contact.email == email]


async def test_case_closed_on_kafka_is_recorded_for_the_deletion_deadline(
    system: System, store: IntakeStore
) -> None:
    body = inquiry()
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        accepted = (await http.post(INQUIRIES, json=body, headers=as_client())).json()
    closed_at = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    event = CaseStatusChanged.model_validate(
        {
            **CASE_STATUS_CHANGED.model_dump(),
            "case_id": str(uuid.uuid4()),
            "reference": accepted["reference"],
            "status": "closed",
            "previous_status": "in_progress",
            "changed_at": closed_at,
            "outcome": "Afsluttet.",
        }
    )
    record = encode(event, source="/indgang/routing")
    await produce(
        system.bootstrap,
        system.topic(record.topic),
        record.value,
        record.key.encode(),
        [(k, v.encode()) for k, v in record.headers.items()],
    )

    async def closed() -> dict[str, Any] | None:
        (doc,) = await store.by_email(body["contact"]["email"])
        return doc if doc.get("case_closed_at") else None

    doc = await eventually(closed)
    assert doc["case_closed_at"] == closed_at
    assert doc["case_id"] == event.case_id


async def test_openapi_documents_keys_idempotency_and_bilingual_errors(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        spec = (await http.get("/openapi.json")).json()
        assert (await http.get("/docs")).status_code == 200
    post = spec["paths"]["/api/v1/inquiries"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}
    assert {"409", "413", "422", "429"} <= set(post["responses"])
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])
    assert "msg_da" in spec["components"]["schemas"]["ErrorItem"]["properties"]
    assert "/" not in spec["paths"]  # the pages are not part of the API document
