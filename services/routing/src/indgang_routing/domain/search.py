"""Finding a case: the words a case is found by, and the filters, order and pages of a search.

A case document carries `search_terms` (kept in the same write as the case changes), so a
search is one indexed equality on a term, as in notifications' delivery log. FerretDB v1
pushes down no ranges, regex, $in/$or or sorts, so the remaining filters and the order by
deadline are applied here, in Python, on a bounded candidate set (`MAX_CANDIDATES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from indgang_routing.domain.referrals import late_referrals

# Most candidates one term may bring back; above it the user is asked to narrow the search.
MAX_CANDIDATES = 500
PAGE_SIZE = 25

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[\w@.+-]+")


def normalise(text: str) -> str:
    """The stored and searched form of a term: lower-case, whitespace collapsed."""
    return _SPACE.sub(" ", text).strip().lower()


def _words(text: str) -> set[str]:
    return {w.strip(".-") for w in _WORD.findall(normalise(text)) if w.strip(".-")}


def case_search_terms(case: Mapping[str, Any]) -> list[str]:
    """Every term a case is found by: organisation name and its words, the CVR digits,
    every reference of the case, and the contact's e-mail and name words."""
    terms: set[str] = set()
    organisation = case.get("organisation") or {}
    contact = case.get("contact") or {}
    name = normalise(str(organisation.get("name") or ""))
    if name:
        terms.add(name)
        terms |= _words(name)
    cvr = "".join(ch for ch in str(organisation.get("cvr") or "") if ch.isdigit())
    if cvr:
        terms.add(cvr)
    references = [case.get("reference")] + [i.get("reference") for i in case.get("inquiries") or []]
    terms |= {normalise(str(r)) for r in references if r}
    email = normalise(str(contact.get("email") or ""))
    if email:
        terms.add(email)
    contact_name = normalise(str(contact.get("name") or ""))
    if contact_name:
        terms.add(contact_name)
        terms |= _words(contact_name)
    terms.discard("")
    return sorted(terms)


def search_term(query: str) -> str | None:
    """The one term a query is looked up by (the whole query, normalised; a CVR with spaces
    becomes its digits), or None for an empty query."""
    term = normalise(query)
    if not term:
        return None
    digits = term.replace(" ", "")
    return digits if digits.isdigit() else term


@dataclass(frozen=True)
class CaseFilters:
    """The filters applied in Python on the candidates (see the module's docstring)."""

    status: str | None = None
    consultant_id: str | None = None
    need: str | None = None
    door: str | None = None  # the channel the case came through
    overdue: bool = False
    waiting_for_department: bool = False
    late_answer: bool = False  # a referral unanswered after its deadline ("Forsinket svar")


def deadline(case: Mapping[str, Any]) -> str:
    """The case's next deadline (ISO date): first contact due while not contacted, else
    the earliest response due of a referral still waiting, else far in the future."""
    if not case.get("first_contact"):
        return str(case.get("first_contact_due") or "9999-12-31")
    dues = [
        str(r["response_due"])
        for r in case.get("referrals") or []
        if r.get("response_due") and r.get("status") in WAITING_REFERRAL_STATUSES
    ]
    return min(dues, default="9999-12-31")


# Referral statuses in which the case waits for the department or provider.
WAITING_REFERRAL_STATUSES = frozenset({"sent", "accepted"})
CLOSED_STATUSES = frozenset({"closed"})


def waits_for_department(case: Mapping[str, Any]) -> bool:
    return any(r.get("status") in WAITING_REFERRAL_STATUSES for r in case.get("referrals") or [])


def is_overdue(case: Mapping[str, Any], today: date) -> bool:
    if case.get("status") in CLOSED_STATUSES:
        return False
    return deadline(case) < today.isoformat()


def matches(case: Mapping[str, Any], filters: CaseFilters, today: date) -> bool:
    consultant = case.get("consultant") or {}
    return (
        (filters.status is None or case.get("status") == filters.status)
        and (filters.consultant_id is None or consultant.get("id") == filters.consultant_id)
        and (filters.need is None or filters.need in (case.get("needs") or []))
        and (filters.door is None or case.get("channel") == filters.door)
        and (not filters.overdue or is_overdue(case, today))
        and (not filters.waiting_for_department or waits_for_department(case))
        and (not filters.late_answer or has_late_answer(case, today))
    )


def has_late_answer(case: Mapping[str, Any], today: date) -> bool:
    """An open case with a referral unanswered after its deadline ("Forsinket svar")."""
    return case.get("status") not in CLOSED_STATUSES and bool(late_referrals(case, today))


@dataclass(frozen=True)
class Page:
    cases: list[Mapping[str, Any]]
    number: int  # 1-based
    has_next: bool
    truncated: bool  # the candidates hit MAX_CANDIDATES: ask the user to narrow the search

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def search_page(
    candidates: Sequence[Mapping[str, Any]],
    filters: CaseFilters,
    today: date,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page:
    """Filter the candidates, order them by deadline (then reference) and cut one page."""
    truncated = len(candidates) >= MAX_CANDIDATES
    kept = sorted(
        (c for c in _bounded(candidates) if matches(c, filters, today)),
        key=lambda c: (deadline(c), str(c.get("reference") or "")),
    )
    number = max(page, 1)
    start = (number - 1) * page_size
    return Page(
        cases=kept[start : start + page_size],
        number=number,
        has_next=len(kept) > start + page_size,
        truncated=truncated,
    )


def _bounded(candidates: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for i, case in enumerate(candidates):
        if i >= MAX_CANDIDATES:
            return
        yield case
