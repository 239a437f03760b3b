"""Every route of routing's app, walked from `app.routes`: none of the console's pages or
APIs answers without a session with the right role (or a department's API key).

A route added later is checked automatically: it is a staff route unless it is
listed below as public (operations, sign-in) or as a department route, so a
new route that forgets its dependency fails here.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/auth/login"),
    ("POST", "/auth/login"),
    ("GET", "/auth/callback"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/session"),
    ("POST", "/auth/token"),  # service accounts' own credentials (client credentials)
}
DEPARTMENT = {
    ("GET", "/api/v1/referrals/{referral_id}"),
    ("POST", "/api/v1/referrals/{referral_id}/answer"),
}
PUBLIC_MOUNTS = {"/assets/dkfds", "/assets/indgang", "/assets/routing"}


def team_lead_only(method: str, path: str) -> bool:
    return path.startswith("/teamleder") or (method, path) == ("POST", "/sager/{case_id}/omfordel")


def endpoints(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route, included routers flattened (FastAPI ≥ 0.165 keeps an
    included router as one entry with its effective routes)."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"unexpected mount {route.path}"
            continue
        if hasattr(route, "effective_route_contexts"):
            routes = [(c.methods, c.path) for c in route.effective_route_contexts()]
        else:
            assert isinstance(route, APIRoute | Route), route
            routes = [(route.methods, route.path)]
        for methods, path in routes:
            found += [(method, path) for method in sorted(set(methods or ()) - {"HEAD"})]
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert response.status_code == 303
    # Every later POST/PUT/DELETE of this session carries its CSRF token (issue 12).
    session = await client.get("/auth/session")
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]


async def test_every_route_needs_a_session_with_the_right_role(routing: Any) -> None:
    routes = endpoints(routing.app)
    staff = [r for r in routes if r not in PUBLIC and r not in DEPARTMENT]
    assert ("GET", "/sager/{case_id}") in staff
    assert ("GET", "/api/v1/cases") in staff
    assert len(staff) >= 25
    assert set(routes) >= DEPARTMENT
    html = {"accept": "text/html"}

    async with routing.client() as anonymous:
        for method, path in staff:
            url = concrete(path)
            page = await anonymous.request(method, url, headers=html)
            assert page.status_code == 303, (method, path, page.status_code)
            assert page.headers["location"].startswith("/auth/login?next="), (method, path)
            api = await anonymous.request(method, url, headers={"accept": "application/json"})
            assert api.status_code == 401, (method, path, api.status_code)
        for method, path in DEPARTMENT:
            assert (await anonymous.request(method, concrete(path))).status_code == 401
            wrong = await anonymous.request(method, concrete(path), headers={"X-API-Key": "x"})
            assert wrong.status_code == 403, (method, path)

    async with routing.client() as editor:  # guide_editor: staff, but not of the console
        await login(editor, "redaktoer")
        for method, path in staff:
            response = await editor.request(method, concrete(path), headers=html)
            assert response.status_code == 403, (method, path, response.status_code)
        for method, path in DEPARTMENT:  # a session is not a department's key
            assert (await editor.request(method, concrete(path))).status_code == 401

    async with routing.client() as consultant:
        await login(consultant, "ane-kjaer")
        for method, path in staff:
            if team_lead_only(method, path):
                response = await consultant.request(method, concrete(path), headers=html)
                assert response.status_code == 403, (method, path, response.status_code)

    async with routing.client() as lead:  # the team lead passes every role check
        await login(lead, "teamleder")
        for method, path in staff:
            if method == "GET":
                response = await lead.request(method, concrete(path), headers=html)
                assert response.status_code in (200, 303, 404), (method, path)


async def test_every_state_changing_staff_route_checks_the_csrf_token(routing: Any) -> None:
    """Issue 12, finding 4: a signed-in team lead's session (every role passes) without
    the session's CSRF token, or from another site, changes nothing on any staff route
    (console forms and the cookie-authenticated API alike)."""
    unsafe = [
        (method, path)
        for method, path in endpoints(routing.app)
        if method in ("POST", "PUT", "PATCH", "DELETE")
        and (method, path) not in PUBLIC
        and (method, path) not in DEPARTMENT
    ]
    assert ("POST", "/sager/{case_id}/noter") in unsafe
    assert ("POST", "/api/v1/cases/{case_id}/referrals") in unsafe
    async with routing.client() as lead:
        await login(lead, "teamleder")
        token = lead.headers.pop("X-CSRF-Token")
        for method, path in unsafe:
            for headers in ({"accept": "text/html"}, {"accept": "application/json"}):
                refused = await lead.request(method, concrete(path), headers=headers)
                assert refused.status_code == 403, (method, path, refused.status_code)
            forged = await lead.request(
                method,
                concrete(path),
                data={"csrf": token},
                headers={"origin": "https://evil.example", "X-CSRF-Token": token},
            )
            assert forged.status_code == 403, (method, path, forged.status_code)
        page = await lead.post("/sager/x-1/noter", headers={"accept": "text/html"})
        assert "sikkerhedskoden" in page.text  # a Danish page for the browser
