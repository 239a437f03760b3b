"""What the case page's forms do, as one table: each `POST /sager/{case_id}/<path>` runs one
use case with the form's fields and answers with a 303 back to the case (at `anchor`)
and a message: `done` when it worked, the refusal's reason when not.

A consultant acts on their own cases, the team lead on every case (the use cases
check); moving a case is the team lead's alone (`lead`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.datastructures import FormData

from indgang_contracts.events import ContactChannel
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.case import closing_choice
from indgang_routing.domain.lifecycle import require_outcome
from indgang_routing.domain.social_value import COUNTS, CRITERIA
from indgang_routing.web import forms
from indgang_routing.web.common import Console, staff
from indgang_routing.web.console.pages import Page, lead_page, staff_page


@dataclass(frozen=True)
class Fields:
    """A submitted form's fields as text (a missing field is empty)."""

    form: FormData

    def __call__(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def all(self, name: str) -> list[str]:
        return [v for v in self.form.getlist(name) if isinstance(v, str)]


Run = Callable[[Console, str, Actor, Fields], Awaitable[object]]
Done = str | Callable[[object], str]


async def _first_contact(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    how = forms.parse_choice(ContactChannel, field("channel"), "Vælg hvordan kontakten skete.")
    when = forms.parse_date(field("contact_date"), "datoen for første kontakt")
    return await use.casework.log_first_contact(case_id, actor, how, when)


async def _refer(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    referral = forms.parse_referral(
        department=field("department"),
        provider_id=field("provider_id"),
        purpose=field("purpose"),
        needs=field.all("needs"),
        response_due=field("response_due"),
        consent=field("consent"),
        today=use.ctx.local_day(use.ctx.now()),
        message_to_enterprise=field("message_to_enterprise"),
    )
    return await use.referrals.make(case_id, referral, actor)


async def _record_answer(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    status, reason, outcome = forms.parse_recorded_answer(
        status=field("status"),
        reason=field("reason"),
        summary=field("summary"),
        wage_subsidy_hires=field("wage_subsidy_hires"),
        work_placements=field("work_placements"),
        flex_jobs=field("flex_jobs"),
        other_hires=field("other_hires"),
    )
    answered_on = forms.parse_date(field("answered_on"), "datoen for svaret")
    return await use.referrals.record_answer(
        case_id, field("referral_id"), actor, status, reason, outcome, answered_on
    )


def _recorded(applied: object) -> str:
    return (
        "Svaret er registreret."
        if applied
        else "Henvisningen havde allerede det svar; intet er ændret."
    )


async def _close(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    outcome = require_outcome(field("outcome"))  # asked for first, as the form reads
    told = closing_choice(field("message_to_enterprise"), tell=field("no_message") != "1")
    return await use.casework.close(case_id, actor, outcome, told)


async def _write(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    return await use.casework.write_to_enterprise(
        case_id, actor, field("subject_line"), field("body")
    )


async def _contact(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    return await use.casework.change_contact(
        case_id,
        actor,
        name=field("name"),
        email=field("email"),
        phone=field("phone"),
        language=field("preferred_language"),
    )


async def _outcome(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    names = ("occurred_on", "rsv_registration_helped", *COUNTS)
    outcome = forms.parse_outcome({n: field(n) for n in names}, use.ctx.local_day(use.ctx.now()))
    _, change = await use.social_value.record_outcome(
        case_id, actor, outcome, field("outcome_id").strip() or None
    )
    return change


async def _withdraw_outcome(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    return await use.social_value.withdraw_outcome(case_id, actor, field("outcome_id").strip())


OUTCOME_DONE = {
    "recorded": "Den sociale værdi er registreret.",
    "corrected": "Registreringen er rettet.",
    "withdrawn": "Registreringen er trukket tilbage.",
    "unchanged": "Registreringen var allerede gemt; intet er ændret.",
}


async def _rsv(use: Console, case_id: str, actor: Actor, field: Fields) -> object:
    names = [f"{kind}_{c.code.value}" for c in CRITERIA for kind in ("status", "note")]
    names += ["registered", "registered_on"]
    statuses, notes, registered_on = forms.parse_rsv_readiness({n: field(n) for n in names})
    return await use.social_value.change_rsv_readiness(
        case_id, actor, statuses, notes, registered_on
    )


def _rsv_changed(changes: object) -> str:
    return "RSV-tjeklisten er gemt." if changes else "RSV-tjeklisten er uændret."


def _contact_changed(changed: object) -> str:
    fields = ", ".join(changed) if isinstance(changed, list) else ""
    return f"Kontaktoplysningerne er rettet ({fields})."


@dataclass(frozen=True)
class CaseForm:
    path: str
    run: Run
    done: Done  # the message when it worked (from the use case's result, if a function)
    anchor: str = ""
    lead: bool = False  # the team lead's alone


CASE_FORMS = (
    CaseForm("foerste-kontakt", _first_contact, "Første kontakt er registreret."),
    CaseForm("afvent", lambda use, c, actor, _: use.casework.wait(c, actor), "Sagen afventer nu."),
    CaseForm(
        "genoptag", lambda use, c, actor, _: use.casework.resume(c, actor), "Sagen er genoptaget."
    ),
    CaseForm("luk", _close, "Sagen er lukket."),
    CaseForm(
        "genaabn", lambda use, c, actor, _: use.casework.reopen(c, actor), "Sagen er genåbnet."
    ),
    CaseForm(
        "noter",
        lambda use, c, actor, field: use.casework.add_note(c, actor, field("text")),
        "Noten er gemt.",
        anchor="#noter",
    ),
    CaseForm("henvisninger", _refer, "Henvisningen er sendt.", anchor="#henvisninger"),
    CaseForm("henvisninger/svar", _record_answer, _recorded, anchor="#henvisninger"),
    CaseForm("skriv", _write, "Beskeden er sendt til virksomheden.", anchor="#skriv"),
    CaseForm("kontakt", _contact, _contact_changed, anchor="#kontakt"),
    CaseForm(
        "social-vaerdi",
        _outcome,
        lambda change: OUTCOME_DONE[str(change)],
        anchor="#social-vaerdi",
    ),
    CaseForm(
        "social-vaerdi/tilbagetraek",
        _withdraw_outcome,
        lambda change: OUTCOME_DONE[str(change)],
        anchor="#social-vaerdi",
    ),
    CaseForm("rsv", _rsv, _rsv_changed, anchor="#rsv"),
    CaseForm(
        "vejledning",
        lambda use, c, actor, field: use.casework.share_guide_entries(
            c, actor, field.all("entry_id"), field("message")
        ),
        "Opslagene er sendt til henvenderen.",
        anchor="#vejledning",
    ),
    CaseForm(
        "omfordel",
        lambda use, c, actor, field: use.routing.reassign(c, field("consultant_id"), actor),
        "Sagen er flyttet.",
        lead=True,
    ),
)


def _endpoint(case_form: CaseForm) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        case_id: str, page: Page = Depends(lead_page if case_form.lead else staff_page)
    ) -> Response:
        field = Fields(await page.request.form())
        return await page.act(
            f"/sager/{case_id}{case_form.anchor}",
            lambda actor: case_form.run(page.use, case_id, actor, field),
            case_form.done,
        )

    return endpoint


router = APIRouter(include_in_schema=False, dependencies=[Depends(staff)])
for _form in CASE_FORMS:
    router.add_api_route(
        f"/sager/{{case_id}}/{_form.path}",
        _endpoint(_form),
        methods=["POST"],
        name=f"case_{_form.path.replace('-', '_').replace('/', '_')}",
    )
