"""The consultants' console: Danish, server-rendered on Det Fælles Designsystem, usable
without JavaScript.

Every page and form needs a staff session (`indgang_runtime.auth`: OpenID
Connect in production, the local users file for `make up`): role consultant for
the consultant's own cases, team_lead for everything under /teamleder and for
moving cases. A consultant sees and changes only their own cases; the team lead
all. Forms answer with a 303 back to the page and a message (flash) saying
what happened or what was wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from indgang_contracts.events import ContactChannel, Department, Need
from indgang_routing.adapters.cases import OPEN, CaseDoc, newest_first
from indgang_routing.domain import labels
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import add_working_days, this_and_last_month
from indgang_routing.domain.errors import CaseNotFound, NotAllowed, NotFound, RoutingError
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.casework import Casework
from indgang_routing.handlers.context import COPENHAGEN, Context
from indgang_routing.handlers.referrals import Referrals
from indgang_routing.handlers.team import TeamAdmin
from indgang_routing.settings import RoutingSettings
from indgang_routing.web import forms, views
from indgang_routing.web.common import actor_in, staff, status_of, team_lead
from indgang_runtime.auth import StaffUser, current_user, install_auth
from indgang_runtime.pages import Translations, mount_assets, page_templates

_HERE = Path(__file__).resolve().parents[1]
REFERRAL_DAYS = 10  # default answer deadline, in working days
RECENTLY_CLOSED = 10  # closed this month or last, newest first


def _date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date()
    return labels.danish_date(value)


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(COPENHAGEN)
    return f"{labels.danish_date(local.date())} kl. {local:%H.%M}"


@dataclass
class Console:
    ctx: Context
    routing: CaseRouting
    casework: Casework
    referrals: Referrals
    team_admin: TeamAdmin


def install_console(app: FastAPI, settings: RoutingSettings, console: Console) -> None:
    mount_assets(app)
    app.mount("/assets/routing", StaticFiles(directory=_HERE / "static"), name="routing")
    templates = page_templates(_HERE / "templates", municipality_name=settings.municipality_name)
    templates.env.filters["dato"] = _date
    templates.env.filters["tid"] = _time
    translations = Translations({})

    def page_context(request: Request) -> dict[str, Any]:
        return {"accessibility_statement_url": settings.accessibility_statement_url}

    install_auth(app, settings, templates, translations, page_context)
    app.include_router(_router(console, templates, translations, page_context))

    @app.exception_handler(StarletteHTTPException)
    async def refusals_as_pages(request: Request, exc: StarletteHTTPException) -> Response:
        """A signed-in person whose browser is refused (wrong role, no such page) gets a
        Danish page in the console's layout; API clients keep the JSON answer."""
        user = current_user(request)
        wants_page = "text/html" in request.headers.get("accept", "")
        if user is None or not wants_page or request.url.path.startswith(("/api/", "/assets/")):
            return await http_exception_handler(request, exc)
        if exc.status_code not in (403, 404):
            return await http_exception_handler(request, exc)
        message = (
            "Din rolle giver ikke adgang til denne side."
            if exc.status_code == 403
            else "Siden findes ikke."
        )
        team = await console.ctx.team.load()
        return templates.TemplateResponse(
            request,
            "console/error.html",
            {
                **page_context(request),
                "lang": "da",
                "t": translations.gettext("da"),
                "user": user,
                "actor": actor_in(team, user),
                "flash": None,
                "message": message,
            },
            status_code=exc.status_code,
        )


def _router(
    console: Console,
    templates: Jinja2Templates,
    translations: Translations,
    page_context: Callable[[Request], dict[str, Any]],
) -> APIRouter:
    ctx = console.ctx
    router = APIRouter(include_in_schema=False, dependencies=[Depends(staff)])

    async def who(user: StaffUser) -> tuple[Actor, Any]:
        team = await ctx.team.load()
        return actor_in(team, user), team

    def render(
        request: Request,
        name: str,
        user: StaffUser,
        actor: Actor,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        today = ctx.local_day(ctx.now())
        return templates.TemplateResponse(
            request,
            name,
            {
                **page_context(request),
                "lang": "da",
                "t": translations.gettext("da"),
                "user": user,
                "actor": actor,
                "flash": request.session.pop("flash", None),
                "labels": labels,
                "today": today,
                "is_overdue": lambda case: views.is_overdue(case, today),
                **context,
            },
            status_code=status_code,
        )

    def error_page(
        request: Request, user: StaffUser, actor: Actor, error: RoutingError
    ) -> Response:
        return render(
            request,
            "console/error.html",
            user,
            actor,
            status_code=status_of(error),
            message=error.message,
        )

    async def act(
        request: Request,
        user: StaffUser,
        back: str,
        action: Callable[[Actor], Awaitable[Any]],
        done: str | Callable[[Any], str],
    ) -> Response:
        """Run a form's action; 303 back with what happened, or with what was wrong."""
        actor, _ = await who(user)
        try:
            result = await action(actor)
        except (NotAllowed, CaseNotFound) as exc:
            return error_page(request, user, actor, exc)
        except RoutingError as exc:
            request.session["flash"] = {"kind": "error", "text": exc.message}
        else:
            text = done(result) if callable(done) else done
            request.session["flash"] = {"kind": "success", "text": text}
        return RedirectResponse(back, status_code=303)

    # --- the consultant's pages ----------------------------------------------------

    @router.get("/")
    async def home(user: StaffUser = Depends(staff)) -> Response:
        return RedirectResponse("/sager", status_code=303)

    @router.get("/sager")
    async def my_cases(request: Request, user: StaffUser = Depends(staff)) -> Response:
        actor, _ = await who(user)
        today = ctx.local_day(ctx.now())
        mine: list[CaseDoc] = []
        closed: list[CaseDoc] = []
        if actor.consultant_id:
            mine = await ctx.cases.open_cases(actor.consultant_id)
            recent = await ctx.cases.closed_in(actor.consultant_id, this_and_last_month(today))
            closed = newest_first(recent, "closed_at")[:RECENTLY_CLOSED]
        return render(
            request,
            "console/my_cases.html",
            user,
            actor,
            nav="mine",
            cases=views.by_urgency(mine, today),
            closed=closed,
        )

    @router.get("/sager/{case_id}")
    async def case_page(
        request: Request, case_id: str, user: StaffUser = Depends(staff)
    ) -> Response:
        actor, team = await who(user)
        try:
            case = await ctx.case(case_id)
            actor.check_may_work_on(case)
        except RoutingError as exc:
            return error_page(request, user, actor, exc)
        today = ctx.local_day(ctx.now())
        recommendations = await console.casework.guide.recommendations(case_id)
        return render(
            request,
            "console/case.html",
            user,
            actor,
            nav="mine" if actor.owns(case) else "all",
            case=case,
            team=team,
            owner_on_team=team.get(case["consultant"]["id"]) is not None,
            providers=list((await ctx.providers.all()).values()),
            actions={a.value for a in views.allowed_actions(case)},
            is_open=case["status"] in OPEN,
            recommendations=recommendations,
            default_due=add_working_days(today, REFERRAL_DAYS).isoformat(),
            needs=list(Need),
            departments=list(Department),
            channels=list(ContactChannel),
            notes=list(reversed(case.get("notes", []))),
            timeline=list(reversed(case.get("timeline", []))),
        )

    def case_url(case_id: str) -> str:
        return f"/sager/{case_id}"

    @router.post("/sager/{case_id}/foerste-kontakt")
    async def log_first_contact(
        request: Request,
        case_id: str,
        channel: str = Form(""),
        contact_date: str = Form(""),
        user: StaffUser = Depends(staff),
    ) -> Response:
        async def action(actor: Actor) -> object:
            how = forms.parse_choice(ContactChannel, channel, "Vælg hvordan kontakten skete.")
            when = forms.parse_date(contact_date, "datoen for første kontakt")
            return await console.casework.log_first_contact(case_id, actor, how, when)

        return await act(request, user, case_url(case_id), action, "Første kontakt er registreret.")

    @router.post("/sager/{case_id}/afvent")
    async def wait(request: Request, case_id: str, user: StaffUser = Depends(staff)) -> Response:
        return await act(
            request,
            user,
            case_url(case_id),
            lambda actor: console.casework.wait(case_id, actor),
            "Sagen afventer nu.",
        )

    @router.post("/sager/{case_id}/genoptag")
    async def resume(request: Request, case_id: str, user: StaffUser = Depends(staff)) -> Response:
        return await act(
            request,
            user,
            case_url(case_id),
            lambda actor: console.casework.resume(case_id, actor),
            "Sagen er genoptaget.",
        )

    @router.post("/sager/{case_id}/luk")
    async def close(
        request: Request, case_id: str, outcome: str = Form(""), user: StaffUser = Depends(staff)
    ) -> Response:
        return await act(
            request,
            user,
            case_url(case_id),
            lambda actor: console.casework.close(case_id, actor, outcome),
            "Sagen er lukket.",
        )

    @router.post("/sager/{case_id}/genaabn")
    async def reopen(request: Request, case_id: str, user: StaffUser = Depends(staff)) -> Response:
        return await act(
            request,
            user,
            case_url(case_id),
            lambda actor: console.casework.reopen(case_id, actor),
            "Sagen er genåbnet.",
        )

    @router.post("/sager/{case_id}/noter")
    async def add_note(
        request: Request, case_id: str, text: str = Form(""), user: StaffUser = Depends(staff)
    ) -> Response:
        return await act(
            request,
            user,
            case_url(case_id) + "#noter",
            lambda actor: console.casework.add_note(case_id, actor, text),
            "Noten er gemt.",
        )

    @router.post("/sager/{case_id}/henvisninger")
    async def refer(
        request: Request,
        case_id: str,
        department: str = Form(""),
        provider_id: str = Form(""),
        purpose: str = Form(""),
        needs: list[str] = Form([]),
        response_due: str = Form(""),
        consent: str = Form(""),
        user: StaffUser = Depends(staff),
    ) -> Response:
        async def action(actor: Actor) -> object:
            referral = forms.parse_referral(
                department=department,
                provider_id=provider_id,
                purpose=purpose,
                needs=needs,
                response_due=response_due,
                consent=consent,
                today=ctx.local_day(ctx.now()),
            )
            return await console.referrals.make(case_id, referral, actor)

        return await act(
            request, user, case_url(case_id) + "#henvisninger", action, "Henvisningen er sendt."
        )

    @router.post("/sager/{case_id}/vejledning")
    async def share_guide(
        request: Request,
        case_id: str,
        entry_id: list[str] = Form([]),
        message: str = Form(""),
        user: StaffUser = Depends(staff),
    ) -> Response:
        return await act(
            request,
            user,
            case_url(case_id) + "#vejledning",
            lambda actor: console.casework.share_guide_entries(case_id, actor, entry_id, message),
            "Opslagene er sendt til henvenderen.",
        )

    @router.post("/sager/{case_id}/omfordel")
    async def reassign(
        request: Request,
        case_id: str,
        consultant_id: str = Form(""),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        return await act(
            request,
            user,
            case_url(case_id),
            lambda actor: console.routing.reassign(case_id, consultant_id, actor),
            "Sagen er flyttet.",
        )

    # --- the team lead's pages ---------------------------------------------------------

    lead = APIRouter(prefix="/teamleder", dependencies=[Depends(team_lead)])

    async def open_cases(consultant_id: str | None = None) -> list[CaseDoc]:
        """Open cases, newest first (lists sort them by urgency)."""
        return newest_first(await ctx.cases.open_cases(consultant_id or None))

    @lead.get("/sager")
    async def all_cases(
        request: Request, konsulent: str = "", user: StaffUser = Depends(team_lead)
    ) -> Response:
        actor, team = await who(user)
        today = ctx.local_day(ctx.now())
        return render(
            request,
            "console/all_cases.html",
            user,
            actor,
            nav="all",
            cases=views.by_urgency(await open_cases(konsulent), today),
            team=team,
            chosen=konsulent,
        )

    @lead.get("/problemer")
    async def problem_cases(request: Request, user: StaffUser = Depends(team_lead)) -> Response:
        actor, team = await who(user)
        today = ctx.local_day(ctx.now())
        return render(
            request,
            "console/problems.html",
            user,
            actor,
            nav="problems",
            problems=views.problems(team, await open_cases(), today),
        )

    @lead.get("/team")
    async def team_page(request: Request, user: StaffUser = Depends(team_lead)) -> Response:
        actor, team = await who(user)
        today = ctx.local_day(ctx.now())
        cases = await open_cases()
        return render(
            request,
            "console/team.html",
            user,
            actor,
            nav="team",
            team=team,
            workloads=views.workloads(team, cases, today),
            totals=views.referral_totals(cases),  # of open cases: closed ones are history
            open_total=len(cases),
        )

    def consultant_form(
        request: Request, user: StaffUser, actor: Actor, team: Any, member: Any, new: bool
    ) -> Response:
        return render(
            request,
            "console/consultant.html",
            user,
            actor,
            nav="team",
            team=team,
            member=member,
            new=new,
            needs=list(Need),
            today=ctx.local_day(ctx.now()),
        )

    @lead.get("/team/ny")
    async def new_consultant(request: Request, user: StaffUser = Depends(team_lead)) -> Response:
        actor, team = await who(user)
        return consultant_form(request, user, actor, team, None, True)

    @lead.post("/team")
    async def create_consultant(
        request: Request,
        consultant_id: str = Form(""),
        form: forms.ConsultantForm = Depends(),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        async def action(actor: Actor) -> None:
            member = form.consultant(consultant_id, ctx.settings.municipality_code)
            await console.team_admin.save(member, new=True)

        return await act(request, user, "/teamleder/team", action, f"{form.name} er tilføjet.")

    @lead.get("/team/{consultant_id}")
    async def edit_consultant(
        request: Request, consultant_id: str, user: StaffUser = Depends(team_lead)
    ) -> Response:
        actor, team = await who(user)
        member = team.get(consultant_id)
        if member is None:
            return error_page(
                request, user, actor, NotFound(f"Konsulenten {consultant_id!r} er ikke på holdet.")
            )
        return consultant_form(request, user, actor, team, member, False)

    @lead.post("/team/{consultant_id}")
    async def save_consultant(
        request: Request,
        consultant_id: str,
        form: forms.ConsultantForm = Depends(),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        async def action(actor: Actor) -> None:
            member = form.consultant(consultant_id, ctx.settings.municipality_code)
            await console.team_admin.save(member, new=False)

        return await act(
            request, user, f"/teamleder/team/{consultant_id}", action, "Ændringerne er gemt."
        )

    @lead.post("/team/{consultant_id}/fravaer")
    async def add_absence(
        request: Request,
        consultant_id: str,
        form: forms.AbsenceForm = Depends(),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        return await act(
            request,
            user,
            f"/teamleder/team/{consultant_id}",
            lambda actor: console.team_admin.add_absence(consultant_id, *form.dates()),
            "Fraværet er registreret.",
        )

    @lead.post("/team/{consultant_id}/fravaer/slet")
    async def remove_absence(
        request: Request,
        consultant_id: str,
        form: forms.AbsenceForm = Depends(),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        return await act(
            request,
            user,
            f"/teamleder/team/{consultant_id}",
            lambda actor: console.team_admin.remove_absence(consultant_id, *form.dates()),
            "Fraværet er slettet.",
        )

    @lead.post("/team/{consultant_id}/omfordel")
    async def move_all(
        request: Request,
        consultant_id: str,
        to: str = Form(""),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        return await act(
            request,
            user,
            "/teamleder/team",
            lambda actor: console.team_admin.reassign_all(consultant_id, to or None, actor),
            lambda moved: f"{moved} åbne sager er flyttet.",
        )

    @lead.post("/team/{consultant_id}/fjern")
    async def remove_consultant(
        request: Request,
        consultant_id: str,
        to: str = Form(""),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        return await act(
            request,
            user,
            "/teamleder/team",
            lambda actor: console.team_admin.remove(consultant_id, to or None, actor),
            lambda moved: f"Konsulenten er fjernet fra holdet; {moved} åbne sager er flyttet.",
        )

    @lead.get("/udbydere")
    async def providers_page(request: Request, user: StaffUser = Depends(team_lead)) -> Response:
        actor, _ = await who(user)
        return render(
            request,
            "console/providers.html",
            user,
            actor,
            nav="providers",
            providers=list((await ctx.providers.all()).values()),
            provider=None,
            needs=list(Need),
        )

    @lead.get("/udbydere/{provider_id}")
    async def edit_provider(
        request: Request, provider_id: str, user: StaffUser = Depends(team_lead)
    ) -> Response:
        actor, _ = await who(user)
        provider = (await ctx.providers.all()).get(provider_id)
        if provider is None:
            return error_page(
                request, user, actor, NotFound(f"Udbyderen {provider_id!r} er ikke på listen.")
            )
        return render(
            request,
            "console/providers.html",
            user,
            actor,
            nav="providers",
            providers=[],
            provider=provider,
            needs=list(Need),
        )

    @lead.post("/udbydere")
    async def save_provider(
        request: Request,
        provider_id: str = Form(""),
        name: str = Form(""),
        email: str = Form(""),
        phone: str = Form(""),
        description: str = Form(""),
        needs: list[str] = Form([]),
        user: StaffUser = Depends(team_lead),
    ) -> Response:
        async def action(actor: Actor) -> object:
            provider = forms.parse_provider(
                provider_id=provider_id,
                name=name,
                email=email,
                phone=phone,
                description=description,
                needs=needs,
            )
            await console.team_admin.save_provider(provider)
            return None

        return await act(request, user, "/teamleder/udbydere", action, "Udbyderen er gemt.")

    @lead.post("/udbydere/{provider_id}/slet")
    async def remove_provider(
        request: Request, provider_id: str, user: StaffUser = Depends(team_lead)
    ) -> Response:
        return await act(
            request,
            user,
            "/teamleder/udbydere",
            lambda actor: console.team_admin.remove_provider(provider_id),
            "Udbyderen er fjernet fra listen.",
        )

    router.include_router(lead)
    return router
