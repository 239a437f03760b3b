"""The routing policy, tested directly: explained, deterministic, never an absent owner.

Hypothesis settings: 500 examples per property (deadline off: the first call
builds the holiday calendar), the default random seed and Hypothesis' example
database (so a failure found once is tried first the next time).
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indgang_contracts.events import Need, RoutingReason
from indgang_routing.domain.errors import Conflict, NotFound
from indgang_routing.domain.policy import (
    Assignment,
    assign_consultant,
    manual_assignment,
    owner_after_reopen,
    plan_reassignment,
)
from indgang_routing.domain.team import Absence, Consultant, Team

TODAY = date(2026, 11, 30)
AWAY = (Absence(date(2026, 11, 1), date(2026, 12, 31)),)
EXAMPLES = 500


def consultant(cid: str, expertise: set[Need], capacity: int = 10, **kw: object) -> Consultant:
    return Consultant(
        id=cid,
        name=cid.title(),
        email=f"{cid}@kommune.example",
        department="Arbejdsmarkedsafdelingen",
        municipality_code="756",
        expertise=frozenset(expertise),
        capacity=capacity,
        **kw,  # type: ignore[arg-type]
    )


def test_expertise_wins() -> None:
    team = Team(
        (
            consultant("ane", {Need.HIRING_VULNERABLE_UNEMPLOYED, Need.LEGISLATION}),
            consultant("bo", {Need.BUSINESS_DEVELOPMENT}),
        )
    )
    chosen = assign_consultant(team, [Need.HIRING_VULNERABLE_UNEMPLOYED], {}, TODAY)
    assert chosen.consultant.id == "ane"
    assert chosen.reason is RoutingReason.EXPERTISE
    assert "Ane" in chosen.explanation


def test_continuity_then_deputy_when_absent() -> None:
    team = Team(
        (
            consultant("ane", set(), deputy="bo", absences=AWAY),
            consultant("bo", set()),
            consultant("cy", {Need.OTHER}),
        )
    )
    chosen = assign_consultant(team, [Need.OTHER], {}, TODAY, previous_consultant_id="ane")
    assert (chosen.consultant.id, chosen.reason) == ("bo", RoutingReason.DEPUTY)
    present = assign_consultant(team, [Need.OTHER], {}, TODAY, previous_consultant_id="cy")
    assert (present.consultant.id, present.reason) == ("cy", RoutingReason.CONTINUITY)


def test_continuity_ignores_capacity_but_not_a_departed_consultant() -> None:
    team = Team((consultant("ane", set(), capacity=1), consultant("bo", {Need.OTHER})))
    full = assign_consultant(team, [Need.OTHER], {"ane": 5}, TODAY, previous_consultant_id="ane")
    assert (full.consultant.id, full.reason) == ("ane", RoutingReason.CONTINUITY)
    gone = assign_consultant(team, [Need.OTHER], {}, TODAY, previous_consultant_id="left-us")
    assert (gone.consultant.id, gone.reason) == ("bo", RoutingReason.EXPERTISE)


def test_full_expert_is_skipped_for_capacity() -> None:
    team = Team(
        (consultant("ane", {Need.LEGISLATION}, capacity=1), consultant("bo", set(), capacity=5))
    )
    chosen = assign_consultant(team, [Need.LEGISLATION], {"ane": 1}, TODAY)
    assert (chosen.consultant.id, chosen.reason) == ("bo", RoutingReason.CAPACITY)


def test_least_loaded_breaks_ties() -> None:
    team = Team((consultant("ane", {Need.OTHER}), consultant("bo", {Need.OTHER})))
    chosen = assign_consultant(team, [Need.OTHER], {"ane": 3, "bo": 1}, TODAY)
    assert (chosen.consultant.id, chosen.reason) == ("bo", RoutingReason.LEAST_LOADED)


def test_everybody_absent_still_gives_an_owner() -> None:
    team = Team((consultant("ane", set(), absences=AWAY), consultant("bo", set(), absences=AWAY)))
    assert assign_consultant(team, [Need.OTHER], {}, TODAY).consultant.id == "ane"


def test_manual_assignment_needs_a_team_member_who_is_not_the_owner() -> None:
    team = Team((consultant("ane", set()), consultant("bo", set())))
    moved = manual_assignment(team, "bo", "ane")
    assert (moved.consultant.id, moved.reason) == ("bo", RoutingReason.MANUAL)
    with pytest.raises(Conflict, match="allerede"):
        manual_assignment(team, "ane", "ane")
    with pytest.raises(NotFound, match="ikke på holdet"):
        manual_assignment(team, "nobody", "ane")


def test_reopened_case_keeps_its_owner_unless_they_left() -> None:
    team = Team((consultant("ane", set()), consultant("bo", {Need.OTHER})))
    assert owner_after_reopen(team, "ane", [Need.OTHER], {}, TODAY) is None
    new = owner_after_reopen(team, "gone", [Need.OTHER], {}, TODAY)
    assert new is not None
    assert new.consultant.id == "bo"
    assert "ikke længere på holdet" in new.explanation


needs_st = st.lists(st.sampled_from(list(Need)), min_size=1, max_size=4)


@st.composite
def teams(draw: st.DrawFn) -> tuple[Team, dict[str, int]]:
    size = draw(st.integers(min_value=1, max_value=6))
    ids = [f"c{i}" for i in range(size)]
    members = []
    loads = {}
    for cid in ids:
        members.append(
            consultant(
                cid,
                set(draw(st.lists(st.sampled_from(list(Need)), max_size=4))),
                capacity=draw(st.integers(min_value=0, max_value=5)),
                deputy=draw(st.sampled_from([None, *(i for i in ids if i != cid)])),
                absences=AWAY if draw(st.booleans()) else (),
            )
        )
        loads[cid] = draw(st.integers(min_value=0, max_value=6))
    return Team(tuple(members)), loads


def available(team: Team, loads: dict[str, int]) -> list[Consultant]:
    return [c for c in team.consultants if not c.is_absent(TODAY) and loads[c.id] < c.capacity]


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    teams(),
    needs_st,
    st.one_of(st.none(), st.sampled_from([f"c{i}" for i in range(7)])),
    st.randoms(use_true_random=False),
)
def test_policy_properties(
    team_loads: tuple[Team, dict[str, int]], needs: list[Need], previous: str | None, rnd: object
) -> None:
    team, loads = team_loads
    first = assign_consultant(team, needs, loads, TODAY, previous)
    # Exactly one owner, a member of the team.
    assert team.get(first.consultant.id) is first.consultant
    # Deterministic: the same inputs give the same choice, in any storage order.
    assert assign_consultant(team, needs, loads, TODAY, previous) == first
    shuffled = list(team.consultants)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    reordered = Team(tuple(shuffled), team.team_lead_email)
    assert assign_consultant(reordered, list(reversed(needs)), loads, TODAY, previous) == first

    anyone_present = any(not c.is_absent(TODAY) for c in team.consultants)
    before = team.get(previous)
    if before is not None and not before.is_absent(TODAY):
        # Continuity: the organisation's present consultant, whatever their load.
        assert (first.consultant, first.reason) == (before, RoutingReason.CONTINUITY)
    elif before is not None and (deputy := team.get(before.deputy)) and not deputy.is_absent(TODAY):
        # Their deputy while they are away, whatever the deputy's load.
        assert (first.consultant, first.reason) == (deputy, RoutingReason.DEPUTY)
    else:
        assert first.reason not in (RoutingReason.CONTINUITY, RoutingReason.DEPUTY)
        # Never absent or over capacity while a present one under capacity exists.
        pool = available(team, loads)
        if pool:
            assert first.consultant in pool
            # ... and among those, the best expertise match, then the least loaded.
            wanted = set(needs)
            best = max(len(c.expertise & wanted) for c in pool)
            assert len(first.consultant.expertise & wanted) == best
            assert loads[first.consultant.id] == min(
                loads[c.id] for c in pool if len(c.expertise & wanted) == best
            )
    # Never absent while anybody is present (continuity and deputy pick present people too).
    if anyone_present:
        assert not first.consultant.is_absent(TODAY)


@settings(max_examples=EXAMPLES, deadline=None)
@given(teams(), st.lists(needs_st, max_size=12), st.data())
def test_bulk_reassignment_gives_every_case_one_new_owner(
    team_loads: tuple[Team, dict[str, int]], case_needs: list[list[Need]], data: st.DataObject
) -> None:
    team, loads = team_loads
    leaving = data.draw(st.sampled_from([c.id for c in team.consultants]))
    if len(team.consultants) == 1:
        with pytest.raises(Conflict):
            team.without(leaving)
        return
    after = team.without(leaving)
    assert all(c.deputy != leaving for c in after.consultants)
    cases = [(f"case-{i:02}", needs) for i, needs in enumerate(case_needs)]
    plan = plan_reassignment(after, cases, loads, TODAY, "Leaving")
    # Every case exactly once, each with exactly one owner on the remaining team.
    assert sorted(case_id for case_id, _ in plan) == sorted(case_id for case_id, _ in cases)
    for _, assignment in plan:
        assert isinstance(assignment, Assignment)
        assert assignment.consultant.id != leaving
        assert after.get(assignment.consultant.id) is assignment.consultant
        assert assignment.reason is RoutingReason.MANUAL
    # Deterministic, whatever order the cases come in.
    assert plan_reassignment(after, list(reversed(cases)), loads, TODAY, "Leaving") == plan
    # The policy's rule holds as the cases are placed one by one.
    running = {c.id: loads.get(c.id, 0) for c in after.consultants}
    for _, assignment in plan:
        pool = available(after, running)
        if pool:
            assert assignment.consultant in pool
        running[assignment.consultant.id] += 1
