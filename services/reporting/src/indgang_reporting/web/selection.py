"""The chosen period and filters, from the query string (pages, CSV and JSON alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from indgang_contracts.events import Department, InquiryChannel
from indgang_reporting.domain.figures import Selection
from indgang_reporting.domain.periods import COPENHAGEN, MAX_PERIODS, Span


def today() -> date:
    return datetime.now(UTC).astimezone(COPENHAGEN).date()


def selection(
    start: Annotated[
        date | None,
        Query(
            alias="from",
            description="First day (YYYY-MM-DD); default: "
            "the start of the sixth month (or twelfth week) back.",
        ),
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day; default today.")] = None,
    granularity: Annotated[
        Literal["week", "month"], Query(alias="per", description="Rows per week or month.")
    ] = "month",
    consultant: Annotated[
        str | None, Query(max_length=100, description="Only this consultant's (staff id).")
    ] = None,
    door: Annotated[
        InquiryChannel | None, Query(description="Only inquiries (and cases) by this door.")
    ] = None,
    department: Annotated[
        Department | None, Query(description="Only referrals to this department.")
    ] = None,
) -> Selection:
    """A dependency: the selection, or 422 with the field that is wrong."""
    now = today()
    default = Span.default(now, granularity)
    first, last = start or default.start, end or now
    if last < first:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "to"),
                    "msg": "the end comes before the start",
                    "type": "value_error",
                }
            ]
        )
    try:
        span = Span(first, last, granularity)
    except ValueError:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "from"),
                    "msg": f"at most {MAX_PERIODS} {granularity}s at a time",
                    "type": "value_error",
                }
            ]
        ) from None
    return Selection(
        span=span,
        today=now,
        consultant=consultant or None,
        door=door.value if door else None,
        department=department.value if department else None,
    )
