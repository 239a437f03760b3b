"""Staff sign-in and department keys on a small app built from the shared pieces."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from indgang_runtime.auth import (
    DepartmentKeys,
    DepartmentSystem,
    InvalidKeysFile,
    StaffUser,
    install_auth,
    require_department,
    require_roles,
)
from indgang_runtime.pages import Translations, mount_assets, page_templates
from indgang_runtime.sessions import SessionStore
from indgang_runtime.settings import ServiceSettings

from fake_store import FakeDatabase

ROOT = Path(__file__).resolve().parents[2]


def build() -> FastAPI:
    settings = ServiceSettings(
        service_name="t",
        mongodb_database="t",
        http_port=1,
        users_file=ROOT / "deploy/dev/users.toml",
        api_keys_file=ROOT / "deploy/dev/api-keys.toml",
    )
    app = FastAPI()
    mount_assets(app)
    templates = page_templates(ROOT / "runtime", municipality_name="Testkommune")
    texts = Translations({})
    install_auth(
        app,
        settings,
        templates,
        texts,
        lambda request: {"accessibility_statement_url": "/a11y"},
        sessions=SessionStore(FakeDatabase()),
    )
    keys = DepartmentKeys(settings.api_keys_file)

    @app.get("/lead", response_class=HTMLResponse)
    async def lead(request: Request, user: StaffUser = Depends(require_roles("team_lead"))) -> str:
        return f"hello {user.id}"

    @app.get("/dept")
    async def dept(system: DepartmentSystem = Depends(require_department(keys))) -> str:
        return "/".join(filter(None, (system.department.value, system.provider_id)))

    return app


async def test_login_roles_and_logout() -> None:
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/lead", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/auth/login?next=/lead"
        assert (await client.get("/lead")).status_code == 401

        form = await client.get("/auth/login?next=/lead")
        assert form.status_code == 200
        assert 'lang="da"' in form.text
        assert "/assets/dkfds/css/" in form.text
        assert (await client.get("/assets/dkfds/css/dkfds-virkdk.min.css")).status_code == 200

        bad = await client.post("/auth/login", data={"username": "teamleder", "password": "x"})
        assert bad.status_code == 401
        assert "forkert" in bad.text

        ok = await client.post(
            "/auth/login",
            data={"username": "ane-kjaer", "password": "indgang-dev", "next": "//evil.example"},
        )
        assert ok.status_code == 303
        assert ok.headers["location"] == "/"
        assert (await client.get("/lead")).status_code == 403  # a consultant, not team lead

        out = await client.post("/auth/logout", headers={"origin": "http://test"})
        assert out.status_code == 303
        assert (await client.get("/lead")).status_code == 401
        await client.post("/auth/login", data={"username": "teamleder", "password": "indgang-dev"})
        assert (await client.get("/lead")).text == "hello teamleder"


async def test_department_api_keys() -> None:
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/dept")).status_code == 401
        assert (await client.get("/dept", headers={"X-API-Key": "wrong"})).status_code == 403
        ok = await client.get("/dept", headers={"X-API-Key": "dev-key-job_centre"})
        assert ok.json() == "job_centre"
        bearer = await client.get("/dept", headers={"Authorization": "Bearer dev-key-csr"})
        assert bearer.json() == "csr"
        # Each outside provider has a key of its own, which names it (issue 12, finding 9).
        provider = await client.get("/dept", headers={"X-API-Key": "dev-key-provider-mentorhuset"})
        assert provider.json() == "outside_provider/mentorhuset"
        shared = await client.get("/dept", headers={"X-API-Key": "dev-key-outside_provider"})
        assert shared.status_code == 403  # the one key all providers shared is gone


def _keys(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "api-keys.toml"
    path.write_text(f'[[key]]\nname = "Udbyder"\nsha256 = "{"0" * 64}"\n{entry}\n')
    return path


def test_an_outside_provider_key_must_name_its_provider(tmp_path: Path) -> None:
    with pytest.raises(InvalidKeysFile, match="names no provider: outside providers do not share"):
        DepartmentKeys(_keys(tmp_path, 'department = "outside_provider"'))
    with pytest.raises(InvalidKeysFile, match="provider must be the provider's id"):
        DepartmentKeys(_keys(tmp_path, 'department = "outside_provider"\nprovider = " "'))
    with pytest.raises(InvalidKeysFile, match="only keys of the outside_provider department"):
        DepartmentKeys(_keys(tmp_path, 'department = "job_centre"\nprovider = "mentorhuset"'))
    keys = DepartmentKeys(_keys(tmp_path, 'department = "outside_provider"\nprovider = "a"'))
    assert keys.system_for("0") is None
