"""What every console page shares: the signed-in user as an actor, rendering a page (in
the pages `install_console` put on `app.state`), and running a form's action.

A route asks for a `Page` (`Depends(staff_page)` or `Depends(lead_page)`): the
request, the staff user, their actor and the team, and the use cases. Forms answer
with a 303 back to their page and a message (flash).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from indgang_routing.domain import labels
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import CaseNotFound, NotAllowed, RoutingError
from indgang_routing.domain.search import has_late_answer
from indgang_routing.domain.team import Team
from indgang_routing.handlers.context import COPENHAGEN, Context
from indgang_routing.web import views
from indgang_routing.web.common import Console, actor_in, staff, status_of, team_lead, use_cases
from indgang_runtime.auth import StaffUser
from indgang_runtime.web import render


def danish_date(value: date | datetime | str | None) -> str:
    """The `dato` filter: a date, a moment or an ISO string as a Danish date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date()
    return labels.danish_date(value)


def local_iso_day(value: datetime | None) -> str:
    """The `dag` filter: a moment's Danish date as ISO ("2026-12-03"), for date inputs."""
    return "" if value is None else value.astimezone(COPENHAGEN).date().isoformat()


def danish_time(value: datetime | None) -> str:
    """The `tid` filter: a moment as a Danish date and time of day."""
    if value is None:
        return ""
    local = value.astimezone(COPENHAGEN)
    return f"{labels.danish_date(local.date())} kl. {local:%H.%M}"


@dataclass
class Page:
    """One request to the console by a signed-in staff user."""

    request: Request
    user: StaffUser
    actor: Actor
    team: Team
    use: Console

    @property
    def ctx(self) -> Context:
        return self.use.ctx

    def today(self) -> date:
        return self.ctx.local_day(self.ctx.now())

    def render(self, name: str, *, status_code: int = 200, **context: Any) -> Response:
        today = self.today()
        return render(
            self.request,
            name,
            {
                "user": self.user,
                "actor": self.actor,
                "flash": self.request.session.pop("flash", None),
                "labels": labels,
                "today": today,
                "is_overdue": lambda case: views.is_overdue(case, today),
                # A referral of the open case unanswered after its deadline ("Forsinket svar").
                "late_answer": lambda case: has_late_answer(case, today),
                **context,
            },
            status_code,
        )

    def error(self, error: RoutingError) -> Response:
        return self.render(
            "console/error.html", status_code=status_of(error), message=error.message
        )

    async def act(
        self,
        back: str,
        action: Callable[[Actor], Awaitable[Any]],
        done: str | Callable[[Any], str],
    ) -> Response:
        """Run a form's action; 303 back with what happened, or with what was wrong."""
        try:
            result = await action(self.actor)
        except (NotAllowed, CaseNotFound) as exc:
            return self.error(exc)
        except RoutingError as exc:
            self.request.session["flash"] = {"kind": "error", "text": exc.message}
        else:
            text = done(result) if callable(done) else done
            self.request.session["flash"] = {"kind": "success", "text": text}
        return RedirectResponse(back, status_code=303)


async def _page(request: Request, user: StaffUser, use: Console) -> Page:
    team = await use.ctx.team.load()
    return Page(request, user, actor_in(team, user), team, use)


async def staff_page(
    request: Request,
    user: StaffUser = Depends(staff),
    use: Console = Depends(use_cases),
) -> Page:
    """A dependency: the page of a consultant or the team lead."""
    return await _page(request, user, use)


async def lead_page(
    request: Request,
    user: StaffUser = Depends(team_lead),
    use: Console = Depends(use_cases),
) -> Page:
    """A dependency: the page of the team lead."""
    return await _page(request, user, use)
