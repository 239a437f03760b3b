"""The routing policy: who owns a case, and why. Pure and deterministic.

Order of rules for a new case:

1. continuity — the organisation's previous consultant (of its latest case, or
   of the inquiry it follows up), if still on the team and present today. This
   rule ignores capacity on purpose: the relationship is worth more than an even
   spread, and capacity is a soft limit.
2. deputy — that previous consultant is on the team but absent today: their
   deputy, if on the team and present (also regardless of capacity).
3. otherwise the pool is the consultants who are present and under capacity
   (if none: those present; if nobody is present: everybody, so a case always
   gets an owner); in the pool the most needs covered by expertise → the least
   loaded → the consultant id (a stable tie-break, so the same inputs always
   give the same choice, whatever order the team is stored in).

Hence: an absent or over-capacity consultant is chosen while a present one
under capacity exists only by rules 1-2, and an absent one never while anyone
is present. Manual reassignment and bulk reassignment (a consultant leaves)
give reason `manual`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from indgang_contracts.events import Need, RoutingReason
from indgang_routing.domain.errors import Conflict
from indgang_routing.domain.team import Consultant, Team


@dataclass(frozen=True)
class Assignment:
    consultant: Consultant
    reason: RoutingReason
    explanation: str


def assign_consultant(
    team: Team,
    needs: Iterable[Need],
    loads: Mapping[str, int],
    today: date,
    previous_consultant_id: str | None = None,
) -> Assignment:
    wanted = frozenset(needs)
    previous = team.get(previous_consultant_id)
    if previous is not None:
        if not previous.is_absent(today):
            return Assignment(
                previous,
                RoutingReason.CONTINUITY,
                f"Organisationen har haft {previous.name} som kontakt før.",
            )
        deputy = team.get(previous.deputy)
        if deputy is not None and not deputy.is_absent(today):
            return Assignment(
                deputy,
                RoutingReason.DEPUTY,
                f"{previous.name} er fraværende; stedfortræder {deputy.name} overtager.",
            )

    present = [c for c in team.consultants if not c.is_absent(today)] or list(team.consultants)
    under_capacity = [c for c in present if loads.get(c.id, 0) < c.capacity]
    pool = under_capacity or present

    def coverage(c: Consultant) -> int:
        return len(c.expertise & wanted)

    best_coverage = max(coverage(c) for c in pool)
    best = [c for c in pool if coverage(c) == best_coverage]
    chosen = min(best, key=lambda c: (loads.get(c.id, 0), c.id))

    skipped_for_capacity = any(
        coverage(c) > best_coverage for c in present if c not in under_capacity
    )
    if skipped_for_capacity:
        reason = RoutingReason.CAPACITY
        text = (
            f"Konsulenter med mere ekspertise er fuldt booket; {chosen.name} har plads "
            f"og dækker {best_coverage} af {len(wanted)} behov."
        )
    elif best_coverage > 0 and len(best) == 1:
        reason = RoutingReason.EXPERTISE
        text = f"{chosen.name} dækker flest af behovene ({best_coverage} af {len(wanted)})."
    else:
        reason = RoutingReason.LEAST_LOADED
        text = (
            f"{chosen.name} har færrest åbne sager blandt de bedst egnede "
            f"({loads.get(chosen.id, 0)} åbne)."
        )
    return Assignment(chosen, reason, text)


def manual_assignment(team: Team, consultant_id: str, current_id: str) -> Assignment:
    """The team lead moves a case to `consultant_id`, who must be on the team."""
    chosen = team.require(consultant_id)
    if chosen.id == current_id:
        raise Conflict(f"Sagen ejes allerede af {chosen.name}.")
    return Assignment(
        chosen, RoutingReason.MANUAL, f"Teamlederen har flyttet sagen til {chosen.name}."
    )


def plan_reassignment(
    team: Team,
    cases: Sequence[tuple[str, Iterable[Need]]],
    loads: Mapping[str, int],
    today: date,
    previous_name: str,
) -> list[tuple[str, Assignment]]:
    """New owners for `cases` (id, needs) of a consultant who leaves or is relieved.

    `team` is the team without them. Each case is placed by the policy's rules 3
    (no continuity: its consultant is the one leaving), in case-id order, counting
    the cases already placed, so they spread; the reason is `manual`.
    """
    running = dict(loads)
    plan = []
    for case_id, needs in sorted(cases, key=lambda item: item[0]):
        choice = assign_consultant(team, needs, running, today)
        running[choice.consultant.id] = running.get(choice.consultant.id, 0) + 1
        plan.append(
            (
                case_id,
                Assignment(
                    choice.consultant,
                    RoutingReason.MANUAL,
                    f"Teamlederen har omfordelt sagen fra {previous_name}. {choice.explanation}",
                ),
            )
        )
    return plan


def owner_after_reopen(
    team: Team, owner_id: str, needs: Iterable[Need], loads: Mapping[str, int], today: date
) -> Assignment | None:
    """A reopened case keeps its consultant; if they left the team, the policy picks anew."""
    if team.get(owner_id) is not None:
        return None
    choice = assign_consultant(team, needs, loads, today)
    return Assignment(
        choice.consultant,
        choice.reason,
        f"Sagens tidligere konsulent er ikke længere på holdet. {choice.explanation}",
    )
