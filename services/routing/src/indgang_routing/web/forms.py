"""The console's forms, read into domain values with Danish messages for what is wrong.

Form fields arrive as text (the pages work without JavaScript), so every field
is checked here and a mistake becomes an `InvalidInput` the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import Enum
from typing import TypeVar

from fastapi import Form

from indgang_contracts.events import (
    Department,
    Need,
    ReferralOutcome,
    ReferralStatus,
    ReferralTarget,
    RsvCriterion,
    RsvCriterionStatus,
)
from indgang_routing.domain.errors import InvalidInput
from indgang_routing.domain.providers import Provider
from indgang_routing.domain.referrals import ReferralRequest
from indgang_routing.domain.social_value import COUNTS, CRITERIA, FieldErrors, Outcome
from indgang_routing.domain.team import Consultant

E = TypeVar("E", bound=Enum)
RESERVED_IDS = frozenset({"ny"})


def parse_date(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"Angiv {label} som en dato (åååå-mm-dd).") from None


def optional_date(value: str, label: str) -> date | None:
    return parse_date(value, label) if value.strip() else None


def parse_choice(kind: type[E], value: str, message: str) -> E:
    try:
        return kind(value.strip())
    except ValueError:
        raise InvalidInput(message) from None


def parse_needs(values: Sequence[str]) -> list[Need]:
    return [parse_choice(Need, v, f"Ukendt behov: {v!r}.") for v in values if v.strip()]


class ConsultantForm:
    """The consultant form's fields: one FastAPI dependency for adding and editing."""

    def __init__(
        self,
        name: str = Form(""),
        email: str = Form(""),
        phone: str = Form(""),
        department: str = Form(""),
        municipality_code: str = Form(""),
        expertise: list[str] = Form([]),
        capacity: str = Form(""),
        deputy: str = Form(""),
    ) -> None:
        self.name = name.strip()
        self.email = email.strip()
        self.phone = phone.strip()
        self.department = department.strip()
        self.municipality_code = municipality_code.strip()
        self.expertise = expertise
        self.capacity = capacity.strip()
        self.deputy = deputy.strip()

    def consultant(self, consultant_id: str, default_municipality: str) -> Consultant:
        cid = consultant_id.strip().lower()
        if cid in RESERVED_IDS:
            raise InvalidInput(f"Id'et {cid!r} er reserveret; vælg et andet.")
        try:
            limit = int(self.capacity)
        except ValueError:
            raise InvalidInput("Kapaciteten skal være et helt antal åbne sager.") from None
        code = self.municipality_code or default_municipality
        if not (code.isdigit() and len(code) == 3):
            raise InvalidInput("Kommunekoden skal være tre cifre, fx 756.")
        return Consultant(
            id=cid,
            name=self.name,
            email=self.email,
            phone=self.phone or None,
            department=self.department,
            municipality_code=code,
            expertise=frozenset(parse_needs(self.expertise)),
            capacity=limit,
            deputy=self.deputy or None,
        )


class AbsenceForm:
    """An absence period's two dates (adding and deleting one)."""

    def __init__(self, start: str = Form(""), end: str = Form("")) -> None:
        self.start = start
        self.end = end

    def dates(self) -> tuple[date, date]:
        return (
            parse_date(self.start, "fraværets første dag"),
            parse_date(self.end, "fraværets sidste dag"),
        )


def parse_provider(
    *, provider_id: str, name: str, email: str, phone: str, description: str, needs: Sequence[str]
) -> Provider:
    if len(description) > 2000:
        raise InvalidInput("Beskrivelsen må højst være 2000 tegn.")
    return Provider(
        id=provider_id.strip().lower(),
        name=name.strip(),
        email=email.strip(),
        phone=phone.strip() or None,
        description=description.strip(),
        needs=frozenset(parse_needs(needs)),
    )


def parse_referral(
    *,
    department: str,
    provider_id: str,
    purpose: str,
    needs: Sequence[str],
    response_due: str,
    consent: str,
    today: date,
    message_to_enterprise: str = "",
) -> ReferralRequest:
    target = parse_choice(Department, department, "Vælg hvem der henvises til.")
    if consent not in ("ja", "nej"):
        raise InvalidInput(
            "Angiv, om henvenderen har givet samtykke til, at kontaktoplysninger deles."
        )
    if len(purpose.strip()) > 1800:
        raise InvalidInput("Formålet må højst være 1800 tegn.")
    due = optional_date(response_due, "svarfristen")
    if due is not None and due < today:
        raise InvalidInput("Svarfristen kan ikke ligge i fortiden.")
    return ReferralRequest(
        target=ReferralTarget(
            department=target,
            provider_id=(provider_id.strip() or None)
            if target is Department.OUTSIDE_PROVIDER
            else None,
        ),
        purpose=purpose.strip(),
        needs=parse_needs(needs),
        response_due=due,
        consent_to_share_contact=consent == "ja",
        message_to_enterprise=message_to_enterprise.strip() or None,
    )


def _count(value: str, label: str) -> int:
    if not value.strip():
        return 0
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidInput(f"Angiv {label} som et helt tal.") from None
    if number < 0:
        raise InvalidInput(f"{label.capitalize()} kan ikke være negativt.")
    return number


def parse_recorded_answer(
    *,
    status: str,
    reason: str,
    summary: str,
    wage_subsidy_hires: str,
    work_placements: str,
    flex_jobs: str,
    other_hires: str,
) -> tuple[ReferralStatus, str | None, ReferralOutcome | None]:
    """The answer a department gave by phone or mail, as the consultant records it."""
    choose = "Vælg svaret: accepteret, afvist eller afsluttet."
    answer = parse_choice(ReferralStatus, status, choose)
    if answer is ReferralStatus.SENT:
        raise InvalidInput(choose)
    if answer is ReferralStatus.DECLINED:
        if not reason.strip():
            raise InvalidInput("Skriv begrundelsen for afvisningen.")
        if len(reason.strip()) > 2000:
            raise InvalidInput("Begrundelsen må højst være 2000 tegn.")
        return answer, reason.strip(), None
    if answer is ReferralStatus.COMPLETED:
        if not summary.strip():
            raise InvalidInput("Skriv hvad der kom ud af henvisningen.")
        if len(summary.strip()) > 2000:
            raise InvalidInput("Resultatet må højst være 2000 tegn.")
        outcome = ReferralOutcome(
            summary=summary.strip(),
            wage_subsidy_hires=_count(wage_subsidy_hires, "antal ansat med løntilskud"),
            work_placements=_count(work_placements, "antal i virksomhedspraktik"),
            flex_jobs=_count(flex_jobs, "antal ansat i fleksjob"),
            other_hires=_count(other_hires, "antal ansat på anden vis"),
        )
        return answer, None, outcome
    return answer, None, None


def parse_outcome(fields: Mapping[str, str], today: date) -> Outcome:
    """The social-value form (`domain/social_value.py`): empty counts are 0, the day is
    today unless given; every field that cannot be read is named at once."""
    errors: dict[str, str] = {}
    counts: dict[str, int] = {}
    for key, name in COUNTS.items():
        text = fields.get(key, "").strip()
        if not text:
            counts[key] = 0
        elif text.isdigit():
            counts[key] = int(text)
        else:
            errors[key] = f"Angiv antal {name} som et helt tal (0 eller flere)."
    day = today
    if fields.get("occurred_on", "").strip():
        try:
            day = date.fromisoformat(fields["occurred_on"].strip())
        except ValueError:
            errors["occurred_on"] = "Angiv datoen som en dato (åååå-mm-dd)."
    if errors:
        raise FieldErrors(errors)
    return Outcome(
        occurred_on=day,
        rsv_registration_helped=fields.get("rsv_registration_helped") == "1",
        **counts,
    )


def parse_rsv_readiness(
    fields: Mapping[str, str],
) -> tuple[dict[RsvCriterion, RsvCriterionStatus], dict[RsvCriterion, str], date | None]:
    """The RSV checklist form: each criterion's status (`status_<criterion>`) and note
    (`note_<criterion>`), and the registration (`registered` = 1 with `registered_on`)."""
    errors: dict[str, str] = {}
    statuses: dict[RsvCriterion, RsvCriterionStatus] = {}
    notes: dict[RsvCriterion, str] = {}
    for criterion in CRITERIA:
        code = criterion.code.value
        try:
            statuses[criterion.code] = RsvCriterionStatus(fields.get(f"status_{code}", ""))
        except ValueError:
            errors[f"status_{code}"] = (
                f"Vælg for »{criterion.title}«: opfyldt, ikke endnu eller ved ikke."
            )
        notes[criterion.code] = fields.get(f"note_{code}", "")
    registered_on: date | None = None
    if fields.get("registered") == "1":
        try:
            registered_on = date.fromisoformat(fields.get("registered_on", "").strip())
        except ValueError:
            errors["registered_on"] = (
                "Angiv datoen for registreringen som RSV som en dato (åååå-mm-dd)."
            )
    if errors:
        raise FieldErrors(errors)
    return statuses, notes, registered_on
