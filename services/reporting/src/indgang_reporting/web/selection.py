"""The chosen period and filters, from the query string (pages, CSV and JSON alike).

An empty filter (the form's "Alle") means none. Anything wrong is a 422 with the field
for the JSON and the CSV; a page shows the default period instead, with the problem
named at the form (`PageSelection`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from indgang_contracts.events import Department, InquiryChannel
from indgang_reporting.domain.figures import Selection
from indgang_reporting.domain.periods import COPENHAGEN, MAX_PERIODS, Granularity, Span

DOORS = tuple(c.value for c in InquiryChannel)
DEPARTMENTS = tuple(d.value for d in Department)


def today() -> date:
    return datetime.now(UTC).astimezone(COPENHAGEN).date()


def _problem(name: str, message: str) -> dict[str, Any]:
    return {"loc": ("query", name), "msg": message, "type": "value_error"}


def _day(value: str, name: str, problems: list[dict[str, Any]]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append(_problem(name, "a date as YYYY-MM-DD"))
        return None


def _one_of(value: str, allowed: tuple[str, ...], name: str, problems: list[Any]) -> str | None:
    value = value.strip()
    if not value:
        return None
    if value not in allowed:
        problems.append(_problem(name, f"one of {', '.join(allowed)}, or empty for all"))
        return None
    return value


def parse(
    start: str = "",
    end: str = "",
    per: str = "month",
    consultant: str = "",
    door: str = "",
    department: str = "",
) -> tuple[Selection, list[dict[str, Any]]]:
    """The selection and the problems found (then the parts that were wrong are defaults)."""
    problems: list[dict[str, Any]] = []
    now = today()
    granularity: Granularity = "week" if per == "week" else "month"
    if per not in ("week", "month", ""):
        problems.append(_problem("per", "week or month"))
    default = Span.default(now, granularity)
    first = _day(start, "from", problems) or default.start
    last = _day(end, "to", problems) or now
    span = default
    if last < first:
        problems.append(_problem("to", "the end comes before the start"))
    else:
        try:
            span = Span(first, last, granularity)
        except ValueError:
            problems.append(_problem("from", f"at most {MAX_PERIODS} {granularity}s at a time"))
    chosen = Selection(
        span=span,
        today=now,
        consultant=consultant.strip()[:100] or None,
        door=_one_of(door, DOORS, "door", problems),
        department=_one_of(department, DEPARTMENTS, "department", problems),
    )
    return chosen, problems


_FROM = Query(alias="from", description="First day (YYYY-MM-DD); default: the first day of "
              "the sixth month back (or of the twelfth week back).")  # fmt: skip
_TO = Query(alias="to", description="Last day (YYYY-MM-DD); default today.")
_PER = Query(description="Rows per 'week' or 'month' (default).", pattern="^(week|month)?$")
_CONSULTANT = Query(max_length=100, description="Only this consultant's (staff id).")
_DOOR = Query(description=f"Only inquiries (and cases) by this door: {', '.join(DOORS)}.")
_DEPARTMENT = Query(description=f"Only referrals to this department: {', '.join(DEPARTMENTS)}.")


@dataclass(frozen=True)
class PageSelection:
    chosen: Selection
    problems: list[dict[str, Any]] = field(default_factory=list)


def page_selection(
    start: Annotated[str, _FROM] = "",
    end: Annotated[str, _TO] = "",
    per: Annotated[str, Query()] = "month",
    consultant: Annotated[str, Query(max_length=100)] = "",
    door: Annotated[str, Query()] = "",
    department: Annotated[str, Query()] = "",
) -> PageSelection:
    """A dependency for pages: the selection, and what was wrong with the query."""
    chosen, problems = parse(start, end, per, consultant, door, department)
    return PageSelection(chosen, problems)


def selection(found: Annotated[PageSelection, Depends(page_selection)]) -> Selection:
    """A dependency for the JSON and the CSV: the selection, or 422 with the fields."""
    if found.problems:
        raise RequestValidationError(found.problems)
    return found.chosen


def api_selection(
    start: Annotated[str, _FROM] = "",
    end: Annotated[str, _TO] = "",
    per: Annotated[str, _PER] = "month",
    consultant: Annotated[str, _CONSULTANT] = "",
    door: Annotated[str, _DOOR] = "",
    department: Annotated[str, _DEPARTMENT] = "",
) -> Selection:
    """The JSON's dependency (the same as `selection`, with the parameters documented)."""
    chosen, problems = parse(start, end, per, consultant, door, department)
    if problems:
        raise RequestValidationError(problems)
    return chosen
