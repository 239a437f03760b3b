"""Routing's core use cases: place inquiries on their organisation's one open case (or
open one and assign its consultant), and move cases between consultants.

Concurrency (two or more instances in one consumer group; a rebalance can let
two of them handle the same organisation, even the same inquiry, at once):

- an inquiry is placed at most once: the case opened for it has the id
  uuid5(inquiry id) and is created with `$setOnInsert`; an inquiry is attached
  to an open case only if that case does not hold it yet (`inquiry_ids $ne`);
  before either, the inquiry is looked up in every case;
- an organisation has at most one open case: the store's unique `open_slot`
  index refuses a second; the instance that loses the race attaches its
  inquiry to the winner's case instead;
- a case always has exactly one consultant: it is created with one, and every
  reassignment replaces it in one conditional update (`consultant_id` = the
  owner the decision was made for).

Every loop below retries only after another writer changed something, so it
ends; the attempt limit only guards against a bug.

A batch of inquiries (what one poll returned) is placed organisation by
organisation concurrently, each organisation's inquiries one by one in order.
The team and the loads are read once per batch and kept in memory: a
placement decides its consultant and counts the new case in the same step,
with no wait in between, so every later decision in the batch sees it
(concurrent placements do not all pick the least-loaded consultant). The
bookkeeping (loads, each organisation's latest consultant) is written once at
the end, both collections at once, before the handler returns (so before the
offsets are committed). Concurrency matters because every placement waits for
the store several times; one after the other, the last of a large batch
waited for all.

What one inquiry reads, each by `_id` or indexed equality, and none of it
growing with the number of open cases or with history (only with its own
organisation's current case), all at once (one wait for the store):
- the case holding the inquiry (`inquiry_ids`): none, or its case on a redelivery;
- the organisation's open case (`open_slot`): none, or that one case, which it
  then joins;
- the organisation's latest consultant (`organisations` by `_id`), for a new case
  (and, on a redelivery, to see whether the first attempt recorded it);
- once per batch, begun when the batch begins, alongside its placements' reads:
  the team with each member's load counter (`consultants`, `active`: documents
  of constant size). A new case then waits for the store once before its insert,
  not twice; a batch in which every inquiry joins a case (or was placed before)
  reads it for nothing.
Only a follow-up whose organisation has no latest consultant reads once more
before it opens a case (the case of the inquiry it follows up). A retry, after
another writer got there first, reads all of it again (at once); a retried batch
reads the team again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError

from indgang_contracts.events import InquiryReceived, Need
from indgang_routing.adapters.cases import OPEN
from indgang_routing.adapters.organisations import Owner
from indgang_routing.domain import timeline
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import add_working_days
from indgang_routing.domain.case import (
    Case,
    case_id_for,
    case_reassigned,
    case_routed,
    consultant_doc,
    inquiry_attached,
    inquiry_summary,
    new_case,
    routing_info,
)
from indgang_routing.domain.errors import Conflict
from indgang_routing.domain.policy import (
    Assignment,
    assign_consultant,
    manual_assignment,
    plan_reassignment,
)
from indgang_routing.domain.retention import is_anonymised
from indgang_routing.domain.team import Team
from indgang_routing.handlers.context import Bookkeeping, Context, event_id

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 20


@dataclass
class _Batch:
    """The team and its loads, read once per batch, then counted on in memory."""

    team: Team | None = None
    loads: dict[str, int] = field(default_factory=dict)
    _reading: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def begin_reading(self, ctx: Context) -> None:
        """Start the one read of the batch (if not started yet) without waiting for it."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read(ctx))

    async def _read(self, ctx: Context) -> None:
        # Set once, before any placement waiting for it resumes: a second read would
        # replace loads the first placements have already counted on.
        self.team, self.loads = await ctx.team.load_with_loads()

    async def roster(self, ctx: Context) -> tuple[Team, dict[str, int]]:
        self.begin_reading(ctx)
        assert self._reading is not None
        # Shielded: the read is shared; one waiter cancelled does not cancel it for all.
        await asyncio.shield(self._reading)
        assert self.team is not None
        return self.team, self.loads

    async def finish(self) -> None:
        """Wait for a read no placement needed (every inquiry joined a case), so that
        nothing of the batch outlives it; its failure is not the batch's (a placement
        that needed it raised it already)."""
        if self._reading is None:
            return
        await asyncio.wait([self._reading])
        if not self._reading.cancelled():
            self._reading.exception()  # retrieved, so asyncio does not log it as lost

    def opened_for(self, consultant_id: str) -> None:
        self.loads[consultant_id] = self.loads.get(consultant_id, 0) + 1

    def closed_for(self, consultant_id: str) -> None:
        self.loads[consultant_id] = self.loads.get(consultant_id, 0) - 1


class CaseRouting:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cases = ctx.cases

    # --- inquiries ---------------------------------------------------------------

    async def route_inquiry(self, inquiry: InquiryReceived) -> str:
        """Place the inquiry on its organisation's open case, or open and assign one."""
        (case_id,) = await self.route_inquiries([inquiry])
        return case_id

    async def route_inquiries(self, inquiries: Sequence[InquiryReceived]) -> list[str]:
        """Place each inquiry, in order; returns their case ids.

        A redelivered inquiry (or the same inquiry handled twice during a rebalance)
        finds its case and changes nothing on it; the organisation's latest consultant
        is recorded again if the record read with it is missing or names another owner
        (the first attempt stopped between the two writes).
        Its load is not: a counter is not idempotent, and the attempt that opened the
        case counted it (a lost count is put right by the reconciliation).
        """
        books = Bookkeeping()
        batch = _Batch()
        # Usually an inquiry opens a case, which needs the team and its loads: read them
        # now, while the placements read their cases, not after.
        batch.begin_reading(self.ctx)
        placed: dict[int, str] = {}
        by_organisation: dict[str, list[int]] = {}
        for n, inquiry in enumerate(inquiries):
            by_organisation.setdefault(inquiry.organisation_key, []).append(n)

        async def place_in_order(numbers: list[int]) -> None:
            for n in numbers:
                placed[n] = await self._place(inquiries[n], books, batch)

        try:
            # return_exceptions: every placement finishes (its writes stand) before a
            # failure is raised and the batch retried; the bookkeeping of what did go
            # through is settled first.
            results = await asyncio.gather(
                *(place_in_order(numbers) for numbers in by_organisation.values()),
                return_exceptions=True,
            )
            await self.ctx.settle(books)
        finally:
            await batch.finish()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [placed[n] for n in range(len(inquiries))]

    async def _place(self, inquiry: InquiryReceived, books: Bookkeeping, batch: _Batch) -> str:
        for _ in range(MAX_ATTEMPTS):
            placed, open_case, latest = await self._placement_reads(inquiry)
            if placed is not None:
                log.info("inquiry_already_routed", case_id=placed["_id"])
                owner = Owner(placed["consultant"]["id"], placed["_id"])
                # Recorded again only if the first attempt's record is missing (read with
                # the placement): a retried batch writes no organisation it already wrote.
                if placed["status"] in OPEN and owner != latest:
                    books.owner_again(
                        owner.case_id, placed["organisation_key"], owner.consultant_id
                    )
                return str(placed["_id"])
            if open_case is not None:
                if await self._attach(open_case, inquiry):
                    return str(open_case["_id"])
                continue  # closed meanwhile, or a twin attached the inquiry: look again
            try:
                return await self._open(
                    inquiry, books, batch, latest.consultant_id if latest else None
                )
            except DuplicateKeyError:
                continue  # another instance opened the organisation's case first
        raise Conflict(f"inquiry {inquiry.inquiry_id} could not be placed on a case")

    async def _placement_reads(
        self, inquiry: InquiryReceived
    ) -> tuple[Case | None, Case | None, Owner | None]:
        """The case holding the inquiry, its organisation's open case and latest consultant:
        at once, one wait for the store instead of three (they do not depend on each
        other). Read again on every attempt: a retry follows another writer's change."""
        placed, open_case, latest = await asyncio.gather(
            self.cases.with_inquiry(inquiry.inquiry_id),
            self.cases.open_case_of(inquiry.organisation_key),
            self.ctx.organisations.latest_owner(inquiry.organisation_key),
        )
        return placed, open_case, latest

    async def _attach(self, case: Case, inquiry: InquiryReceived) -> bool:
        now = self.ctx.now()
        event = inquiry_attached(case, inquiry, now)
        record = self.ctx.record(event)
        fields: dict[str, Any] = {}
        if is_anonymised(case):
            # An open case anonymised at its maximum deadline gets personal data again:
            # its deadline counts from this inquiry.
            schedule = self.ctx.retention.schedule(inquiry.received_at, None, now)
            fields = {"personal_since": inquiry.received_at, "anonymised_at": None}
            fields.update(schedule.fields())
        attached = await self.cases.change(
            case["_id"],
            expect={
                "open_slot": inquiry.organisation_key,
                "inquiry_ids": {"$ne": inquiry.inquiry_id},
                # Not anonymised meanwhile by the deletion job (then: look again).
                "anonymised_at": case.get("anonymised_at"),
            },
            now=now,
            set_=fields,
            push={
                "inquiry_ids": inquiry.inquiry_id,
                "inquiries": inquiry_summary(inquiry),
                "timeline": timeline.inquiry_added(event, event_id(record)),
            },
            add_to_set={"needs": {"$each": [n.value for n in inquiry.needs]}},
            events=[record],
        )
        if attached:
            log.info("inquiry_attached", case_id=case["_id"], consultant=case["consultant"]["id"])
        return attached

    async def _previous_consultant(
        self, inquiry: InquiryReceived, latest: str | None
    ) -> str | None:
        """The organisation's latest consultant (`latest`, read with the placement), else,
        for a follow-up, the consultant of the case it follows up."""
        previous = latest
        if previous is None and inquiry.follow_up_of:
            earlier = await self.cases.with_inquiry(inquiry.follow_up_of)
            previous = earlier["consultant"]["id"] if earlier else None
        return previous

    async def _open(
        self, inquiry: InquiryReceived, books: Bookkeeping, batch: _Batch, latest: str | None
    ) -> str:
        """Open the organisation's case; DuplicateKeyError if it got one meanwhile."""
        case_id = case_id_for(inquiry.inquiry_id)
        now = self.ctx.now()
        today = self.ctx.local_day(now)
        previous = await self._previous_consultant(inquiry, latest)
        team, loads = await batch.roster(self.ctx)
        # Decide and count in one step (no await between): concurrent placements in the
        # batch see this case in the loads.
        assignment = assign_consultant(team, inquiry.needs, loads, today, previous)
        consultant_id = assignment.consultant.id
        batch.opened_for(consultant_id)
        due = add_working_days(today, self.ctx.settings.first_contact_working_days)
        event = case_routed(inquiry, case_id, assignment, due, now)
        record = self.ctx.record(event)
        case = new_case(
            inquiry,
            case_id,
            assignment,
            due,
            timeline.routed(event, event_id(record)),
            now,
            self.ctx.retention.schedule(inquiry.received_at, None, now),
        )
        try:
            created = await self.cases.create(case, [record])
        except BaseException:
            batch.closed_for(consultant_id)  # not opened after all
            raise
        if not created:
            batch.closed_for(consultant_id)  # a redelivery: counted when it was opened
        else:
            books.opened(case_id, inquiry.organisation_key, consultant_id)
            log.info(
                "case_routed",
                case_id=case_id,
                consultant=consultant_id,
                reason=assignment.reason.value,
            )
        return case_id

    # --- reassignment ------------------------------------------------------------

    async def _move(
        self,
        case: Case,
        assignment: Assignment,
        actor: Actor,
        previous_name: str,
        books: Bookkeeping,
    ) -> bool:
        """Give `case` to the assignment's consultant if its owner is still the same."""
        now = self.ctx.now()
        event = case_reassigned(case, assignment, now)
        record = self.ctx.record(event)
        previous_id = case["consultant"]["id"]
        moved = await self.cases.change(
            case["_id"],
            expect={"consultant_id": previous_id, "status": {"$in": OPEN}},
            now=now,
            set_={
                "consultant": consultant_doc(event.consultant),
                "routing": routing_info(assignment, previous_id),
            },
            push={
                "timeline": timeline.reassigned(event, event_id(record), previous_name, actor.id)
            },
            events=[record],
        )
        if moved:
            books.moved(
                case["_id"], case["organisation_key"], previous_id, assignment.consultant.id
            )
            log.info(
                "case_reassigned",
                case_id=case["_id"],
                consultant=assignment.consultant.id,
                previous=previous_id,
            )
        return moved

    async def reassign(self, case_id: str, consultant_id: str, actor: Actor) -> Assignment:
        """The team lead gives one case to another consultant (reason manual)."""
        for _ in range(3):
            case = await self.ctx.case(case_id)
            if case["status"] not in OPEN:
                raise Conflict("Sagen er lukket. Genåbn den, før den flyttes.")
            team = await self.ctx.team.load()
            assignment = manual_assignment(team, consultant_id, case["consultant"]["id"])
            books = Bookkeeping()
            if await self._move(case, assignment, actor, case["consultant"]["name"], books):
                await self.ctx.settle(books)
                return assignment
        raise Conflict("Sagen blev ændret samtidig. Prøv igen.")

    async def reassign_all(
        self, from_id: str, to_id: str | None, actor: Actor, team_after: Team | None = None
    ) -> int:
        """Move all open cases of `from_id` (who may have left) to `to_id`, or spread them
        by the policy when `to_id` is None. Returns how many moved."""
        team, loads = await self.ctx.team.load_with_loads()
        team = team_after or team
        if team.get(from_id) is not None:
            team = team.without(from_id)
        open_cases = sorted(await self.cases.open_cases(from_id), key=lambda c: c["_id"])
        if not open_cases:
            return 0
        previous_name = open_cases[0]["consultant"]["name"]
        if to_id is not None:
            target = team.require(to_id)
            plan = [(c["_id"], manual_assignment(team, target.id, from_id)) for c in open_cases]
        else:
            needs: Sequence[tuple[str, list[Need]]] = [
                (c["_id"], [Need(n) for n in c["needs"]]) for c in open_cases
            ]
            plan = plan_reassignment(
                team, needs, loads, self.ctx.local_day(self.ctx.now()), previous_name
            )
        by_id = {c["_id"]: c for c in open_cases}
        books = Bookkeeping()
        moved = 0
        for case_id, assignment in plan:
            moved += await self._move(by_id[case_id], assignment, actor, previous_name, books)
        await self.ctx.settle(books)
        log.info("cases_reassigned", previous=from_id, moved=moved, of=len(plan))
        return moved
