"""Finding a case from the console (`GET /sager/soeg`): a GET form, the consultant's scope,
the filters as query parameters (saved views are links) and the pages."""

from __future__ import annotations

from typing import Any

import httpx
from staff_app import PASSWORD


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def test_search_by_name_in_the_consultants_scope(routing: Any) -> None:
    case_id = await routing.use.routing.route_inquiry(routing.inquiry(1))
    owner = (await routing.case(case_id))["consultant"]["id"]
    async with routing.client() as client:
        await login(client, "teamleder")
        lead = await client.get("/sager/soeg", params={"q": "Kaffe"})
        assert lead.status_code == 200
        assert f'href="/sager/{case_id}"' in lead.text
        assert "H-T0000001" in lead.text
    async with routing.client() as client:
        await login(client, owner)
        mine = await client.get("/sager/soeg", params={"q": "35954716", "status": "assigned"})
        assert f'href="/sager/{case_id}"' in mine.text
        other_status = await client.get("/sager/soeg", params={"q": "kaffe", "status": "closed"})
        assert f'href="/sager/{case_id}"' not in other_status.text
        assert "Ingen sager fundet" in other_status.text
        listed = await client.get("/sager")
        assert 'action="/sager/soeg"' in listed.text  # the search box on the list
    other = "bjarne-holm" if owner != "bjarne-holm" else "ane-kjaer"
    async with routing.client() as client:
        await login(client, other)
        theirs = await client.get("/sager/soeg", params={"q": "kaffe"})
        assert theirs.status_code == 200
        assert f'href="/sager/{case_id}"' not in theirs.text  # another consultant's case


async def test_pages_keep_the_search(routing: Any) -> None:
    await routing.use.routing.route_inquiries(
        [
            routing.inquiry(
                n,
                organisation_key=f"email:o{n}@example.dk",
                organisation={"name": f"Fælles Værksted {n}", "cvr": None, "stage": "idea"},
            )
            for n in range(1, 28)
        ]
    )
    async with routing.client() as client:
        await login(client, "teamleder")
        first = await client.get("/sager/soeg", params={"q": "værksted"})
        assert first.text.count('class="console-ref"><a href="/sager/') == 25
        assert "Næste" in first.text
        assert "Forrige" not in first.text
        second = await client.get("/sager/soeg", params={"q": "værksted", "side": 2})
        assert second.text.count('class="console-ref"><a href="/sager/') == 2
        assert "Forrige" in second.text
        assert "Næste" not in second.text
        assert 'href="/sager/soeg?q=v%C3%A6rksted&amp;side=1"' in second.text


async def test_the_api_finds_cases_by_term_in_the_same_scope(routing: Any) -> None:
    case_id = await routing.use.routing.route_inquiry(routing.inquiry(1))
    owner = (await routing.case(case_id))["consultant"]["id"]
    other = "bjarne-holm" if owner != "bjarne-holm" else "ane-kjaer"
    async with routing.client() as client:
        await login(client, owner)
        found = await client.get("/api/v1/cases", params={"q": "Åse Ødegård"})
        assert found.status_code == 200
        assert case_id in found.text
        closed = await client.get("/api/v1/cases", params={"q": "kaffe", "status": "closed"})
        assert closed.json() == []
        assert (await client.get("/api/v1/cases", params={"status": "bogus"})).status_code == 422
    async with routing.client() as client:
        await login(client, other)
        assert case_id not in (await client.get("/api/v1/cases", params={"q": "kaffe"})).text
    async with routing.client() as client:
        await login(client, "teamleder")
        assert case_id in (await client.get("/api/v1/cases", params={"q": "h-t0000001"})).text
