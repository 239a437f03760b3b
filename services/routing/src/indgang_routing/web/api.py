"""Routing's JSON API.

Staff (a session with role consultant or team_lead): read cases, refer a case.
A consultant sees and refers their own cases; the team lead all of them.
Department systems (API key in `X-API-Key`, one key per department, and one per
outside provider): read and answer the referrals sent to their department — an outside
provider only those sent to it (any other answers 404, as an unknown referral does).

The router is module-level; its dependencies read what `create_app` put on
`app.state`: the use cases (`console`) and the department keys (`department_keys`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indgang_contracts.events import (
    CaseStatus,
    Department,
    Need,
    ReferralOutcome,
    ReferralStatus,
    ReferralTarget,
    RsvCriterion,
    RsvCriterionStatus,
)
from indgang_routing.adapters.cases import INTERNAL_FIELDS, WITHOUT_OUTBOX, newest_first
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.case import Case
from indgang_routing.domain.errors import RoutingError
from indgang_routing.domain.referrals import ReferralRequest
from indgang_routing.domain.search import CaseFilters, search_page, search_term
from indgang_routing.domain.social_value import (
    MAX_COUNT,
    MAX_RSV_NOTE,
    Change,
    FieldErrors,
    Outcome,
    blank_readiness,
    is_ready,
)
from indgang_routing.web.common import Console, actor_for, http_error, staff, use_cases
from indgang_runtime.auth import DepartmentKeys, DepartmentSystem, StaffUser, require_department


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    department: Department = Field(description="Who is asked to help.")
    provider_id: str | None = Field(default=None, description="For outside providers.")
    purpose: str = Field(min_length=1, max_length=2000, description="What and why.")
    needs: list[Need] = Field(default_factory=list, description="Needs this referral covers.")
    response_due: date | None = Field(default=None, description="Answer wanted by.")
    consent_to_share_contact: bool = Field(
        description="The inquirer agreed that their contact details may be shared."
    )
    message_to_enterprise: str | None = Field(
        default=None,
        max_length=1000,
        description="What the enterprise is told of this referral, in plain language (the "
        "purpose is for the target alone); none: a standard line.",
    )


class ReferralCreated(BaseModel):
    referral_id: str
    case_id: str


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["accepted", "declined", "completed"] = Field(description="The answer.")
    reason: str | None = Field(
        default=None, max_length=2000, description="Why it is declined (required then)."
    )
    outcome: ReferralOutcome | None = Field(
        default=None, description="What came of it (required when completed)."
    )

    @model_validator(mode="after")
    def _complete(self) -> AnswerIn:
        if self.status == "declined" and not self.reason:
            raise ValueError("a declined referral needs a reason")
        if self.status == "completed" and self.outcome is None:
            raise ValueError("a completed referral needs an outcome")
        return self


class AnswerOut(BaseModel):
    referral_id: str
    case_id: str
    status: ReferralStatus


class RecordedAnswerIn(AnswerIn):
    answered_on: date | None = Field(
        default=None,
        description="The day the target gave the answer (not in the future, not before the "
        "referral was made); default today.",
    )


class RecordedAnswerOut(AnswerOut):
    recorded: bool = Field(description="False: the referral already had this answer.")


class OutcomeIn(BaseModel):
    """Social value the case brought about, for the day it belongs to (issue 14)."""

    model_config = ConfigDict(extra="forbid")

    wage_subsidy_hires: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="People employed with wage subsidy."
    )
    flex_jobs: int = Field(default=0, ge=0, le=MAX_COUNT, description="People in a flexjob.")
    work_placements: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="People in a work placement."
    )
    ordinary_hires: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="People employed on ordinary terms."
    )
    rsv_registration_helped: bool = Field(
        default=False, description="You helped the enterprise to RSV registration."
    )
    supplier_agreements: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Supplier agreements won."
    )
    social_clauses: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Contracts with social clauses won."
    )
    occurred_on: date | None = Field(
        default=None,
        description="The day it belongs to (reports bucket by it): not in the future, not "
        "before the case was opened; default today.",
    )

    def outcome(self, today: date) -> Outcome:
        return Outcome(
            **self.model_dump(exclude={"occurred_on"}), occurred_on=self.occurred_on or today
        )


class OutcomeOut(BaseModel):
    outcome_id: str
    case_id: str
    result: Change = Field(
        description="recorded (new), corrected (replaced), withdrawn, or unchanged (the "
        "recording already said this: nothing published)."
    )


class RsvCriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: RsvCriterionStatus | None = Field(default=None, description="Unchanged if absent.")
    note: str | None = Field(
        default=None, max_length=MAX_RSV_NOTE, description="Unchanged if absent; '' removes it."
    )


class RsvReadinessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: dict[RsvCriterion, RsvCriterionIn] = Field(
        default_factory=dict, description="The criteria to change; the others keep theirs."
    )
    registered_on: date | None = Field(
        default=None,
        description="The day the enterprise became RSV-registered; null: not registered; "
        "absent: unchanged.",
    )


class RsvReadinessOut(BaseModel):
    case_id: str
    criteria: dict[RsvCriterion, RsvCriterionStatus]
    ready: bool = Field(description="All five criteria are met.")
    registered_on: date | None
    changed: list[str] = Field(
        description="What changed, in Danish (as on the timeline); empty: nothing "
        "changed and nothing was published."
    )


def field_errors(
    error: FieldErrors, where: dict[str, list[str | int]] | None = None
) -> HTTPException:
    """422 with one entry per field, shaped as FastAPI's own validation errors."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [
            {"loc": ["body", *(where or {}).get(field, [field])], "msg": msg, "type": "value_error"}
            for field, msg in error.errors.items()
        ],
    )


def public(case: Case) -> dict[str, Any]:
    shown: dict[str, Any] = dict(case)
    shown["id"] = shown.pop("_id")
    for key in INTERNAL_FIELDS:
        shown.pop(key, None)
    return shown


def department_system(request: Request) -> DepartmentSystem:
    """A dependency: the department system (department, and provider for an outside
    provider) whose API key was presented (`app.state.department_keys`)."""
    keys: DepartmentKeys = request.app.state.department_keys
    return require_department(keys)(request)


async def actor_of(
    user: StaffUser = Depends(staff), use: Console = Depends(use_cases)
) -> tuple[Actor, Console]:
    return await actor_for(use.ctx.team, user), use


router = APIRouter(prefix="/api/v1")


@router.get(
    "/cases/{case_id}",
    tags=["cases"],
    summary="A case with its owner, referrals, timeline and notes (staff)",
)
async def get_case(case_id: str, who: tuple[Actor, Console] = Depends(actor_of)) -> dict[str, Any]:
    actor, use = who
    try:
        case = await use.ctx.case(case_id)
        actor.check_may_work_on(case)
    except RoutingError as exc:
        raise http_error(exc) from None
    return public(case)


@router.get(
    "/cases",
    tags=["cases"],
    summary="Cases of one inquiry or organisation, or found by a search term; without "
    "any, the open cases (staff: consultants see their own)",
    description="Newest first. Without a filter only open cases are listed: closed "
    "cases are history, found through their inquiry or organisation or by `q`. `q` is "
    "one search term (organisation name or one of its words, CVR, reference, the "
    "contact's e-mail or name or one of its words; any case, whitespace collapsed); "
    "its results, open and closed, are ordered by deadline (first contact due, else "
    "the earliest referral answer due) and at most 500 cases are considered. "
    "`status` keeps the cases in that status.",
)
async def list_cases(
    inquiry_id: str | None = None,
    organisation_key: str | None = None,
    q: str | None = None,
    case_status: CaseStatus | None = Query(None, alias="status"),
    limit: int = 50,
    who: tuple[Actor, Console] = Depends(actor_of),
) -> list[dict[str, Any]]:
    actor, use = who
    mine = None if actor.team_lead else actor.consultant_id or ""
    cases: list[Case]
    term = search_term(q or "")
    if term is not None and not (inquiry_id or organisation_key):
        found_by_term = await use.ctx.cases.with_term(term, mine)
        page = search_page(
            found_by_term,
            CaseFilters(status=case_status.value if case_status else None),
            use.ctx.local_day(use.ctx.now()),
            page_size=max(1, min(limit, 200)),
        )
        return [public(cast(Case, case)) for case in page.cases]
    if inquiry_id:
        found = await use.ctx.cases.with_inquiry(inquiry_id)
        cases = [found] if found else []
    elif organisation_key:
        cases = await use.ctx.cases.of_organisation(organisation_key)
    else:
        cases = await use.ctx.cases.open_cases(mine, projection=WITHOUT_OUTBOX)
    shown = [
        case
        for case in cases
        if (not organisation_key or case["organisation_key"] == organisation_key)
        and (mine is None or case["consultant"]["id"] == mine)
        and (case_status is None or case["status"] == case_status.value)
    ]
    return [public(case) for case in newest_first(shown)[: max(1, min(limit, 200))]]


@router.post(
    "/cases/{case_id}/referrals",
    tags=["cases"],
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    summary="Refer the case to a department or outside provider (staff)",
    description="Stores the referral and publishes referral-made. The consultant stays the "
    "owner. Contact details go with the referral only with the inquirer's consent; "
    "without it the referral says so.",
)
async def post_referral(
    case_id: str,
    body: ReferralIn,
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> ReferralCreated:
    request = ReferralRequest(
        target=ReferralTarget(department=body.department, provider_id=body.provider_id),
        purpose=body.purpose,
        needs=body.needs,
        response_due=body.response_due,
        consent_to_share_contact=body.consent_to_share_contact,
        message_to_enterprise=body.message_to_enterprise,
    )
    try:
        actor = await actor_for(use.ctx.team, user)
        referral_id = await use.referrals.make(case_id, request, actor)
    except RoutingError as exc:
        raise http_error(exc) from None
    return ReferralCreated(referral_id=referral_id, case_id=case_id)


@router.post(
    "/cases/{case_id}/referrals/{referral_id}/answer",
    tags=["cases"],
    response_model=RecordedAnswerOut,
    summary="Record a department's answer given by phone or mail, on its behalf (staff)",
    description="The same answers and rules as the department API (accepted, declined with "
    "reason, completed with outcome), stored on the case and published as referral-updated "
    "with `recorded_by` = you and `answered_by` = the referral's target. `answered_on` is "
    "the day the target answered (default today). Repeating the answer changes nothing "
    "(`recorded: false`); 409 if the referral's state does not allow it, 422 if incomplete.",
)
async def record_answer(
    case_id: str,
    referral_id: str,
    body: RecordedAnswerIn,
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> RecordedAnswerOut:
    try:
        actor = await actor_for(use.ctx.team, user)
        answered_on = body.answered_on or use.ctx.local_day(use.ctx.now())
        recorded = await use.referrals.record_answer(
            case_id,
            referral_id,
            actor,
            ReferralStatus(body.status),
            body.reason,
            body.outcome,
            answered_on,
        )
    except RoutingError as exc:
        raise http_error(exc) from None
    return RecordedAnswerOut(
        referral_id=referral_id, case_id=case_id, status=body.status, recorded=recorded
    )


async def _record_outcome(
    case_id: str, outcome_id: str | None, body: OutcomeIn, user: StaffUser, use: Console
) -> OutcomeOut:
    try:
        actor = await actor_for(use.ctx.team, user)
        outcome = body.outcome(use.ctx.local_day(use.ctx.now()))
        outcome_id, result = await use.social_value.record_outcome(
            case_id, actor, outcome, outcome_id
        )
    except FieldErrors as exc:
        raise field_errors(exc) from None
    except RoutingError as exc:
        raise http_error(exc) from None
    return OutcomeOut(outcome_id=outcome_id, case_id=case_id, result=result)


OUTCOMES = (
    "Counts per instrument (wage_subsidy_hires, flex_jobs, work_placements, ordinary_hires), "
    "rsv_registration_helped, supplier_agreements, social_clauses, for the day `occurred_on`; "
    "published as case-outcome-recorded. Own case, or team lead; open or closed. At least one "
    "count or the RSV flag; 422 names each wrong field."
)


@router.post(
    "/cases/{case_id}/outcomes",
    tags=["cases"],
    status_code=status.HTTP_201_CREATED,
    response_model=OutcomeOut,
    summary="Record social value on the case (staff)",
    description=OUTCOMES + " A new recording each time: to retry safely, PUT with your own id.",
)
async def post_outcome(
    case_id: str,
    body: OutcomeIn,
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> OutcomeOut:
    return await _record_outcome(case_id, None, body, user, use)


@router.put(
    "/cases/{case_id}/outcomes/{outcome_id}",
    tags=["cases"],
    response_model=OutcomeOut,
    summary="Record social value under your id, or correct a recording (staff)",
    description=OUTCOMES + " A new id records; a known id replaces that recording entirely "
    "(`corrected`); the same values again change nothing (`unchanged`). 409 if withdrawn.",
)
async def put_outcome(
    case_id: str,
    body: OutcomeIn,
    outcome_id: str = Path(min_length=1, max_length=100),
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> OutcomeOut:
    return await _record_outcome(case_id, outcome_id, body, user, use)


@router.delete(
    "/cases/{case_id}/outcomes/{outcome_id}",
    tags=["cases"],
    response_model=OutcomeOut,
    summary="Withdraw a social-value recording (staff)",
    description="Published as case-outcome-recorded with `withdrawn: true` and every count 0; "
    "again changes nothing (`unchanged`). 404 if the case has no such recording.",
)
async def delete_outcome(
    case_id: str,
    outcome_id: str = Path(min_length=1, max_length=100),
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> OutcomeOut:
    try:
        actor = await actor_for(use.ctx.team, user)
        result = await use.social_value.withdraw_outcome(case_id, actor, outcome_id)
    except RoutingError as exc:
        raise http_error(exc) from None
    return OutcomeOut(outcome_id=outcome_id, case_id=case_id, result=result)


@router.patch(
    "/cases/{case_id}/rsv-readiness",
    tags=["cases"],
    response_model=RsvReadinessOut,
    summary="Change the case's RSV readiness checklist (staff)",
    description="The five criteria of lov nr. 711/2014 § 5 (social_purpose, "
    "commercial_activity, independence, inclusive_governance, social_profit_handling), each "
    "met / not_yet / unknown with a note, and `registered_on` when the enterprise became "
    "RSV-registered. Criteria not named keep theirs. Published (the whole checklist) as "
    "rsv-readiness-changed and on the timeline; the same state again publishes nothing.",
)
async def patch_rsv_readiness(
    case_id: str,
    body: RsvReadinessIn,
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> RsvReadinessOut:
    statuses = {c: v.status for c, v in body.criteria.items() if v.status is not None}
    notes = {c: v.note for c, v in body.criteria.items() if v.note is not None}
    try:
        actor = await actor_for(use.ctx.team, user)
        case = await use.ctx.case(case_id)
        current = case.get("rsv") or blank_readiness()
        registered = current["registered_on"]
        if "registered_on" in body.model_fields_set:
            registered_on = body.registered_on
        else:
            registered_on = date.fromisoformat(registered) if registered else None
        changed = await use.social_value.change_rsv_readiness(
            case_id, actor, statuses, notes, registered_on
        )
        case = await use.ctx.case(case_id)
    except FieldErrors as exc:
        where: dict[str, list[str | int]] = {
            f"note_{c.value}": ["criteria", c.value, "note"] for c in RsvCriterion
        }
        raise field_errors(exc, where) from None
    except RoutingError as exc:
        raise http_error(exc) from None
    readiness = case.get("rsv") or blank_readiness()
    stored = readiness["registered_on"]
    return RsvReadinessOut(
        case_id=case_id,
        criteria={RsvCriterion(k): RsvCriterionStatus(v) for k, v in readiness["criteria"].items()},
        ready=is_ready(readiness["criteria"]),
        registered_on=date.fromisoformat(stored) if stored else None,
        changed=changed,
    )


@router.get(
    "/referrals/{referral_id}",
    tags=["department systems"],
    summary="A referral sent to your department (API key)",
    description="An outside provider's key sees only the referrals sent to that provider; "
    "any other referral answers 404, as an unknown one does.",
)
async def get_referral(
    referral_id: str,
    reader: DepartmentSystem = Depends(department_system),
    use: Console = Depends(use_cases),
) -> dict[str, Any]:
    try:
        case, referral = await use.referrals.referral(referral_id, reader)
    except RoutingError as exc:
        raise http_error(exc) from None
    consent = bool(referral.get("consent_to_share_contact"))
    return {
        **{k: v for k, v in referral.items() if k != "answers"},
        "answers": [{k: v for k, v in a.items() if k != "event_id"} for a in referral["answers"]],
        "case_id": case["_id"],
        "reference": case["reference"],
        "organisation": case["organisation"],
        "contact": case["contact"] if consent else None,
        "consultant": case["consultant"],
    }


@router.post(
    "/referrals/{referral_id}/answer",
    tags=["department systems"],
    response_model=AnswerOut,
    summary="Answer a referral sent to your department (API key)",
    description="accepted, declined (with reason) or completed (with outcome, e.g. "
    "wage_subsidy_hires). Stored on the case and published as referral-updated. Only the "
    "department the referral was sent to may answer it (else 403); an outside provider's key "
    "only the referrals sent to that provider (any other answers 404, as an unknown one "
    "does). Repeating the same "
    "answer changes nothing; an answer the referral's state does not allow gives 409.",
)
async def answer_referral(
    referral_id: str,
    body: AnswerIn,
    answerer: DepartmentSystem = Depends(department_system),
    use: Console = Depends(use_cases),
) -> AnswerOut:
    try:
        case_id = await use.referrals.answer(
            referral_id, answerer, ReferralStatus(body.status), body.reason, body.outcome
        )
    except RoutingError as exc:
        raise http_error(exc) from None
    return AnswerOut(referral_id=referral_id, case_id=case_id, status=body.status)
