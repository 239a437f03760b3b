"""docs/service-accounts.md followed against a running routing (issue 15, point 1): a
program gets a token with its client credentials and makes a referral on a case with it,
with curl (the doc's shell snippet, as written) and with httpx (the doc's Python
snippet); the referral is published as referral-made and names the account as its
maker; a consultant's program works only on that consultant's cases."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import EventLog
from pytest_indgang import System

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "service-accounts.md"


def snippet(language: str, after: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(after) :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} snippet after {after!r}"
    return match.group(1)


def inquiry() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "organisation": {"name": f"Servicekonto Test {tag} ApS", "stage": "start_up"},
        "contact": {
            "name": "Søren Østergaard",
            "email": f"servicekonto.{tag}@virksomhed.example",
            "preferred_language": "da",
        },
        "needs": ["hiring_vulnerable_unemployed"],
        "description": "Vi vil gerne ansætte en person i løntilskud.",
        "privacy_notice_accepted": True,
    }


async def new_case(system: System, http: httpx.AsyncClient, routed: EventLog) -> Any:
    sent = await http.post(f"{system.url('intake')}/api/v1/inquiries", json=inquiry())
    assert sent.status_code == 202, sent.text
    inquiry_id = sent.json()["inquiry_id"]
    return (await routed.wait_for(lambda e: e.data.inquiry_id == inquiry_id)).data


async def token(http: httpx.AsyncClient, routing: str, client_id: str) -> dict[str, str]:
    answer = await http.post(
        f"{routing}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, f"dev-secret-{client_id}"),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq")
async def test_the_docs_curl_and_python_make_referrals(system: System) -> None:
    routing = system.url("routing")
    async with (
        EventLog(system.bootstrap, system.topic("indgang.case-routed.v1")) as routed,
        EventLog(system.bootstrap, system.topic("indgang.referral-made.v1")) as made,
        httpx.AsyncClient(timeout=10) as http,
    ):
        first = await new_case(system, http, routed)
        second = await new_case(system, http, routed)

        # The shell snippet as written, with make up's address replaced by this run's.
        shell = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", snippet("bash", "## Copy-paste")],
            env={**os.environ, "ROUTING": routing, "CASE_ID": first.case_id},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shell.returncode == 0, shell.stderr
        created = httpx.Response(201, content=shell.stdout.strip().splitlines()[-1]).json()
        assert created["case_id"] == first.case_id
        event = await made.wait_for(lambda e: e.data.referral_id == created["referral_id"])
        assert event.data.target.department == "job_centre"

        # The Python snippet, run as a program would.
        namespace: dict[str, Any] = {}
        exec(snippet("python", "## The same in Python"), namespace)
        referral_id = await asyncio.to_thread(
            namespace["refer_case"], routing, "sagssystem", "dev-secret-sagssystem", second.case_id
        )
        await made.wait_for(lambda e: e.data.referral_id == referral_id)

        # The referral names the account that made it (the audit trail on the case).
        bearer = await token(http, routing, "sagssystem")
        case = (await http.get(f"{routing}/api/v1/cases/{second.case_id}", headers=bearer)).json()
        referral = next(r for r in case["referrals"] if r["id"] == referral_id)
        assert referral["made_by"] == "sagssystem"

        # A consultant's program sees that consultant's cases only, as the consultant would.
        robot = await token(http, routing, "ane-kjaer-robot")
        seen = await http.get(f"{routing}/api/v1/cases/{first.case_id}", headers=robot)
        assert seen.status_code == (200 if first.consultant.id == "ane-kjaer" else 403)

        # No token, or a spoiled one: 401, and nothing is made.
        spoiled = {"Authorization": bearer["Authorization"][:-3] + "xyz"}
        attempt = {"department": "job_centre", "purpose": "x", "consent_to_share_contact": False}
        for headers in ({}, spoiled):
            refused = await http.post(
                f"{routing}/api/v1/cases/{first.case_id}/referrals",
                headers={**headers, "accept": "application/json"},
                json=attempt,
            )
            assert refused.status_code == 401
