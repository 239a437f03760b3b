"""The case lifecycle and ownership as a state machine (hypothesis.stateful), on the pure domain.

Inquiries arrive from a few organisations, consultants act on cases (first
contact, wait, resume, close, reopen), the team lead moves cases and edits the
team (absences, capacity, new members, removals with bulk reassignment). After
every step:

- every case has exactly one owner, and every open case's owner is on the team;
- an organisation has at most one open case;
- the lifecycle rules agree with an independent table of what is allowed;
- routing choices obey the policy (never absent or over capacity while a present
  consultant under capacity exists, except continuity/deputy) and are the same
  for the same inputs in any order.

Settings: 300 examples of up to 60 steps (deadline off), default seed, the
example database on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from indgang_contracts.events import CaseStatus, Need, RoutingReason
from indgang_routing.domain.errors import Conflict, InvalidTransition, NotFound
from indgang_routing.domain.lifecycle import OPEN_STATUSES, CaseAction, is_open, next_status
from indgang_routing.domain.policy import (
    assign_consultant,
    manual_assignment,
    owner_after_reopen,
    plan_reassignment,
)
from indgang_routing.domain.team import Absence, Consultant, Team

TODAY = date(2026, 11, 30)
AWAY = (Absence(date(2026, 11, 23), date(2026, 12, 7)),)
ORGANISATIONS = ("cvr:11111111", "cvr:22222222", "email:a@kaffe.example", "email:b@cykel.example")
OPEN = set(OPEN_STATUSES)
needs_st = st.lists(st.sampled_from(list(Need)), min_size=1, max_size=3, unique=True)

# What the rules must allow, written out independently of domain.lifecycle.
ALLOWED: dict[CaseStatus, set[CaseAction]] = {
    CaseStatus.ASSIGNED: {CaseAction.LOG_FIRST_CONTACT, CaseAction.CLOSE},
    CaseStatus.IN_PROGRESS: {CaseAction.WAIT, CaseAction.CLOSE},
    CaseStatus.WAITING: {CaseAction.RESUME, CaseAction.CLOSE},
    CaseStatus.CLOSED: {CaseAction.REOPEN},
}


@dataclass
class ModelCase:
    id: str
    organisation: str
    needs: list[Need]
    owner: str
    status: CaseStatus = CaseStatus.ASSIGNED
    first_contact: bool = False
    inquiries: int = 1
    owners: list[str] = field(default_factory=list)


def member(cid: str, expertise: list[Need], capacity: int, absent: bool) -> Consultant:
    return Consultant(
        id=cid,
        name=cid.upper(),
        email=f"{cid}@kommune.example",
        department="Arbejdsmarkedsafdelingen",
        municipality_code="756",
        expertise=frozenset(expertise),
        capacity=capacity,
        absences=AWAY if absent else (),
    )


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.team: Team
        self.cases: dict[str, ModelCase] = {}
        self.next_id = 0

    @initialize(
        size=st.integers(min_value=1, max_value=4),
        data=st.data(),
    )
    def start(self, size: int, data: st.DataObject) -> None:
        members = tuple(
            member(
                f"k{i}",
                data.draw(st.lists(st.sampled_from(list(Need)), max_size=3, unique=True)),
                data.draw(st.integers(min_value=0, max_value=3)),
                data.draw(st.booleans()),
            )
            for i in range(size)
        )
        self.team = Team(members)

    # --- helpers -----------------------------------------------------------------

    def loads(self) -> dict[str, int]:
        loads: dict[str, int] = {}
        for case in self.cases.values():
            if is_open(case.status):
                loads[case.owner] = loads.get(case.owner, 0) + 1
        return loads

    def open_case_of(self, organisation: str) -> ModelCase | None:
        return next(
            (
                c
                for c in self.cases.values()
                if c.organisation == organisation and is_open(c.status)
            ),
            None,
        )

    def set_owner(self, case: ModelCase, owner: str) -> None:
        case.owner = owner
        case.owners.append(owner)

    def previous_consultant(self, organisation: str) -> str | None:
        """The owner of the organisation's latest case (routing's continuity input)."""
        theirs = [c for c in self.cases.values() if c.organisation == organisation]
        return max(theirs, key=lambda c: c.id).owner if theirs else None

    # --- rules ---------------------------------------------------------------------

    @rule(organisation=st.sampled_from(ORGANISATIONS), needs=needs_st)
    def inquiry_arrives(self, organisation: str, needs: list[Need]) -> None:
        existing = self.open_case_of(organisation)
        if existing is not None:
            # One open case per organisation: the inquiry joins it; the owner stays.
            existing.inquiries += 1
            existing.needs += [n for n in needs if n not in existing.needs]
            return
        loads = self.loads()
        previous = self.previous_consultant(organisation)
        choice = assign_consultant(self.team, needs, loads, TODAY, previous)
        reordered = Team(tuple(reversed(self.team.consultants)))
        assert assign_consultant(reordered, needs, dict(loads), TODAY, previous) == choice
        if choice.reason not in (RoutingReason.CONTINUITY, RoutingReason.DEPUTY):
            pool = [
                c
                for c in self.team.consultants
                if not c.is_absent(TODAY) and loads.get(c.id, 0) < c.capacity
            ]
            if pool:
                assert choice.consultant in pool
        self.next_id += 1
        case = ModelCase(f"s{self.next_id:03}", organisation, list(needs), choice.consultant.id)
        self.cases[case.id] = case
        self.set_owner(case, choice.consultant.id)

    def act(self, case: ModelCase, action: CaseAction) -> None:
        allowed = action in ALLOWED[case.status]
        try:
            status = next_status(case.status, action, first_contact_logged=case.first_contact)
        except InvalidTransition as exc:
            refusal = exc.message
        else:
            refusal = ""
        if refusal:
            assert not allowed, f"{action} refused in {case.status}: {refusal}"
            return
        assert allowed, f"{action} allowed in {case.status}"
        if action is CaseAction.REOPEN:
            if self.open_case_of(case.organisation) is not None:
                return  # the store's open_slot index refuses it (tested on the store)
            assert status is (CaseStatus.IN_PROGRESS if case.first_contact else CaseStatus.ASSIGNED)
            new_owner = owner_after_reopen(self.team, case.owner, case.needs, self.loads(), TODAY)
            if new_owner is not None:
                self.set_owner(case, new_owner.consultant.id)
        if action is CaseAction.LOG_FIRST_CONTACT:
            case.first_contact = True
        case.status = status

    def pick(self, data: st.DataObject, statuses: set[CaseStatus]) -> ModelCase:
        ids = sorted(k for k, c in self.cases.items() if c.status in statuses)
        return self.cases[data.draw(st.sampled_from(ids))]

    def has(self, *statuses: CaseStatus) -> bool:
        return any(c.status in statuses for c in self.cases.values())

    @precondition(lambda self: self.cases)
    @rule(data=st.data(), action=st.sampled_from(list(CaseAction)))
    def consultant_tries_anything(self, data: st.DataObject, action: CaseAction) -> None:
        self.act(self.pick(data, set(CaseStatus)), action)

    @precondition(lambda self: self.has(CaseStatus.ASSIGNED))
    @rule(data=st.data())
    def consultant_logs_first_contact(self, data: st.DataObject) -> None:
        self.act(self.pick(data, {CaseStatus.ASSIGNED}), CaseAction.LOG_FIRST_CONTACT)

    @precondition(lambda self: self.has(CaseStatus.IN_PROGRESS, CaseStatus.WAITING))
    @rule(data=st.data(), action=st.sampled_from([CaseAction.WAIT, CaseAction.RESUME]))
    def consultant_waits_or_resumes(self, data: st.DataObject, action: CaseAction) -> None:
        self.act(self.pick(data, {CaseStatus.IN_PROGRESS, CaseStatus.WAITING}), action)

    @precondition(lambda self: self.has(*OPEN))
    @rule(data=st.data())
    def consultant_closes(self, data: st.DataObject) -> None:
        self.act(self.pick(data, OPEN), CaseAction.CLOSE)

    @precondition(lambda self: self.has(CaseStatus.CLOSED))
    @rule(data=st.data())
    def consultant_reopens(self, data: st.DataObject) -> None:
        self.act(self.pick(data, {CaseStatus.CLOSED}), CaseAction.REOPEN)

    @precondition(lambda self: self.has(*OPEN))
    @rule(data=st.data())
    def team_lead_moves_a_case(self, data: st.DataObject) -> None:
        case = self.pick(data, OPEN)
        target = data.draw(st.sampled_from([*(c.id for c in self.team.consultants), "gone"]))
        try:
            choice = manual_assignment(self.team, target, case.owner)
        except Conflict:
            assert target == case.owner
            return
        except NotFound:
            assert self.team.get(target) is None
            return
        assert choice.reason is RoutingReason.MANUAL
        self.set_owner(case, choice.consultant.id)

    @rule(data=st.data())
    def team_lead_removes_a_consultant(self, data: st.DataObject) -> None:
        leaving = data.draw(st.sampled_from([c.id for c in self.team.consultants]))
        try:
            after = self.team.without(leaving)
        except Conflict:
            assert len(self.team.consultants) == 1  # the last one stays: cases need an owner
            return
        theirs = [c for c in self.cases.values() if is_open(c.status) and c.owner == leaving]
        plan = plan_reassignment(
            after, [(c.id, c.needs) for c in theirs], self.loads(), TODAY, leaving.upper()
        )
        assert sorted(case_id for case_id, _ in plan) == sorted(c.id for c in theirs)
        for case_id, choice in plan:
            self.set_owner(self.cases[case_id], choice.consultant.id)
        self.team = after

    @rule(data=st.data(), absent=st.booleans(), capacity=st.integers(min_value=0, max_value=4))
    def team_lead_edits_a_consultant(
        self, data: st.DataObject, absent: bool, capacity: int
    ) -> None:
        cid = data.draw(st.sampled_from([c.id for c in self.team.consultants]))
        others = [c.id for c in self.team.consultants if c.id != cid]
        edited = replace(
            self.team.require(cid),
            capacity=capacity,
            absences=AWAY if absent else (),
            deputy=data.draw(st.sampled_from([None, *others])),
        )
        self.team = self.team.with_member(edited)

    @rule(expertise=st.lists(st.sampled_from(list(Need)), max_size=3, unique=True))
    def team_lead_adds_a_consultant(self, expertise: list[Need]) -> None:
        self.next_id += 1
        self.team = self.team.with_member(member(f"n{self.next_id}", expertise, 3, False))

    # --- invariants ----------------------------------------------------------------

    @invariant()
    def every_case_has_exactly_one_owner(self) -> None:
        for case in self.cases.values():
            assert isinstance(case.owner, str)
            assert case.owner
            assert case.owner == case.owners[-1]
            if is_open(case.status):
                assert self.team.get(case.owner) is not None, "an open case's owner left"

    @invariant()
    def one_open_case_per_organisation(self) -> None:
        for organisation in ORGANISATIONS:
            open_cases = [
                c
                for c in self.cases.values()
                if c.organisation == organisation and is_open(c.status)
            ]
            assert len(open_cases) <= 1

    @invariant()
    def deputies_are_on_the_team(self) -> None:
        for consultant in self.team.consultants:
            assert consultant.deputy is None or self.team.get(consultant.deputy) is not None


CaseLifecycle.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestCaseLifecycle = CaseLifecycle.TestCase
