"""The privacy notice and the accessibility statement (linked from every page's footer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from indgang_runtime.web import render

router = APIRouter(include_in_schema=False)


@router.get("/privatliv", response_class=HTMLResponse)
async def privacy(request: Request) -> Response:
    return render(request, "intake/privacy.html", {})


@router.get("/tilgaengelighed", response_class=HTMLResponse)
async def accessibility(request: Request) -> Response:
    return render(request, "intake/accessibility.html", {})
