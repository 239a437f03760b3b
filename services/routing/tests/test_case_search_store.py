"""Finding a case on the real store: the terms written with the case (and a follow-up's
reference added in the same write), one indexed term per search, the consultant's scope,
the filters and pages of `domain/search.py`, and the startup step for existing cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from indgang_routing.adapters.upgrade import add_search_terms
from indgang_routing.domain.search import CaseFilters, search_page, search_term


async def _found(routing: Any, query: str, consultant_id: str | None = None) -> set[str]:
    term = search_term(query)
    assert term is not None
    return {c["_id"] for c in await routing.use.ctx.cases.with_term(term, consultant_id)}


async def test_a_case_is_found_by_name_cvr_references_email_and_contact(routing: Any) -> None:
    route = routing.use.routing.route_inquiry
    case_id = await route(routing.inquiry(1))
    assert await route(routing.inquiry(2)) == case_id  # a follow-up on the open case
    other = await route(
        routing.inquiry(
            3,
            organisation_key="email:mail@groen.example",
            organisation={"name": "Grøn Genbrug", "cvr": None, "stage": "idea"},
            contact={"name": "Bo Berg", "email": "bo@groen.example", "preferred_language": "da"},
        )
    )
    for query in [
        "kaffe",
        "Kaffe & Omsorg ApS",
        "3595 4716",
        "h-t0000001",
        "H-T0000002",
        "AASE@kaffeogomsorg.example",
        "Åse Ødegård",
        "ødegård",
    ]:
        assert await _found(routing, query) == {case_id}, query
    assert await _found(routing, "genbrug") == {other}
    assert await _found(routing, "nobody") == set()

    consultant = (await routing.case(case_id))["consultant"]["id"]
    assert await _found(routing, "kaffe", consultant) == {case_id}
    assert await _found(routing, "kaffe", "someone-else") == set()  # not their case


async def test_filters_and_pages_on_the_found_cases(routing: Any) -> None:
    route = routing.use.routing.route_inquiries
    await route(
        [
            routing.inquiry(
                n,
                organisation_key=f"email:o{n}@example.dk",
                organisation={"name": f"Fælles Værksted {n}", "cvr": None, "stage": "idea"},
                needs=["funding_and_support"] if n % 2 else ["legislation"],
            )
            for n in range(1, 8)
        ]
    )
    found = await routing.use.ctx.cases.with_term("værksted")
    assert len(found) == 7
    funding = search_page(found, CaseFilters(need="funding_and_support"), date.today(), page_size=3)
    assert len(funding.cases) == 3
    assert funding.has_next
    last = search_page(
        found, CaseFilters(need="funding_and_support"), date.today(), page=2, page_size=3
    )
    assert len(last.cases) == 1
    assert not last.has_next
    dues = [c["first_contact_due"] for c in funding.cases + last.cases]
    assert dues == sorted(dues)


async def test_existing_cases_get_their_terms_once_at_startup(routing: Any) -> None:
    case_id = await routing.use.routing.route_inquiry(routing.inquiry(1))
    await routing.cases.update_one({"_id": case_id}, {"$unset": {"search_terms": ""}})
    assert await _found(routing, "kaffe") == set()
    assert await add_search_terms(routing.cases) == 1
    assert await _found(routing, "kaffe") == {case_id}
