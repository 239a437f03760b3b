"""The routing policy: who owns a new case, and why. Pure and deterministic.

Order of rules: continuity (the organisation's consultant, if still on the team
and present; if absent, their deputy) → expertise (covers most of the needs) →
capacity (under their open-case limit) → least loaded → consultant id (a stable
tie-break, so the same inputs always give the same choice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from indgang_contracts.events import Need, RoutingReason
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
