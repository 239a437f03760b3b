"""Keeping the consultants' load counters equal to their numbers of open cases.

Every case write that opens, moves, closes or reopens a case is followed by the
matching `$inc` (`Bookkeeping`), but a crash between the two writes leaves a
counter off by that case, and an increment cannot be repeated safely on a
redelivery. Loads are a heuristic for the policy (capacity is a soft limit),
so they are repaired rather than locked: at startup and every
`LOADS_RECONCILE_SECONDS` the open cases are counted per consultant (one
equality query per open status: bounded by current work, not history) and each
counter that differs is set to the count.

The counters are read before the cases, and each is set only if it still holds
what was read (compare-and-set), so an increment that lands between the two
reads or before the correction is never overwritten. What remains: a case
written before the cases are read whose increment lands after the correction
is counted twice (a close: once too few) until the next reconciliation; that
needs a reconciliation to fall between a case write and its bookkeeping (the
rest of that inquiry batch). The counters are read clamped at zero.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog

from indgang_routing.adapters.team import LoadCorrection
from indgang_routing.handlers.context import Context
from indgang_runtime.service import repeat

log = structlog.get_logger(__name__)


class Loads:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def reconcile(self) -> int:
        """Make every load counter equal to the open cases; returns how many were set."""
        recorded = await self.ctx.team.recorded_loads()
        open_cases = await self.ctx.cases.open_cases(projection={"consultant_id": 1})
        actual = Counter(str(case["consultant_id"]) for case in open_cases)
        unknown = sorted(set(actual) - set(recorded))
        if unknown:
            log.warning("open_cases_of_unknown_consultants", consultants=unknown)
        corrections = {
            consultant_id: LoadCorrection(have, actual[consultant_id])
            for consultant_id, have in recorded.items()
            if have != actual[consultant_id]
        }
        corrected = await self.ctx.team.correct_loads(corrections)
        if corrections:
            log.info("loads_reconciled", differences=len(corrections), corrected=corrected)
        return corrected

    async def reconcile_job(self) -> None:
        """Runs for the service's lifetime (Runtime.background); startup ran it already."""
        seconds = self.ctx.settings.loads_reconcile_seconds
        await asyncio.sleep(seconds)
        await repeat(self.reconcile, seconds, "loads_reconciliation")
