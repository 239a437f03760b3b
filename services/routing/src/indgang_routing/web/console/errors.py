"""Refusals as pages: a signed-in person whose browser is refused (wrong role, no such
page) gets a Danish page in the console's layout; API clients, and anyone not signed
in, keep the JSON answer (problem details)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from indgang_routing.web.common import actor_in, use_cases
from indgang_runtime.auth import current_user
from indgang_runtime.problems import http_problem
from indgang_runtime.web import render

MESSAGES = {403: "Din rolle giver ikke adgang til denne side.", 404: "Siden findes ikke."}


async def refusal_as_page(request: Request, exc: StarletteHTTPException) -> Response:
    user = current_user(request)
    wants_page = "text/html" in request.headers.get("accept", "")
    if user is None or not wants_page or request.url.path.startswith(("/api/", "/assets/")):
        return await http_problem(request, exc)
    if exc.status_code not in MESSAGES:
        return await http_problem(request, exc)
    team = await (await use_cases(request)).ctx.team.load()
    return render(
        request,
        "console/error.html",
        {
            "user": user,
            "actor": actor_in(team, user),
            "flash": None,
            "message": MESSAGES[exc.status_code],
        },
        exc.status_code,
    )


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, refusal_as_page)  # type: ignore[arg-type]
