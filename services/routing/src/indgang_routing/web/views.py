"""What the console's lists show, computed from stored cases and the team (no I/O here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from indgang_contracts.events import CaseStatus, ReferralStatus
from indgang_routing.domain.case import Case, Referral
from indgang_routing.domain.errors import InvalidTransition
from indgang_routing.domain.lifecycle import CaseAction, first_contact_late, next_status
from indgang_routing.domain.team import Absence, Consultant, Team


def is_overdue(case: Case, today: date) -> bool:
    """First contact not made and its date passed (the overdue reminder's rule)."""
    due = date.fromisoformat(case["first_contact_due"])
    return first_contact_late(CaseStatus(case["status"]), due, today)


def urgency(case: Case, today: date) -> tuple[int, str, str]:
    """Overdue first contacts first, then those awaiting first contact by date, then the rest."""
    awaiting = case["status"] == CaseStatus.ASSIGNED.value
    rank = 0 if is_overdue(case, today) else 1 if awaiting else 2
    return (rank, case["first_contact_due"] if awaiting else "", case["reference"])


def by_urgency(cases: Iterable[Case], today: date) -> list[Case]:
    return sorted(cases, key=lambda c: urgency(c, today))


def allowed_actions(case: Case) -> set[CaseAction]:
    """The lifecycle actions the rules allow now (the page shows only these)."""
    allowed = set()
    for action in CaseAction:
        try:
            next_status(
                CaseStatus(case["status"]),
                action,
                first_contact_logged=bool(case.get("first_contact")),
            )
        except InvalidTransition:
            continue
        allowed.add(action)
    return allowed


def current_absence(consultant: Consultant, today: date) -> Absence | None:
    return next((a for a in consultant.absences if a.covers(today)), None)


@dataclass(frozen=True)
class Workload:
    consultant: Consultant
    open: int
    awaiting_first_contact: int
    overdue: int
    waiting: int
    absence: Absence | None

    @property
    def over_capacity(self) -> bool:
        return self.open > self.consultant.capacity

    @property
    def percent(self) -> int:
        if self.consultant.capacity == 0:
            return 100 if self.open else 0
        return round(100 * self.open / self.consultant.capacity)


def workloads(team: Team, open_cases: Sequence[Case], today: date) -> list[Workload]:
    rows = []
    for member in sorted(team.consultants, key=lambda c: c.name):
        mine = [c for c in open_cases if c["consultant"]["id"] == member.id]
        rows.append(
            Workload(
                consultant=member,
                open=len(mine),
                awaiting_first_contact=sum(c["status"] == "assigned" for c in mine),
                overdue=sum(is_overdue(c, today) for c in mine),
                waiting=sum(c["status"] == "waiting" for c in mine),
                absence=current_absence(member, today),
            )
        )
    return rows


@dataclass(frozen=True)
class Problems:
    overdue: list[Case]
    orphaned: list[Case]  # the owner is no longer on the team
    owner_absent: list[Case]
    late_referrals: list[tuple[Case, Referral]]
    over_capacity: list[Workload]

    @property
    def count(self) -> int:
        return (
            len(self.overdue)
            + len(self.orphaned)
            + len(self.owner_absent)
            + len(self.late_referrals)
            + len(self.over_capacity)
        )


def problems(team: Team, open_cases: Sequence[Case], today: date) -> Problems:
    def owner(case: Case) -> Consultant | None:
        return team.get(case["consultant"]["id"])

    late = [
        (case, referral)
        for case in open_cases
        for referral in case.get("referrals", [])
        if referral["status"] == ReferralStatus.SENT.value
        and (due := referral.get("response_due"))
        and due < today.isoformat()
    ]
    return Problems(
        overdue=by_urgency([c for c in open_cases if is_overdue(c, today)], today),
        orphaned=[c for c in open_cases if owner(c) is None],
        owner_absent=[c for c in open_cases if (m := owner(c)) is not None and m.is_absent(today)],
        late_referrals=late,
        over_capacity=[w for w in workloads(team, open_cases, today) if w.over_capacity],
    )


def referral_totals(cases: Iterable[Case]) -> dict[str, int]:
    """Referrals by status and the people employed through completed ones."""
    totals = {s.value: 0 for s in ReferralStatus}
    totals.update(wage_subsidy_hires=0, work_placements=0, flex_jobs=0, other_hires=0)
    for case in cases:
        for referral in case.get("referrals", []):
            totals[referral["status"]] += 1
            for answer in referral.get("answers", []):
                outcome = answer.get("outcome") or {}
                for key in ("wage_subsidy_hires", "work_placements", "flex_jobs", "other_hires"):
                    totals[key] += int(outcome.get(key, 0))
    return totals
