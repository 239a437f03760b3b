"""The routing policy, tested directly: explained, deterministic, never an absent owner."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from indgang_contracts.events import Need, RoutingReason
from indgang_routing.domain.policy import assign_consultant
from indgang_routing.domain.team import Absence, Consultant, Team

TODAY = date(2026, 11, 30)
AWAY = (Absence(date(2026, 11, 1), date(2026, 12, 31)),)


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
                capacity=draw(st.integers(min_value=1, max_value=5)),
                deputy=draw(st.sampled_from([None, *ids])),
                absences=AWAY if draw(st.booleans()) else (),
            )
        )
        loads[cid] = draw(st.integers(min_value=0, max_value=6))
    return Team(tuple(members)), loads


@settings(max_examples=300, deadline=None)
@given(teams(), needs_st, st.one_of(st.none(), st.sampled_from([f"c{i}" for i in range(6)])))
def test_policy_properties(
    team_loads: tuple[Team, dict[str, int]], needs: list[Need], previous: str | None
) -> None:
    team, loads = team_loads
    first = assign_consultant(team, needs, loads, TODAY, previous)
    # Exactly one owner, a member of the team.
    assert team.get(first.consultant.id) is first.consultant
    # Deterministic.
    assert assign_consultant(team, needs, loads, TODAY, previous) == first
    # Never absent or over capacity while a present consultant under capacity exists,
    # except by continuity (the organisation's own consultant stays theirs).
    available = [c for c in team.consultants if not c.is_absent(TODAY) and loads[c.id] < c.capacity]
    if available and first.reason not in (RoutingReason.CONTINUITY, RoutingReason.DEPUTY):
        assert first.consultant in available
    if first.reason is not RoutingReason.CONTINUITY and any(
        not c.is_absent(TODAY) for c in team.consultants
    ):
        assert not first.consultant.is_absent(TODAY)
