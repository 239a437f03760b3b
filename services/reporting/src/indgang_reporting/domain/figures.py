"""The figures of every report, computed from the facts of the chosen periods.

Pure and deterministic: the same facts give the same figures whatever order they
were stored in. Conventions (also in the README):
- an inquiry counts in the period it was received; a case's first contact in the
  period the case was opened (first routed); a referral in the period it was made,
  its social value in the period it was completed; a closing when it happened; a
  consultant's recording of social value in the period of its day (`occurred_on`); a
  case's RSV checklist, by its latest state, in the period of its latest change;
- the median is the middle value (the mean of the two middle ones for an even
  count); the 90th percentile is the nearest-rank value (the smallest value with at
  least 90 % of the values at or below it);
- "on time": first contact on or before the deadline day (Danish date); the share
  on time is out of the cases contacted plus those still waiting past their deadline
  (a case still within its deadline is not decided yet and is left out);
- days are calendar days with one decimal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from typing import Any

from pydantic import BaseModel, Field

from indgang_reporting.domain.facts import CRITERIA, EMPLOYED, HIRES, WON, Doc
from indgang_reporting.domain.periods import Span, local_date

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Selection:
    """What a report is for: a span of weeks or months, and optionally one consultant,
    one door (inquiry channel) or one department (referral target)."""

    span: Span
    today: date
    consultant: str | None = None
    door: str | None = None
    department: str | None = None


@dataclass
class Facts:
    """The facts of the chosen periods (as the store returns them)."""

    inquiries: list[Doc] = field(default_factory=list)
    cases: list[Doc] = field(default_factory=list)
    case_changes: list[Doc] = field(default_factory=list)
    referrals_made: list[Doc] = field(default_factory=list)
    referrals_completed: list[Doc] = field(default_factory=list)
    deliveries: list[Doc] = field(default_factory=list)
    # Open cases not yet contacted, whatever their period ("overdue now").
    awaiting: list[Doc] = field(default_factory=list)
    # The inquiries that opened the cases above, by id (a case's door).
    openers: dict[str, Doc] = field(default_factory=dict)
    # The consultants' recordings of social value whose day is in the periods.
    outcomes: list[Doc] = field(default_factory=list)
    # The recordings of each case closed in the periods (by case id), whatever their day.
    case_outcomes: dict[str, list[Doc]] = field(default_factory=dict)
    # The cases' RSV checklists last changed in the periods (their latest state).
    rsv: list[Doc] = field(default_factory=list)


# --- the report models (also the JSON endpoints' documented schema) -----------------------


class Count(BaseModel):
    key: str = Field(description="The code counted (a door, need, stage, consultant id, ...).")
    count: int = Field(description="How many.")


class InquiryRow(BaseModel):
    key: str = Field(description="The period (YYYY-MM or YYYY-Www).")
    total: int = Field(description="Inquiries received.")
    web: int = Field(description="Through the web form.")
    phone: int = Field(description="By phone.")
    email: int = Field(description="By e-mail.")
    walk_in: int = Field(description="In person.")
    forwarded: int = Field(description="Forwarded by a department.")
    follow_ups: int = Field(description="Of these, follow-ups on an open case (came back).")


class InquiriesReport(BaseModel):
    periods: list[InquiryRow]
    total: InquiryRow
    by_door: list[Count] = Field(
        description="Per door; forwarded inquiries as 'forwarded:<department>'."
    )
    by_need: list[Count] = Field(description="Per need (an inquiry counts once per need).")
    by_stage: list[Count] = Field(description="Per stage of the organisation.")
    by_consultant: list[Count] = Field(description="Per consultant the inquiry went to.")


class FirstContactRow(BaseModel):
    key: str = Field(description="The period or the consultant id.")
    cases: int = Field(description="Cases opened.")
    contacted: int = Field(description="Of these, contacted.")
    on_time: int = Field(description="Contacted on or before the deadline day.")
    late: int = Field(description="Contacted after the deadline, or still waiting past it.")
    waiting: int = Field(description="Not contacted yet, still within the deadline.")
    share_on_time: float | None = Field(
        description="on_time / (on_time + late), 0..1; null when nothing is decided."
    )
    median_days: float | None = Field(description="Median days from opening to contact.")
    p90_days: float | None = Field(description="90th percentile (nearest rank), days.")


class FirstContactReport(BaseModel):
    periods: list[FirstContactRow]
    total: FirstContactRow
    by_consultant: list[FirstContactRow]
    overdue_now: list[Count] = Field(
        description="Open cases past their first-contact deadline today, per consultant."
    )
    overdue_now_total: int


class ReferralRow(BaseModel):
    key: str = Field(
        description="The period, or the target: a department code, or "
        "'outside_provider:<provider id>'."
    )
    made: int = Field(description="Referrals made.")
    answered: int = Field(description="Of these, answered (accepted, declined or completed).")
    accepted: int = Field(description="Accepted (now accepted or since completed).")
    declined: int = Field(description="Declined.")
    completed: int = Field(description="Completed.")
    overdue: int = Field(description="Not answered by the answer deadline (reported overdue).")
    median_days_to_answer: float | None = Field(description="Median days to the first answer.")


class DeclineReason(BaseModel):
    key: str = Field(description="The target (see ReferralRow.key).")
    period: str
    reason: str = Field(description="The department's reason (at most 300 characters).")


class ReferralsReport(BaseModel):
    periods: list[ReferralRow]
    total: ReferralRow
    by_target: list[ReferralRow]
    declined_reasons: list[DeclineReason]


class ClosedRow(BaseModel):
    key: str = Field(description="The period or the consultant id.")
    closed: int = Field(description="Cases closed (a case closed twice in a period: once).")
    reopened: int = Field(description="Closed cases reopened.")
    with_outcomes: int = Field(
        description="Of the cases closed, those with social value recorded up to the "
        "closing (a recording not withdrawn whose day is on or before the closing day)."
    )
    people_employed: int = Field(
        description="People employed (every instrument) in those recordings."
    )
    rsv_registrations_helped: int = Field(
        description="Of those cases, those where the consultant helped to RSV registration."
    )
    supplier_agreements: int = Field(description="Supplier agreements won, in those recordings.")
    social_clauses: int = Field(description="Contracts with social clauses won, in those.")


class ClosedReport(BaseModel):
    periods: list[ClosedRow]
    total: ClosedRow
    by_consultant: list[ClosedRow]


class SocialValueRow(BaseModel):
    key: str = Field(description="The period, the target or the consultant id.")
    completed_referrals: int = Field(description="Referrals completed.")
    wage_subsidy_hires: int = Field(description="People hired with wage subsidy (løntilskud).")
    flex_jobs: int = Field(description="People hired in a flexjob (fleksjob).")
    work_placements: int = Field(description="Work placements (virksomhedspraktik).")
    other_hires: int = Field(description="Other hires (ordinary hours).")
    total_hires: int = Field(description="All of the above.")


class RecordedValueRow(BaseModel):
    key: str = Field(description="The period (of the recording's day) or the consultant id.")
    recordings: int = Field(description="Recordings counted (the latest version, not withdrawn).")
    cases: int = Field(description="Cases they were recorded on.")
    wage_subsidy_hires: int = Field(description="People employed with wage subsidy (løntilskud).")
    flex_jobs: int = Field(description="People employed in a flexjob (fleksjob).")
    work_placements: int = Field(description="People in a work placement (virksomhedspraktik).")
    ordinary_hires: int = Field(description="People employed on ordinary terms.")
    people_employed: int = Field(description="All four instruments together.")
    rsv_registrations_helped: int = Field(
        description="Cases (enterprises) the consultant helped to RSV registration (a "
        "case once, however many of its recordings say so)."
    )
    supplier_agreements: int = Field(description="Supplier agreements won.")
    social_clauses: int = Field(description="Contracts with social clauses won.")


class SocialValueReport(BaseModel):
    recorded_periods: list[RecordedValueRow] = Field(
        description="Recorded by the consultants on the cases (case-outcome-recorded), per "
        "period of the day the value belongs to. Not added to the completed referrals' "
        "figures: the same person can be in both."
    )
    recorded_total: RecordedValueRow
    recorded_by_consultant: list[RecordedValueRow]
    periods: list[SocialValueRow] = Field(
        description="From completed referrals' outcomes (the departments' answers), per "
        "period of the completion."
    )
    total: SocialValueRow
    by_target: list[SocialValueRow]
    by_consultant: list[SocialValueRow]


class RsvRow(BaseModel):
    key: str = Field(description="The period (of the checklist's latest change) or consultant.")
    cases: int = Field(description="Cases with an RSV checklist (each once, its latest state).")
    ready: int = Field(description="Ready: all five criteria met.")
    registered: int = Field(description="RSV-registered.")
    ready_not_registered: int = Field(description="Ready and not registered yet.")


class RsvCriterionRow(BaseModel):
    key: str = Field(description="The criterion (lov nr. 711/2014 § 5).")
    met: int = Field(description="Cases with it met.")
    not_yet: int = Field(description="Cases with it not met yet.")
    unknown: int = Field(description="Cases where it is not known yet.")


class RsvReadinessReport(BaseModel):
    periods: list[RsvRow]
    total: RsvRow
    by_criterion: list[RsvCriterionRow]
    by_consultant: list[RsvRow]


class MessageRow(BaseModel):
    key: str = Field(description="The period or the message kind.")
    delivered: int = Field(description="Messages delivered.")
    failed: int = Field(description="Messages given up (after every retry).")


class MessagesReport(BaseModel):
    periods: list[MessageRow]
    total: MessageRow
    by_kind: list[MessageRow]


# --- statistics -----------------------------------------------------------------------------


def middle(values: Sequence[float]) -> float | None:
    return round(median(values), 1) if values else None


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_DAY


def _counts(keys: Iterable[str]) -> list[Count]:
    counted = Counter(keys)
    return [
        Count(key=k, count=n) for k, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _grouped(
    docs: Iterable[Doc], key: Callable[[Doc], str | None], order: Sequence[str] = ()
) -> dict[str, list[Doc]]:
    groups: dict[str, list[Doc]] = {k: [] for k in order}
    for doc in docs:
        k = key(doc)
        if k is not None:
            groups.setdefault(k, []).append(doc)
    return groups


def _in_span(docs: Iterable[Doc], span: Span, field_name: str) -> list[Doc]:
    return [d for d in docs if span.holds(d.get(field_name))]


def _mine(docs: Iterable[Doc], sel: Selection) -> list[Doc]:
    return [d for d in docs if sel.consultant is None or d.get("consultant_id") == sel.consultant]


def door_of(inquiry: Mapping[str, Any]) -> str:
    channel = str(inquiry.get("channel"))
    by = inquiry.get("forwarded_by")
    return f"{channel}:{by}" if channel == "forwarded" and by else channel


# --- inquiries --------------------------------------------------------------------------------


def inquiries(facts: Facts, sel: Selection) -> InquiriesReport:
    found = _mine(_in_span(facts.inquiries, sel.span, "received_at"), sel)
    if sel.door is not None:
        found = [d for d in found if d.get("channel") == sel.door]

    def row(key: str, docs: list[Doc]) -> InquiryRow:
        channels = Counter(str(d.get("channel")) for d in docs)
        return InquiryRow(
            key=key,
            total=len(docs),
            web=channels["web"],
            phone=channels["phone"],
            email=channels["email"],
            walk_in=channels["walk_in"],
            forwarded=channels["forwarded"],
            follow_ups=sum(1 for d in docs if d.get("follow_up")),
        )

    per = _grouped(found, lambda d: sel.span.key_of(d["received_at"]), sel.span.keys())
    return InquiriesReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_door=_counts(door_of(d) for d in found),
        by_need=_counts(n for d in found for n in d.get("needs", [])),
        by_stage=_counts(str(d.get("stage")) for d in found),
        by_consultant=_counts(str(d["consultant_id"]) for d in found if d.get("consultant_id")),
    )


# --- first contact ---------------------------------------------------------------------------


def _due(doc: Doc) -> date | None:
    raw = doc.get("first_contact_due")
    return date.fromisoformat(raw) if raw else None


def _cases_of(facts: Facts, docs: Iterable[Doc], sel: Selection) -> list[Doc]:
    found = _mine(docs, sel)
    if sel.door is not None:
        found = [
            d
            for d in found
            if facts.openers.get(str(d.get("opening_inquiry_id")), {}).get("channel") == sel.door
        ]
    return found


def first_contact(facts: Facts, sel: Selection) -> FirstContactReport:
    found = _cases_of(facts, _in_span(facts.cases, sel.span, "first_routed_at"), sel)

    def row(key: str, docs: list[Doc]) -> FirstContactRow:
        on_time = late = waiting = 0
        durations: list[float] = []
        for d in docs:
            due, contacted = _due(d), d.get("first_contact_at")
            if contacted is not None:
                durations.append(days_between(d["first_routed_at"], contacted))
                if due is None or local_date(contacted) <= due:
                    on_time += 1
                else:
                    late += 1
            elif d.get("status") == "closed":
                continue  # closed without a logged contact: not counted either way
            elif due is not None and due < sel.today:
                late += 1
            else:
                waiting += 1
        decided = on_time + late
        return FirstContactRow(
            key=key,
            cases=len(docs),
            contacted=len(durations),
            on_time=on_time,
            late=late,
            waiting=waiting,
            share_on_time=round(on_time / decided, 3) if decided else None,
            median_days=middle(durations),
            p90_days=nearest_rank(durations, 90),
        )

    per = _grouped(found, lambda d: sel.span.key_of(d["first_routed_at"]), sel.span.keys())
    by_consultant = _grouped(found, lambda d: d.get("consultant_id"))
    overdue = [
        d
        for d in _cases_of(facts, facts.awaiting, sel)
        if d.get("awaiting_first_contact") and (due := _due(d)) is not None and due < sel.today
    ]
    return FirstContactReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_consultant=[row(k, docs) for k, docs in sorted(by_consultant.items())],
        overdue_now=_counts(str(d.get("consultant_id")) for d in overdue),
        overdue_now_total=len(overdue),
    )


# --- referrals --------------------------------------------------------------------------------


def target_of(referral: Mapping[str, Any]) -> str:
    department = str(referral.get("department"))
    provider = referral.get("provider_id")
    return f"{department}:{provider}" if provider else department


def _referrals_of(docs: Iterable[Doc], sel: Selection) -> list[Doc]:
    found = _mine(docs, sel)
    if sel.department is not None:
        found = [d for d in found if d.get("department") == sel.department]
    return found


def referrals(facts: Facts, sel: Selection) -> ReferralsReport:
    found = _referrals_of(_in_span(facts.referrals_made, sel.span, "made_at"), sel)

    def row(key: str, docs: list[Doc]) -> ReferralRow:
        answered = [d for d in docs if d.get("first_answer_at") is not None]
        answers = [set((d.get("answers") or {}).keys()) for d in docs]
        return ReferralRow(
            key=key,
            made=len(docs),
            answered=len(answered),
            accepted=sum(1 for a in answers if a & {"accepted", "completed"}),
            declined=sum(1 for d in docs if d.get("status") == "declined"),
            completed=sum(1 for a in answers if "completed" in a),
            overdue=sum(1 for d in docs if d.get("overdue_at") is not None),
            median_days_to_answer=middle(
                [days_between(d["made_at"], d["first_answer_at"]) for d in answered]
            ),
        )

    per = _grouped(found, lambda d: sel.span.key_of(d["made_at"]), sel.span.keys())
    by_target = _grouped(found, target_of)
    reasons = [
        DeclineReason(
            key=target_of(d),
            period=sel.span.key_of(d["made_at"]),
            reason=str(d["answers"]["declined"].get("reason", "")),
        )
        for d in sorted(found, key=lambda d: d["made_at"])
        if d.get("status") == "declined" and "declined" in (d.get("answers") or {})
    ]
    return ReferralsReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_target=[row(k, docs) for k, docs in sorted(by_target.items())],
        declined_reasons=reasons,
    )


# --- closed cases -------------------------------------------------------------------------------


def _counted(recordings: Iterable[Doc]) -> list[Doc]:
    """The recordings that count: the latest version of each, not withdrawn."""
    return [d for d in recordings if not d.get("withdrawn")]


def _day_of(recording: Doc) -> date:
    return date.fromisoformat(str(recording["occurred_on"]))


def closed(facts: Facts, sel: Selection) -> ClosedReport:
    found = _mine(_in_span(facts.case_changes, sel.span, "at"), sel)

    def row(key: str, docs: list[Doc]) -> ClosedRow:
        # Each case closed in the group once, with what was recorded up to its last
        # closing in the group (the day of the value on or before the closing day).
        last_closing: dict[str, datetime] = {}
        for d in docs:
            if d.get("kind") == "closed":
                case = str(d["case_id"])
                last_closing[case] = max(d["at"], last_closing.get(case, d["at"]))
        values: list[Doc] = []
        with_outcomes = 0
        for case, closing in last_closing.items():
            mine = [
                r
                for r in _counted(facts.case_outcomes.get(case, []))
                if _day_of(r) <= local_date(closing)
            ]
            with_outcomes += bool(mine)
            values += mine
        return ClosedRow(
            key=key,
            closed=len(last_closing),
            reopened=len({d["case_id"] for d in docs if d.get("kind") == "reopened"}),
            with_outcomes=with_outcomes,
            people_employed=sum(int(r.get(n, 0)) for r in values for n in EMPLOYED),
            rsv_registrations_helped=len(
                {r["case_id"] for r in values if r.get("rsv_registration_helped")}
            ),
            supplier_agreements=sum(int(r.get("supplier_agreements", 0)) for r in values),
            social_clauses=sum(int(r.get("social_clauses", 0)) for r in values),
        )

    per = _grouped(found, lambda d: sel.span.key_of(d["at"]), sel.span.keys())
    by_consultant = _grouped(found, lambda d: d.get("consultant_id"))
    return ClosedReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_consultant=[row(k, docs) for k, docs in sorted(by_consultant.items())],
    )


# --- social value --------------------------------------------------------------------------------


def _completed_at(doc: Doc) -> datetime | None:
    completed = (doc.get("answers") or {}).get("completed")
    return completed["at"] if completed else None


def _recorded(facts: Facts, sel: Selection) -> list[Doc]:
    return [d for d in _mine(_counted(facts.outcomes), sel) if sel.span.holds_day(_day_of(d))]


def _recorded_row(key: str, docs: list[Doc]) -> RecordedValueRow:
    sums = {name: sum(int(d.get(name, 0)) for d in docs) for name in (*EMPLOYED, *WON)}
    return RecordedValueRow(
        key=key,
        recordings=len(docs),
        cases=len({d.get("case_id") for d in docs}),
        people_employed=sum(sums[name] for name in EMPLOYED),
        rsv_registrations_helped=len(
            {d.get("case_id") for d in docs if d.get("rsv_registration_helped")}
        ),
        **sums,
    )


def social_value(facts: Facts, sel: Selection) -> SocialValueReport:
    recorded = _recorded(facts, sel)
    recorded_per = _grouped(recorded, lambda d: sel.span.key_of_day(_day_of(d)), sel.span.keys())
    recorded_by = _grouped(recorded, lambda d: d.get("consultant_id"))
    found = [
        d for d in _referrals_of(facts.referrals_completed, sel) if sel.span.holds(_completed_at(d))
    ]

    def row(key: str, docs: list[Doc]) -> SocialValueRow:
        sums = {name: 0 for name in HIRES}
        for d in docs:
            hires = d["answers"]["completed"].get("hires") or {}
            for name in HIRES:
                sums[name] += int(hires.get(name, 0))
        return SocialValueRow(
            key=key, completed_referrals=len(docs), **sums, total_hires=sum(sums.values())
        )

    per = _grouped(
        found, lambda d: sel.span.key_of(d["answers"]["completed"]["at"]), sel.span.keys()
    )
    by_target = _grouped(found, target_of)
    by_consultant = _grouped(found, lambda d: d.get("consultant_id"))
    return SocialValueReport(
        recorded_periods=[_recorded_row(k, docs) for k, docs in recorded_per.items()],
        recorded_total=_recorded_row("total", recorded),
        recorded_by_consultant=[_recorded_row(k, docs) for k, docs in sorted(recorded_by.items())],
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_target=[row(k, docs) for k, docs in sorted(by_target.items())],
        by_consultant=[row(k, docs) for k, docs in sorted(by_consultant.items())],
    )


# --- RSV readiness -----------------------------------------------------------------------


def rsv_readiness(facts: Facts, sel: Selection) -> RsvReadinessReport:
    found = _mine(_in_span(facts.rsv, sel.span, "changed_at"), sel)

    def row(key: str, docs: list[Doc]) -> RsvRow:
        return RsvRow(
            key=key,
            cases=len(docs),
            ready=sum(1 for d in docs if d.get("ready")),
            registered=sum(1 for d in docs if d.get("registered")),
            ready_not_registered=sum(1 for d in docs if d.get("ready") and not d.get("registered")),
        )

    def criterion(name: str) -> RsvCriterionRow:
        states = Counter(str((d.get("criteria") or {}).get(name, "unknown")) for d in found)
        return RsvCriterionRow(
            key=name, met=states["met"], not_yet=states["not_yet"], unknown=states["unknown"]
        )

    per = _grouped(found, lambda d: sel.span.key_of(d["changed_at"]), sel.span.keys())
    by_consultant = _grouped(found, lambda d: d.get("consultant_id"))
    return RsvReadinessReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_criterion=[criterion(name) for name in CRITERIA],
        by_consultant=[row(k, docs) for k, docs in sorted(by_consultant.items())],
    )


# --- messages ---------------------------------------------------------------------------


def messages(facts: Facts, sel: Selection) -> MessagesReport:
    found = _in_span(facts.deliveries, sel.span, "at")

    def row(key: str, docs: list[Doc]) -> MessageRow:
        outcomes = Counter(str(d.get("outcome")) for d in docs)
        return MessageRow(key=key, delivered=outcomes["delivered"], failed=outcomes["failed"])

    per = _grouped(found, lambda d: sel.span.key_of(d["at"]), sel.span.keys())
    by_kind = _grouped(found, lambda d: d.get("kind"))
    return MessagesReport(
        periods=[row(k, docs) for k, docs in per.items()],
        total=row("total", found),
        by_kind=[row(k, docs) for k, docs in sorted(by_kind.items())],
    )


FACT_PARTS = (
    "inquiries",
    "cases",
    "case_changes",
    "referrals_made",
    "referrals_completed",
    "deliveries",
    "awaiting",
    "outcomes",
    "case_outcomes",
    "rsv",
)
# The facts each report reads (the store loads only these).
NEEDS: dict[str, tuple[str, ...]] = {
    "inquiries": ("inquiries",),
    "first-contact": ("cases", "awaiting"),
    "referrals": ("referrals_made",),
    "closed": ("case_changes", "case_outcomes"),
    "social-value": ("referrals_completed", "outcomes"),
    "rsv-readiness": ("rsv",),
    "messages": ("deliveries",),
}

REPORTS: dict[str, Callable[[Facts, Selection], BaseModel]] = {
    "inquiries": inquiries,
    "first-contact": first_contact,
    "referrals": referrals,
    "closed": closed,
    "social-value": social_value,
    "rsv-readiness": rsv_readiness,
    "messages": messages,
}
