"""A small staff service built from the shared pieces, for the sign-in, session and CSRF
tests: a page for team leads, a form, a JSON API (session or department key), a ping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from indgang_runtime.auth import (
    DepartmentKeys,
    DepartmentSystem,
    LoginLimits,
    StaffUser,
    install_auth,
    require_department,
    require_roles,
)
from indgang_runtime.pages import Translations, mount_assets, page_templates
from indgang_runtime.sessions import SessionStore
from indgang_runtime.settings import ServiceSettings

from fake_store import FakeDatabase

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "indgang-dev"  # every development user's (deploy/dev/users.toml)
Staff = Annotated[StaffUser, Depends(require_roles())]


def settings(**changes: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "t",
        "mongodb_database": "t",
        "http_port": 1,
        "environment": "development",
        "users_file": ROOT / "deploy/dev/users.toml",
        "api_keys_file": ROOT / "deploy/dev/api-keys.toml",
    }
    return ServiceSettings(**{**values, **changes})


def build(
    db: Any = None,
    *,
    store: SessionStore | None = None,
    limits: LoginLimits | None = None,
    **changes: Any,
) -> FastAPI:
    config = settings(**changes)
    app = FastAPI()
    mount_assets(app)
    templates = page_templates(ROOT / "runtime", municipality_name="Testkommune")
    install_auth(
        app,
        config,
        templates,
        Translations({}),
        lambda request: {"accessibility_statement_url": "/a11y"},
        sessions=store or SessionStore(db if db is not None else FakeDatabase()),
        limits=limits,
    )
    by_key = require_department(DepartmentKeys(config.api_keys_file))

    lead_only = require_roles("team_lead")

    @app.get("/lead", response_class=HTMLResponse)
    async def lead(user: StaffUser = Depends(lead_only)) -> str:
        return f"hello {user.id}"

    @app.get("/me", response_class=PlainTextResponse)
    async def me(user: Staff) -> str:
        return user.id

    @app.post("/things", response_class=PlainTextResponse)
    async def form(user: Staff, name: Annotated[str, Form()]) -> str:
        return f"{user.id} made {name}"

    @app.put("/api/things/{thing}")
    async def api(user: Staff, thing: str, request: Request) -> dict[str, Any]:
        return {"by": user.id, "thing": thing, "body": await request.json()}

    @app.post("/api/department")
    async def department(system: DepartmentSystem = Depends(by_key)) -> str:
        return system.department.value

    @app.post("/public", response_class=PlainTextResponse)
    async def public(name: Annotated[str, Form()]) -> str:
        return f"thanks {name}"

    @app.post("/plant", response_class=PlainTextResponse)
    async def plant(request: Request) -> str:
        request.session["planted"] = "by someone"
        return "planted"

    @app.get("/planted", response_class=PlainTextResponse)
    async def planted(request: Request) -> str:
        return str(request.session.get("planted"))

    @app.get("/ping", response_class=PlainTextResponse)
    async def ping() -> str:
        return "pong"

    return app


def client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://staff.test")


async def sign_in(c: httpx.AsyncClient, user: str = "teamleder") -> str:
    """Sign `user` in; the session's CSRF token (from GET /auth/session)."""
    answer = await c.post("/auth/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    session = await c.get("/auth/session")
    assert session.status_code == 200
    token: str = session.json()["csrf_token"]
    return token
