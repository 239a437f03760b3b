"""Issue 12, finding 10: the public's answer does not reveal whether an e-mail address
(or CVR number) already has a case. A first and a repeat inquiry from the same address
get the same status, the same headers and the same body apart from their own id and
reference, from the JSON API and from the form; a department system (authenticated) is
still told that it was a follow-up."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from intake_helpers import IntakeStore, client_ip, inquiry

from pytest_indgang import System

INQUIRIES = "/api/v1/inquiries"
# What differs between any two answers, whoever sent them.
OWN = {"inquiry_id", "reference"}
VARYING_HEADERS = {"date", "content-length", "set-cookie"}


@pytest.fixture
async def store(system: System) -> AsyncIterator[IntakeStore]:
    view = IntakeStore(system.run_id)
    yield view
    await view.close()


def same_address(email: str) -> dict[str, Any]:
    """An inquiry without CVR: the e-mail address is what makes it the same organisation."""
    body = inquiry()
    body["organisation"] = {"name": "Kaffe & Omsorg", "stage": "start_up"}
    body["contact"]["email"] = email
    return body


def header_names(response: httpx.Response) -> set[str]:
    return {name.lower() for name in response.headers} - VARYING_HEADERS


async def test_the_public_api_answers_a_repeat_inquiry_like_a_first(
    system: System, store: IntakeStore
) -> None:
    email = f"gentaget.{uuid.uuid4().hex[:8]}@example.dk"
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        answers = [
            await http.post(
                INQUIRIES, json=same_address(email), headers={"X-Forwarded-For": client_ip()}
            )
            for _ in range(2)
        ]
        first, repeat = answers
        assert first.status_code == repeat.status_code == 202
        assert header_names(first) == header_names(repeat)
        assert {k: v for k, v in first.json().items() if k not in OWN} == {
            k: v for k, v in repeat.json().items() if k not in OWN
        }
        assert repeat.json()["follow_up"] is False

        # It was a follow-up all the same, and a department system is told so.
        stored = {d["_id"]: d for d in await store.by_email(email)}
        assert stored[repeat.json()["inquiry_id"]]["follow_up_of"] == first.json()["inquiry_id"]
        forwarded = await http.post(
            INQUIRIES,
            json=same_address(email),
            headers={"X-Forwarded-For": client_ip(), "X-API-Key": "dev-key-csr"},
        )
        assert forwarded.json()["follow_up"] is True


def receipt_without_reference(page: httpx.Response) -> str:
    reference = re.search(r'id="reference">([^<]+)<', page.text)
    assert reference is not None, page.text
    return page.text.replace(reference.group(1), "REFERENCE")


async def test_the_public_receipt_of_a_repeat_inquiry_is_the_same_page(system: System) -> None:
    email = f"formular.{uuid.uuid4().hex[:8]}@example.dk"
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        receipts = []
        for _ in range(2):
            headers = {"X-Forwarded-For": client_ip(), "Accept": "text/html"}
            form = await http.get("/", headers=headers)
            token = re.search(r'name="form_token" value="([^"]+)"', form.text)
            assert token is not None
            fields = {
                "form_token": token.group(1),
                "organisation_name": "Kaffe & Omsorg",
                "organisation_stage": "start_up",
                "contact_name": "Åse Ødegård",
                "contact_email": email,
                "contact_language": "da",
                "needs": ["hiring_vulnerable_unemployed"],
                "description": "Vi vil gerne ansætte to personer i løntilskud.",
                "privacy_notice_accepted": "yes",
            }
            receipts.append(await http.post("/", data=fields, headers=headers))
        first, repeat = receipts
        assert first.status_code == repeat.status_code == 200
        assert header_names(first) == header_names(repeat)
        assert receipt_without_reference(first) == receipt_without_reference(repeat)
        assert 'id="follow-up"' not in repeat.text
        # Where to go is on the receipt too (issue 13, point 9).
        assert 'id="unit"' in first.text
        assert "12 34 56 78" in first.text
