"""The pure parts of finding a case (domain/search.py): terms, filters, order, pages."""

from datetime import date
from typing import Any

from indgang_routing.domain.search import (
    MAX_CANDIDATES,
    CaseFilters,
    case_search_terms,
    normalise,
    search_page,
    search_term,
)

TODAY = date(2026, 12, 2)


def _case(ref: str, **over: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "reference": ref,
        "inquiries": [{"reference": ref}],
        "organisation": {"name": "Grøn  Genbrug ApS", "cvr": "12345678"},
        "contact": {"name": "Mette Holm", "email": "Mette@Example.DK"},
        "consultant": {"id": "ane-kjaer"},
        "status": "assigned",
        "needs": ["funding"],
        "channel": "web",
        "first_contact_due": "2026-12-10",
        "first_contact": None,
        "referrals": [],
    }
    case.update(over)
    return case


def test_normalise_lowercases_and_collapses_whitespace() -> None:
    assert normalise("  Grøn \t Genbrug\nApS ") == "grøn genbrug aps"


def test_a_case_is_found_by_name_words_cvr_references_email_and_contact() -> None:
    case = _case(
        "IND-2026-0001", inquiries=[{"reference": "IND-2026-0001"}, {"reference": "IND-2026-0042"}]
    )
    terms = case_search_terms(case)
    for term in [
        "grøn genbrug aps",
        "grøn",
        "genbrug",
        "aps",
        "12345678",
        "ind-2026-0001",
        "ind-2026-0042",
        "mette@example.dk",
        "mette holm",
        "mette",
        "holm",
    ]:
        assert term in terms
    assert terms == sorted(set(terms))


def test_the_query_is_looked_up_in_the_stored_form() -> None:
    assert search_term("  METTE   Holm ") == "mette holm"
    assert search_term("1234 5678") == "12345678"
    assert search_term("   ") is None
    assert search_term("IND-2026-0001") in case_search_terms(_case("IND-2026-0001"))


def test_filters() -> None:
    overdue = _case("A", first_contact_due="2026-11-30")
    waiting = _case(
        "B", first_contact={"at": "x"}, referrals=[{"status": "sent", "response_due": "2026-12-20"}]
    )
    other = _case("C", consultant={"id": "bo"}, needs=["premises"], channel="phone", status="new")
    cases = [overdue, waiting, other]

    def refs(filters: CaseFilters) -> list[str]:
        return [c["reference"] for c in search_page(cases, filters, TODAY).cases]

    assert refs(CaseFilters()) == ["A", "C", "B"]  # by deadline: 11-30, 12-10, 12-20
    assert refs(CaseFilters(overdue=True)) == ["A"]
    assert refs(CaseFilters(waiting_for_department=True)) == ["B"]
    assert refs(CaseFilters(consultant_id="bo")) == ["C"]
    assert refs(CaseFilters(need="premises")) == ["C"]
    assert refs(CaseFilters(door="phone", status="new")) == ["C"]
    assert refs(CaseFilters(status="closed")) == []
    assert not search_page(
        [_case("D", status="closed", first_contact_due="2026-01-01")],
        CaseFilters(overdue=True),
        TODAY,
    ).cases


def test_paging_and_the_cap() -> None:
    cases = [_case(f"R{i:03}") for i in range(60)]
    first = search_page(cases, CaseFilters(), TODAY, page=1, page_size=25)
    third = search_page(cases, CaseFilters(), TODAY, page=3, page_size=25)
    assert [c["reference"] for c in first.cases][:2] == ["R000", "R001"]
    assert first.has_next
    assert not first.has_previous
    assert not first.truncated
    assert len(third.cases) == 10
    assert not third.has_next
    assert third.has_previous
    many = search_page([_case(f"R{i:04}") for i in range(MAX_CANDIDATES + 5)], CaseFilters(), TODAY)
    assert many.truncated
