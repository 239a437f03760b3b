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
    )
    return await use.referrals.make(case_id, referral, actor)


@dataclass(frozen=True)
class CaseForm:
    path: str
    run: Run
    done: str
    anchor: str = ""
    lead: bool = False  # the team lead's alone


CASE_FORMS = (
    CaseForm("foerste-kontakt", _first_contact, "Første kontakt er registreret."),
    CaseForm("afvent", lambda use, c, actor, _: use.casework.wait(c, actor), "Sagen afventer nu."),
    CaseForm(
        "genoptag", lambda use, c, actor, _: use.casework.resume(c, actor), "Sagen er genoptaget."
    ),
    CaseForm(
        "luk",
        lambda use, c, actor, field: use.casework.close(c, actor, field("outcome")),
        "Sagen er lukket.",
    ),
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
        name=f"case_{_form.path.replace('-', '_')}",
    )
