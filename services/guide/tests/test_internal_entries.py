"""Issue 12, finding 10: the guide API serves entries for internal use only to staff — a
staff session, or routing with its server-to-server key; the public gets the entries
for the public only, and nothing about a case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from indgang_runtime.http_security import DEVELOPMENT_GUIDE_READER_KEY

API = "/api/v1/guide"
INTERNAL = "erhvervsfremmeloven-paragraf-14"  # audience = "internal" in the content files
ROUTING = {"Authorization": f"Bearer {DEVELOPMENT_GUIDE_READER_KEY}"}


async def audiences(client: httpx.AsyncClient, **headers: str) -> set[str]:
    """The audiences of everything the listing, search and recommendations show."""
    found: set[str] = set()
    listing = (await client.get(f"{API}/entries", headers=headers)).json()
    found |= {e["audience"] for s in listing["sections"] for e in s["entries"]}
    hits = await client.get(f"{API}/search", params={"q": "", "limit": 100}, headers=headers)
    found |= {h["audience"] for h in hits.json()["hits"]}
    for need in ("legislation", "hiring_vulnerable_unemployed", "funding_and_support"):
        recommended = await client.get(
            f"{API}/recommendations", params={"needs": [need], "limit": 20}, headers=headers
        )
        found |= {i["audience"] for i in recommended.json()["items"]}
    return found


async def test_the_public_gets_entries_for_the_public_only(guide_app: Any) -> None:
    async with guide_app.client() as public:
        assert (await public.get(f"{API}/entries/{INTERNAL}")).status_code == 404
        assert (await public.get(f"{API}/entries/rsv-registrering")).status_code == 200
        assert await audiences(public) == {"external"}
        asked = await public.get(f"{API}/entries", params={"audience": "internal"})
        assert asked.json()["count"] == 0
        search = await public.get(f"{API}/search", params={"q": "", "audience": "internal"})
        assert search.json()["count"] == 0
        # About a case: nothing, not even whether it has recommendations.
        case = await public.get(f"{API}/recommendations/some-case")
        assert case.status_code == 401
        wrong_key = await public.get(
            f"{API}/entries/{INTERNAL}", headers={"Authorization": "Bearer not-the-key"}
        )
        assert wrong_key.status_code == 404


async def test_a_staff_session_gets_the_internal_entries_too(guide_app: Any, kit: Any) -> None:
    async with guide_app.client() as staff:
        await kit.login(staff, "ane-kjaer")
        assert (await staff.get(f"{API}/entries/{INTERNAL}")).json()["audience"] == "internal"
        assert await audiences(staff) == {"external", "internal"}
        assert (await staff.get(f"{API}/recommendations/some-case")).status_code == 404


@pytest.mark.parametrize("headers", [ROUTING])
async def test_routing_with_its_key_gets_them_too(guide_app: Any, headers: dict[str, str]) -> None:
    async with guide_app.client() as routing:
        entry = await routing.get(f"{API}/entries/{INTERNAL}", headers=headers)
        assert entry.json()["audience"] == "internal"
        assert await audiences(routing, **headers) == {"external", "internal"}
        case = await routing.get(f"{API}/recommendations/some-case", headers=headers)
        assert case.status_code == 404  # none for that case yet: it may ask
