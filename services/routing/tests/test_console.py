"""The console and the JSON API over HTTP (in-process ASGI) on the real store.

The browser tests (test_console_browser.py) drive the same pages in Chromium;
these cover the rules behind each form and each API answer.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from indgang_contracts.events import (
    CaseRouted,
    GuideEntriesShared,
    ReferralMade,
    ReferralUpdated,
)
from indgang_routing.adapters.guide import GuideClient

from harness import serving

PASSWORD = "indgang-dev"


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 303, response.text
    # Every later POST/PUT/DELETE of this session carries its CSRF token (issue 12).
    session = await client.get("/auth/session")
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]


def flash(html: str) -> str:
    found = re.search(
        r'id="flash">\s*<div class="alert-body"><p class="alert-text">(.*?)</p>', html
    )
    return htmllib.unescape(found.group(1)) if found else ""


async def post(client: httpx.AsyncClient, url: str, data: dict[str, Any]) -> str:
    """Submit a console form: 303 back, then the page with its message."""
    response = await client.post(url, data=data)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    return flash(page.text)


@pytest.fixture
async def ane_case(routing: Any) -> str:
    return str(await routing.use.routing.route_inquiry(routing.inquiry(1)))


async def test_my_cases_put_overdue_first_contacts_on_top(routing: Any) -> None:
    use = routing.use
    fresh = await use.routing.route_inquiry(routing.inquiry(1))
    late = await use.routing.route_inquiry(routing.inquiry(2, organisation_key="cvr:12345674"))
    await routing.cases.update_one({"_id": late}, {"$set": {"first_contact_due": "2026-01-05"}})
    async with routing.client() as client:
        page = await client.get("/sager", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/auth/login?next=/sager"
        await login(client, "ane-kjaer")
        html = (await client.get("/sager")).text
    assert 'lang="da"' in html
    assert "Mine sager" in html
    assert html.index("H-T0000002") < html.index("H-T0000001")
    assert "Overskredet" in html
    assert fresh in html
    assert "/assets/dkfds/css/dkfds-virkdk.min.css" in html


async def test_case_page_works_without_the_guide_and_actions_follow_the_rules(
    routing: Any, ane_case: str
) -> None:
    url = f"/sager/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        html = (await client.get(url)).text
        assert "Kaffe &amp; Omsorg ApS" in html
        assert "Ansættelse af udsatte ledige" in html
        assert 'id="guide-unavailable"' in html  # guide is down; the page still works
        assert "Registrér første kontakt" in html
        assert "Genåbn sagen" not in html

        today = routing.use.ctx.local_day(routing.use.ctx.now())
        future = (today + timedelta(days=3)).isoformat()
        message = await post(
            client, f"{url}/foerste-kontakt", {"channel": "phone", "contact_date": future}
        )
        assert message == "Datoen for første kontakt kan ikke ligge i fremtiden."
        message = await post(
            client,
            f"{url}/foerste-kontakt",
            {"channel": "phone", "contact_date": today.isoformat()},
        )
        assert message == "Første kontakt er registreret."
        message = await post(
            client,
            f"{url}/foerste-kontakt",
            {"channel": "phone", "contact_date": today.isoformat()},
        )
        assert message == "Første kontakt er allerede registreret."
        assert await post(client, f"{url}/luk", {"outcome": ""}) == (
            "Skriv sagens udfald, når du lukker den."
        )
        # Closing tells the enterprise why, unless the consultant chooses not to.
        assert await post(client, f"{url}/luk", {"outcome": "Hjulpet videre."}) == (
            "Skriv en besked til virksomheden om, hvorfor sagen lukkes, eller vælg "
            "»Send ikke besked«."
        )
        closing = {"outcome": "Hjulpet videre.", "message_to_enterprise": "I har fået svar."}
        assert await post(client, f"{url}/luk", {**closing, "no_message": "1"}) == (
            "Du har skrevet en besked til virksomheden og samtidig valgt »Send ikke "
            "besked«. Fjern beskeden eller fjern krydset."
        )
        assert await post(client, f"{url}/luk", closing) == "Sagen er lukket."
        assert await post(client, f"{url}/luk", {"outcome": "igen", "no_message": "1"}) == (
            "Sagen er allerede lukket."
        )
        html = (await client.get(url)).text
        assert "Genåbn sagen" in html
        assert (
            "Sagen er lukket. Udfald: Hjulpet videre. Virksomheden får besked: »I har fået svar.«"
            in html.replace("&#34;", '"')
        )
        assert await post(client, f"{url}/genaabn", {}) == "Sagen er genåbnet."


async def test_referral_form_notes_and_other_consultants(routing: Any, ane_case: str) -> None:
    url = f"/sager/{ane_case}"
    form = {
        "department": "job_centre",
        "purpose": "Afklaring af løntilskud.",
        "needs": ["hiring_vulnerable_unemployed"],
        "response_due": (date.today() + timedelta(days=14)).isoformat(),
    }
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        assert "samtykke" in await post(client, f"{url}/henvisninger", form)
        assert await post(
            client, f"{url}/henvisninger", {**form, "purpose": " ", "consent": "ja"}
        ) == ("Skriv formålet med henvisningen.")
        assert await post(client, f"{url}/henvisninger", {**form, "consent": "nej"}) == (
            "Henvisningen er sendt."
        )
        assert await post(client, f"{url}/noter", {"text": "Ringer igen torsdag."}) == (
            "Noten er gemt."
        )
        html = (await client.get(url)).text
        assert "Jobcentret" in html
        assert "Sendt uden kontaktoplysninger (intet samtykke)." in html
        assert "Ringer igen torsdag." in html

        await client.post("/auth/logout")
        await login(client, "bjarne-holm")
        other = await client.get(url)
        assert other.status_code == 403
        assert "Kun sagens konsulent eller teamlederen" in other.text
        attempt = await client.post(f"{url}/noter", data={"text": "Bjarne var her"})
        assert attempt.status_code == 403
    (made,) = await routing.events(ane_case, ReferralMade)
    assert made.data.contact is None
    case = await routing.case(ane_case)
    assert [n["text"] for n in case["notes"]] == ["Ringer igen torsdag."]
    # Notes are internal: no event carries them.
    assert all("Ringer igen" not in e["value"] for e in case["outbox"])


async def test_department_api_answers_only_its_own_referrals(routing: Any, ane_case: str) -> None:
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        created = await client.post(
            f"/api/v1/cases/{ane_case}/referrals",
            json={
                "department": "job_centre",
                "purpose": "Afklaring af løntilskud.",
                "consent_to_share_contact": True,
            },
        )
        assert created.status_code == 201, created.text
        referral_id = created.json()["referral_id"]
    answer = f"/api/v1/referrals/{referral_id}/answer"
    async with routing.client() as department:
        accepted = {"status": "accepted"}
        assert (await department.post(answer, json=accepted)).status_code == 401
        wrong = await department.post(answer, json=accepted, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 403
        csr = await department.post(answer, json=accepted, headers={"X-API-Key": "dev-key-csr"})
        assert csr.status_code == 403
        assert "answering someone else's referral" in csr.json()["detail"]

        job = {"X-API-Key": "dev-key-job_centre"}
        read = await department.get(f"/api/v1/referrals/{referral_id}", headers=job)
        assert read.json()["contact"]["email"] == "aase@kaffeogomsorg.example"
        no_reason = await department.post(answer, json={"status": "declined"}, headers=job)
        assert no_reason.status_code == 422
        ok = await department.post(answer, json=accepted, headers=job)
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"referral_id": referral_id, "case_id": ane_case, "status": "accepted"}
        again = await department.post(answer, json=accepted, headers=job)
        assert again.status_code == 200  # the same answer repeated changes nothing
        done = {
            "status": "completed",
            "outcome": {"summary": "To i løntilskud.", "wage_subsidy_hires": 2},
        }
        assert (await department.post(answer, json=done, headers=job)).status_code == 200
        late = await department.post(answer, json={"status": "accepted"}, headers=job)
        assert late.status_code == 409
        assert "afsluttet" in late.json()["detail"]
        missing = await department.post(
            "/api/v1/referrals/no-such/answer", json=accepted, headers=job
        )
        assert missing.status_code == 404
    updates = await routing.events(ane_case, ReferralUpdated)
    assert [u.data.status.value for u in updates] == ["accepted", "completed"]
    assert updates[1].data.outcome.wage_subsidy_hires == 2
    case = await routing.case(ane_case)
    assert case["referrals"][0]["status"] == "completed"
    assert set(case["applied_event_ids"]) == {u.id for u in updates}


async def test_each_outside_provider_reads_and_answers_only_its_own_referrals(
    routing: Any, ane_case: str
) -> None:
    # Issue 12, finding 9: a provider's key names the provider; another provider's
    # referral answers the same 404 as one that does not exist.
    referrals = {}
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        for provider in ("mentorhuset", "fondsraadgivning"):
            created = await client.post(
                f"/api/v1/cases/{ane_case}/referrals",
                json={
                    "department": "outside_provider",
                    "provider_id": provider,
                    "purpose": "Mentorforløb.",
                    "consent_to_share_contact": True,
                },
            )
            assert created.status_code == 201, created.text
            referrals[provider] = created.json()["referral_id"]
    mentorhuset = {"X-API-Key": "dev-key-provider-mentorhuset"}
    accepted = {"status": "accepted"}
    async with routing.client() as provider:
        unknown = await provider.get("/api/v1/referrals/no-such", headers=mentorhuset)
        assert unknown.status_code == 404
        theirs = referrals["fondsraadgivning"]
        read = await provider.get(f"/api/v1/referrals/{theirs}", headers=mentorhuset)
        assert (read.status_code, read.json()["detail"]) == (
            404,
            f"Henvisningen {theirs} findes ikke.",
        )
        answer = await provider.post(
            f"/api/v1/referrals/{theirs}/answer", json=accepted, headers=mentorhuset
        )
        assert (answer.status_code, answer.json()) == (read.status_code, read.json())

        mine = referrals["mentorhuset"]
        read = await provider.get(f"/api/v1/referrals/{mine}", headers=mentorhuset)
        assert read.status_code == 200, read.text
        assert read.json()["target"] == {
            "department": "outside_provider",
            "provider_id": "mentorhuset",
        }
        answer = await provider.post(
            f"/api/v1/referrals/{mine}/answer", json=accepted, headers=mentorhuset
        )
        assert answer.status_code == 200, answer.text
    (update,) = await routing.events(ane_case, ReferralUpdated)
    assert (update.data.referral_id, update.data.answered_by_provider_id) == (mine, "mentorhuset")
    statuses = {r["id"]: r["status"] for r in (await routing.case(ane_case))["referrals"]}
    assert statuses == {mine: "accepted", theirs: "sent"}


async def test_json_api_needs_a_staff_session_and_shows_consultants_their_own(
    routing: Any, ane_case: str
) -> None:
    other = await routing.use.routing.route_inquiry(
        routing.inquiry(2, organisation_key="cvr:12345674", needs=["selling_to_municipality"])
    )
    async with routing.client() as client:
        assert (await client.get(f"/api/v1/cases/{ane_case}")).status_code == 401
        assert (await client.get("/api/v1/cases")).status_code == 401
        await login(client, "ane-kjaer")
        mine = await client.get(f"/api/v1/cases/{ane_case}")
        assert mine.status_code == 200
        body = mine.json()
        assert body["id"] == ane_case
        assert "outbox" not in body
        assert "open_slot" not in body
        assert (await client.get(f"/api/v1/cases/{other}")).status_code == 403
        listed = (await client.get("/api/v1/cases")).json()
        assert [c["id"] for c in listed] == [ane_case]
        await client.post("/auth/logout")
        await login(client, "teamleder")
        everything = (await client.get("/api/v1/cases")).json()
        assert {c["id"] for c in everything} == {ane_case, other}
        by_inquiry = await client.get(
            "/api/v1/cases", params={"inquiry_id": routing.inquiry(1).inquiry_id}
        )
        assert [c["id"] for c in by_inquiry.json()] == [ane_case]


async def test_team_lead_keeps_the_team_and_the_providers(routing: Any, ane_case: str) -> None:
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        assert (await client.get("/teamleder/team")).status_code == 403
        await client.post("/auth/logout")
        await login(client, "teamleder")
        team = (await client.get("/teamleder/team")).text
        assert "Ane Kjær" in team
        assert "1 / 25" in team

        new = {
            "consultant_id": "dorte-lund",
            "name": "Dorte Lund",
            "email": "dorte.lund@kommune.example",
            "department": "Erhvervsservice",
            "expertise": ["selling_to_municipality", "legislation"],
            "capacity": "10",
            "deputy": "bjarne-holm",
        }
        assert await post(client, "/teamleder/team", new) == "Dorte Lund er tilføjet."
        assert await post(client, "/teamleder/team", new) == (
            "Der er allerede en konsulent med id'et 'dorte-lund'."
        )
        assert await post(client, "/teamleder/team", {**new, "consultant_id": "x y"}) == (
            "Konsulentens id må kun indeholde små bogstaver, tal og bindestreg."
        )
        edit = {**new, "capacity": "many"}
        assert await post(client, "/teamleder/team/dorte-lund", edit) == (
            "Kapaciteten skal være et helt antal åbne sager."
        )
        assert await post(client, "/teamleder/team/dorte-lund", {**new, "capacity": "12"}) == (
            "Ændringerne er gemt."
        )
        absence = {"start": "2026-12-21", "end": "2026-12-18"}
        assert await post(client, "/teamleder/team/dorte-lund/fravaer", absence) == (
            "Fraværets slutdato ligger før startdatoen."
        )
        absence = {"start": "2026-12-21", "end": "2027-01-01"}
        assert await post(client, "/teamleder/team/dorte-lund/fravaer", absence) == (
            "Fraværet er registreret."
        )
        html = (await client.get("/teamleder/team/dorte-lund")).text
        assert "21. december 2026" in html
        assert await post(client, "/teamleder/team/dorte-lund/fravaer/slet", absence) == (
            "Fraværet er slettet."
        )
        member = (await routing.use.ctx.team.load()).require("dorte-lund")
        assert (member.capacity, member.deputy, member.absences) == (12, "bjarne-holm", ())

        message = await post(client, "/teamleder/team/ane-kjaer/fjern", {"to": "dorte-lund"})
        assert message == "Konsulenten er fjernet fra holdet; 1 åbne sager er flyttet."
        assert (await routing.case(ane_case))["consultant"]["id"] == "dorte-lund"
        routed = (await routing.events(ane_case, CaseRouted))[-1].data
        assert (routed.reason.value, routed.previous_consultant_id) == ("manual", "ane-kjaer")
        missing = await client.get("/teamleder/team/ane-kjaer")
        assert missing.status_code == 404

        provider = {
            "provider_id": "cafe-netvaerket",
            "name": "Cafénetværket",
            "email": "hej@cafe.example",
            "needs": ["business_development"],
        }
        assert await post(client, "/teamleder/udbydere", provider) == "Udbyderen er gemt."
        assert "Cafénetværket" in (await client.get("/teamleder/udbydere")).text
        edited = {**provider, "name": "Cafénetværket Midt"}
        assert await post(client, "/teamleder/udbydere", edited) == "Udbyderen er gemt."
        page = await client.get("/teamleder/udbydere/cafe-netvaerket")
        assert "Cafénetværket Midt" in page.text
        assert await post(client, "/teamleder/udbydere/cafe-netvaerket/slet", {}) == (
            "Udbyderen er fjernet fra listen."
        )
        assert "cafe-netvaerket" not in await routing.use.ctx.providers.all()

        problems = (await client.get("/teamleder/problemer")).text
        assert "Problemsager" in problems
        cases = (await client.get("/teamleder/sager")).text
        assert "Dorte Lund" in cases


async def test_team_lead_moves_a_case_from_the_case_page(routing: Any, ane_case: str) -> None:
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        forbidden = await client.post(
            f"/sager/{ane_case}/omfordel", data={"consultant_id": "bjarne-holm"}
        )
        assert forbidden.status_code == 403
        await client.post("/auth/logout")
        await login(client, "teamleder")
        message = await post(client, f"/sager/{ane_case}/omfordel", {"consultant_id": "nobody"})
        assert message == "Konsulenten 'nobody' er ikke på holdet."
        message = await post(
            client, f"/sager/{ane_case}/omfordel", {"consultant_id": "bjarne-holm"}
        )
        assert message == "Sagen er flyttet."
        html = (await client.get(f"/sager/{ane_case}")).text
        assert "Sagen er flyttet fra Ane Kjær til Bjarne Holm." in html


# --- the guide ----------------------------------------------------------------------


ENTRIES = {
    "rsv-registrering": {
        "id": "rsv-registrering",
        "title": "Registrering som socialøkonomisk virksomhed",
        "summary": "Sådan bliver I RSV-registreret.",
        "audience": "external",
        "sources": [{"title": "Erhvervsstyrelsen", "url": "https://erhvervsstyrelsen.dk/rsv"}],
    },
    "intern-praksis": {
        "id": "intern-praksis",
        "title": "Intern praksis for løntilskud",
        "summary": "Kun til konsulenter.",
        "audience": "internal",
        "sources": [],
    },
}


@pytest.fixture
async def guide() -> AsyncIterator[str]:
    """A stand-in for the guide service's read API, over real HTTP."""
    app = FastAPI()

    @app.get("/api/v1/guide/recommendations/{case_id}")
    async def recommendations(case_id: str) -> dict[str, Any]:
        items = [
            {
                "entry_id": e["id"],
                "title": e["title"],
                "section": "1",
                "audience": e["audience"],
                "score": 1.0,
                "why": "Matcher behovet.",
            }
            for e in ENTRIES.values()
        ]
        return {"case_id": case_id, "items": items}

    @app.get("/api/v1/guide/entries/{entry_id}")
    async def entry(entry_id: str) -> dict[str, Any]:
        if entry_id not in ENTRIES:
            raise HTTPException(404)
        return ENTRIES[entry_id]

    async with serving(app) as url:
        yield url


async def test_guide_suggestions_and_sending_external_entries(
    routing: Any, ane_case: str, guide: str
) -> None:
    public = "https://vejledning.ikast-brande.example"
    routing.use.casework.guide = GuideClient(guide, 2.0, public_url=public)
    url = f"/sager/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        html = (await client.get(url)).text
        assert "Registrering som socialøkonomisk virksomhed" in html
        assert "Kun internt" in html
        assert 'value="intern-praksis"' not in html  # no checkbox for internal entries
        # each suggestion links to the guide's staff page for the entry (issue 13, point 7)
        assert f'href="{guide}/guide/entries/rsv-registrering"' in html
        assert f'href="{guide}/guide/entries/intern-praksis"' in html
        assert '/guide">Vejledningen</a>' in html  # the nav links to the guide
        assert await post(client, f"{url}/vejledning", {"message": "Hej"}) == (
            "Vælg mindst ét opslag fra vejledningen."
        )
        refused = await post(client, f"{url}/vejledning", {"entry_id": ["intern-praksis"]})
        assert "kun til internt brug" in refused
        sent = await post(
            client,
            f"{url}/vejledning",
            {"entry_id": ["rsv-registrering"], "message": "Se her."},
        )
        assert sent == "Opslagene er sendt til henvenderen."
    (shared,) = await routing.events(ane_case, GuideEntriesShared)
    (entry,) = shared.data.entries
    # The municipality's own public page for the entry, not the statute or source it
    # cites (issue 13, point 7): GUIDE_PUBLIC_URL/hjaelp/<id>.
    assert (entry.id, entry.url) == ("rsv-registrering", f"{public}/hjaelp/rsv-registrering")
    assert shared.data.contact.email == "aase@kaffeogomsorg.example"
    assert shared.data.message == "Se her."
