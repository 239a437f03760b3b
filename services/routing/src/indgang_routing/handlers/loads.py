"""Keeping the consultants' recorded open cases (the policy's loads) equal to the open cases.

Every case write that opens, moves, closes or reopens a case is followed by the
matching load change (`Bookkeeping`), but a crash between the two writes, or
two people acting at the same moment, can leave a load off by a case. Loads
are a heuristic for the policy (capacity is a soft limit), so they are
repaired rather than locked: at startup and every `LOADS_RECONCILE_SECONDS`
the open cases (one equality query per open status: bounded by current work,
not history) are compared with what each consultant records, and only the
differences are applied, as the same idempotent set operations.

The recorded loads are read before the cases: a case written in between then
shows as a difference that the handler's own load change also makes (adding
or removing the same id twice is harmless), never as one that undoes it.
"""

from __future__ import annotations

import asyncio

import structlog

from indgang_routing.adapters.team import LoadChange
from indgang_routing.handlers.context import Context
from indgang_runtime.service import repeat

log = structlog.get_logger(__name__)


class Loads:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def reconcile(self) -> int:
        """Make every recorded load equal to the open cases; returns the corrections."""
        recorded = await self.ctx.team.open_case_ids()
        open_cases = await self.ctx.cases.open_cases(projection={"consultant_id": 1})
        actual: dict[str, set[str]] = {}
        for case in open_cases:
            actual.setdefault(str(case["consultant_id"]), set()).add(str(case["_id"]))
        unknown = sorted(set(actual) - set(recorded))
        if unknown:
            log.warning("open_cases_of_unknown_consultants", consultants=unknown)
        changes: list[LoadChange] = []
        for consultant_id, have in sorted(recorded.items()):
            want = actual.get(consultant_id, set())
            changes += [LoadChange(consultant_id, c, opened=True) for c in sorted(want - have)]
            changes += [LoadChange(consultant_id, c, opened=False) for c in sorted(have - want)]
        await self.ctx.team.change_loads(changes)
        if changes:
            log.info("loads_reconciled", corrections=len(changes))
        return len(changes)

    async def reconcile_job(self) -> None:
        """Runs for the service's lifetime (Runtime.background); startup ran it already."""
        seconds = self.ctx.settings.loads_reconcile_seconds
        await asyncio.sleep(seconds)
        await repeat(self.reconcile, seconds, "loads_reconciliation")
