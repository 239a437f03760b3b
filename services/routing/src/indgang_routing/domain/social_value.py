"""Social value on the case (issue 14): the outcomes a consultant records, and the RSV
readiness checklist. Pure: the rules, what is stored on the case and the events.

**Outcomes.** A recording counts people employed through the enterprise by instrument,
whether the consultant helped the enterprise to RSV registration, and supplier agreements
and social clauses won, for the day it belongs to (`occurred_on`: the reports bucket by
it). It is stored in the case's `outcomes` and published as `case-outcome-recorded`. A
correction is a new recording with the *same* id that replaces the old one entirely, its
`recorded_at` strictly later; withdrawing is a replacement that counts nothing. So a read
model keeps the latest recording per id, whatever order or how often the events arrive.

**RSV readiness.** The five registration criteria of lov nr. 711 af 25. juni 2014 § 5,
each met / not yet / unknown with the consultant's note, and whether the enterprise has
become registered (with the day). Every change publishes the whole checklist
(`rsv-readiness-changed`): the latest `changed_at` wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypedDict, cast

from indgang_contracts.events import (
    CaseOutcomeRecorded,
    RsvCriterion,
    RsvCriterionStatus,
    RsvReadinessChanged,
)
from indgang_contracts.labels import label
from indgang_routing.domain.errors import Conflict, InvalidInput, NotFound
from indgang_routing.domain.labels import danish_date

MAX_COUNT = 10_000  # as the contract
MAX_RSV_NOTE = 2000

# --- outcomes ----------------------------------------------------------------------------

# The counts of a recording, in the form's order, with their Danish names.
EMPLOYED = {
    "wage_subsidy_hires": "ansat med løntilskud",
    "flex_jobs": "ansat i fleksjob",
    "work_placements": "i virksomhedspraktik",
    "ordinary_hires": "ansat på ordinære vilkår",
}
WON = {
    "supplier_agreements": "leverandøraftaler vundet",
    "social_clauses": "kontrakter med sociale klausuler vundet",
}
COUNTS = {**EMPLOYED, **WON}
# One of each, in a sentence ("1 leverandøraftale vundet").
SINGULAR = {
    "supplier_agreements": "leverandøraftale vundet",
    "social_clauses": "kontrakt med sociale klausuler vundet",
}


class FieldErrors(InvalidInput):
    """Input refused field by field: `errors` names each field with what is wrong (the
    API answers 422 with one entry per field, the console shows the sentences)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class Outcome:
    """What one recording says."""

    occurred_on: date
    wage_subsidy_hires: int = 0
    flex_jobs: int = 0
    work_placements: int = 0
    ordinary_hires: int = 0
    rsv_registration_helped: bool = False
    supplier_agreements: int = 0
    social_clauses: int = 0

    def counts(self) -> dict[str, int]:
        return {key: int(getattr(self, key)) for key in COUNTS}

    def is_empty(self) -> bool:
        return not any(self.counts().values()) and not self.rsv_registration_helped


class OutcomeRecord(TypedDict):
    """A recording as stored on the case (`Case.outcomes`), its latest version."""

    id: str
    occurred_on: str  # ISO date
    wage_subsidy_hires: int
    flex_jobs: int
    work_placements: int
    ordinary_hires: int
    rsv_registration_helped: bool
    supplier_agreements: int
    social_clauses: int
    withdrawn: bool
    recorded_by: str
    recorded_by_name: str
    recorded_at: datetime
    event_id: str  # the case-outcome-recorded event of this version


def check_outcome(outcome: Outcome, today: date, case_opened: date) -> None:
    """Refused with one sentence per wrong field."""
    errors: dict[str, str] = {}
    for key, name in COUNTS.items():
        n = getattr(outcome, key)
        if not 0 <= n <= MAX_COUNT:
            errors[key] = f"Antal {name} skal være et helt tal fra 0 til {MAX_COUNT}."
    if outcome.occurred_on > today:
        errors["occurred_on"] = "Datoen for den sociale værdi kan ikke ligge i fremtiden."
    elif outcome.occurred_on < case_opened:
        errors["occurred_on"] = (
            f"Datoen ligger før sagen blev oprettet ({danish_date(case_opened)})."
        )
    if not errors and outcome.is_empty():
        errors["wage_subsidy_hires"] = (
            "Skriv mindst ét antal, eller sæt flueben ved hjælp til RSV-registrering."
        )
    if errors:
        raise FieldErrors(errors)


Change = Literal["recorded", "corrected", "withdrawn", "unchanged"]


def outcome_of(record: Mapping[str, Any]) -> Outcome:
    return Outcome(
        occurred_on=date.fromisoformat(record["occurred_on"]),
        **{key: int(record.get(key) or 0) for key in COUNTS},
        rsv_registration_helped=bool(record.get("rsv_registration_helped")),
    )


def decide_outcome(
    recorded: list[OutcomeRecord], outcome_id: str, outcome: Outcome | None
) -> Change:
    """What a recording with this id does to the case's outcomes: `outcome` None withdraws.
    The same recording again (a form sent twice, an API call repeated) is `unchanged`."""
    previous = next((r for r in recorded if r["id"] == outcome_id), None)
    if previous is None:
        if outcome is None:
            raise NotFound("Registreringen af social værdi findes ikke på sagen.")
        return "recorded"
    if previous["withdrawn"]:
        if outcome is None:
            return "unchanged"
        raise Conflict("Registreringen er trukket tilbage; lav en ny registrering i stedet.")
    if outcome is None:
        return "withdrawn"
    return "unchanged" if outcome_of(previous) == outcome else "corrected"


def recorded_at(recorded: list[OutcomeRecord], outcome_id: str, now: datetime) -> datetime:
    """Now, or just after the version it replaces if the clock says otherwise: a read
    model keeps the latest `recorded_at` per id."""
    previous = next((r for r in recorded if r["id"] == outcome_id), None)
    if previous is not None and previous["recorded_at"] >= now:
        return previous["recorded_at"] + timedelta(milliseconds=1)
    return now


def outcome_recorded(
    case: Mapping[str, Any],
    outcome_id: str,
    outcome: Outcome | None,
    previous_day: date | None,
    recorded_by: str,
    at: datetime,
) -> CaseOutcomeRecorded:
    """The event of a recording; `outcome` None: the withdrawal of the one on
    `previous_day` (same day, every count 0)."""
    if outcome is None:
        assert previous_day is not None
        values: dict[str, Any] = {**asdict(Outcome(occurred_on=previous_day)), "withdrawn": True}
    else:
        values = asdict(outcome)
    return CaseOutcomeRecorded(
        municipality_code=case["municipality_code"],
        outcome_id=outcome_id,
        case_id=case["_id"],
        reference=case["reference"],
        consultant_id=case["consultant"]["id"],
        organisation_key=case["organisation_key"],
        recorded_by=recorded_by,
        recorded_at=at,
        **values,
    )


def outcome_record(event: CaseOutcomeRecorded, event_id: str, by_name: str) -> OutcomeRecord:
    return {
        "id": event.outcome_id,
        "occurred_on": event.occurred_on.isoformat(),
        "wage_subsidy_hires": event.wage_subsidy_hires,
        "flex_jobs": event.flex_jobs,
        "work_placements": event.work_placements,
        "ordinary_hires": event.ordinary_hires,
        "rsv_registration_helped": event.rsv_registration_helped,
        "supplier_agreements": event.supplier_agreements,
        "social_clauses": event.social_clauses,
        "withdrawn": event.withdrawn,
        "recorded_by": event.recorded_by,
        "recorded_by_name": by_name,
        "recorded_at": event.recorded_at,
        "event_id": event_id,
    }


def replaced(recorded: list[OutcomeRecord], record: OutcomeRecord) -> list[OutcomeRecord]:
    """The case's outcomes with this version in place of the one it replaces (or added)."""
    if any(r["id"] == record["id"] for r in recorded):
        return [record if r["id"] == record["id"] else r for r in recorded]
    return [*recorded, record]


def outcome_summary(record: Mapping[str, Any]) -> str:
    """In words: "2 ansat med løntilskud, 1 i fleksjob; hjulpet til RSV-registrering"."""
    parts = [
        f"{record[key]} {SINGULAR.get(key, name) if record[key] == 1 else name}"
        for key, name in COUNTS.items()
        if record.get(key)
    ]
    if record.get("rsv_registration_helped"):
        parts.append("hjulpet til RSV-registrering")
    return ", ".join(parts) or "intet"


def totals(recorded: list[OutcomeRecord]) -> dict[str, int]:
    """The case's totals over its recordings that count (not withdrawn)."""
    counting = [r for r in recorded if not r["withdrawn"]]
    sums = {key: sum(int(cast(Mapping[str, Any], r)[key]) for r in counting) for key in COUNTS}
    sums["people_employed"] = sum(sums[key] for key in EMPLOYED)
    sums["rsv_registration_helped"] = int(any(r["rsv_registration_helped"] for r in counting))
    return sums


# --- RSV readiness -----------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    code: RsvCriterion
    title: str
    explanation: str  # plain Danish, faithful to the guide's RSV entry; the law decides


CRITERIA = (
    Criterion(
        RsvCriterion.SOCIAL_PURPOSE,
        label(RsvCriterion.SOCIAL_PURPOSE),
        "Virksomheden har et socialt eller samfundsgavnligt formål, som den fremmer gennem "
        "sit virke og sin indtjening, fx ved at ansætte eller træne mennesker, der står uden "
        "for arbejdsmarkedet, eller ved at arbejde for en sag som miljø, kultur eller sundhed.",
    ),
    Criterion(
        RsvCriterion.COMMERCIAL_ACTIVITY,
        label(RsvCriterion.COMMERCIAL_ACTIVITY),
        "Virksomheden driver væsentlig erhvervsvirksomhed: den tjener penge ved at sælge "
        "varer eller tjenester på almindelige markedsvilkår, men målet er det sociale formål, "
        "ikke mest muligt overskud til ejerne.",
    ),
    Criterion(
        RsvCriterion.INDEPENDENCE,
        label(RsvCriterion.INDEPENDENCE),
        "Virksomheden er uafhængig af det offentlige. Den skal også kunne redegøre for, "
        "hvordan den er det.",
    ),
    Criterion(
        RsvCriterion.INCLUSIVE_GOVERNANCE,
        label(RsvCriterion.INCLUSIVE_GOVERNANCE),
        "Virksomheden er inddragende og ansvarlig i sit virke, og den skal kunne redegøre "
        "for, hvordan.",
    ),
    Criterion(
        RsvCriterion.SOCIAL_PROFIT_HANDLING,
        label(RsvCriterion.SOCIAL_PROFIT_HANDLING),
        "Overskuddet bruges socialt: til at geninvestere i virksomheden, til at investere i "
        "eller donere til andre registrerede socialøkonomiske virksomheder, til at donere til "
        "almennyttige eller almenvelgørende formål eller til en begrænset udbetaling af "
        "udbytte.",
    ),
)
STATUS_NAMES = {status: label(status) for status in RsvCriterionStatus}


class RsvReadiness(TypedDict):
    """The checklist as stored on the case (`Case.rsv`)."""

    criteria: dict[str, str]  # criterion → status (every one of the five)
    notes: dict[str, str]  # criterion → the consultant's note ("" none)
    registered_on: str | None  # ISO date the enterprise became RSV-registered
    changed_by: str
    changed_at: datetime


def blank_readiness() -> dict[str, Any]:
    """The checklist of a case that has none yet: everything unknown."""
    return {
        "criteria": {c.code.value: RsvCriterionStatus.UNKNOWN.value for c in CRITERIA},
        "notes": {c.code.value: "" for c in CRITERIA},
        "registered_on": None,
    }


def is_ready(criteria: Mapping[str, str]) -> bool:
    return all(criteria.get(c.code.value) == RsvCriterionStatus.MET.value for c in CRITERIA)


def changed_readiness(
    current: Mapping[str, Any] | None,
    statuses: Mapping[RsvCriterion, RsvCriterionStatus],
    notes: Mapping[RsvCriterion, str],
    registered_on: date | None,
    *,
    today: date,
    by: str,
    now: datetime,
) -> tuple[RsvReadiness, list[str]]:
    """The checklist after the change and what changed, in the consultant's words (for
    the timeline; none: nothing to store or publish). Criteria not named keep their status
    and note. Refused field by field."""
    before = {**blank_readiness(), **(current or {})}
    errors: dict[str, str] = {}
    criteria = dict(before["criteria"])
    kept_notes = {**blank_readiness()["notes"], **before["notes"]}
    changes: list[str] = []
    for criterion in CRITERIA:
        code = criterion.code.value
        if criterion.code in statuses:
            status = statuses[criterion.code].value
            if status != criteria.get(code):
                old = STATUS_NAMES[RsvCriterionStatus(criteria[code])]
                changes.append(
                    f"{criterion.title}: {STATUS_NAMES[RsvCriterionStatus(status)].lower()} "
                    f"(før: {old.lower()})"
                )
                criteria[code] = status
        if criterion.code in notes:
            note = notes[criterion.code].strip()
            if len(note) > MAX_RSV_NOTE:
                errors[f"note_{code}"] = (
                    f"Noten til »{criterion.title}« må højst være {MAX_RSV_NOTE} tegn."
                )
            elif note != kept_notes.get(code, ""):
                changes.append(f"note til »{criterion.title}« {'rettet' if note else 'fjernet'}")
                kept_notes[code] = note
    if registered_on is not None and registered_on > today:
        errors["registered_on"] = "Datoen for registreringen kan ikke ligge i fremtiden."
    if errors:
        raise FieldErrors(errors)
    registered = registered_on.isoformat() if registered_on else None
    if registered != before["registered_on"]:
        changes.append(
            f"registreret som RSV {danish_date(registered_on)}"
            if registered_on
            else "ikke registreret som RSV"
        )
    readiness: RsvReadiness = {
        "criteria": criteria,
        "notes": kept_notes,
        "registered_on": registered,
        "changed_by": by,
        "changed_at": now,
    }
    return readiness, changes


def rsv_readiness_changed(case: Mapping[str, Any], readiness: RsvReadiness) -> RsvReadinessChanged:
    registered_on = readiness["registered_on"]
    return RsvReadinessChanged(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        consultant_id=case["consultant"]["id"],
        organisation_key=case["organisation_key"],
        criteria={
            RsvCriterion(code): RsvCriterionStatus(status)
            for code, status in readiness["criteria"].items()
        },
        ready=is_ready(readiness["criteria"]),
        registered=registered_on is not None,
        registered_on=date.fromisoformat(registered_on) if registered_on else None,
        changed_by=readiness["changed_by"],
        changed_at=readiness["changed_at"],
    )


def met_count(readiness: Mapping[str, Any] | None) -> int:
    criteria = (readiness or blank_readiness())["criteria"]
    return sum(criteria.get(c.code.value) == RsvCriterionStatus.MET.value for c in CRITERIA)
