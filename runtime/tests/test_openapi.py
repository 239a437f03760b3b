"""`document_api`: each operation's security from its dependencies (marks, a StaffUser or
DepartmentSystem result, the service's own names), explicit public operations, the
error responses with the shared problem body, and the schemes the document uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from indgang_runtime.auth import DepartmentSystem, StaffUser, require_roles
from indgang_runtime.openapi import ADMIN_KEY, ANONYMOUS, STAFF, document_api

Problem = {"$ref": "#/components/schemas/Problem"}


def staff_or_none(request: Request) -> StaffUser | None:
    return None


def a_department(request: Request) -> DepartmentSystem:
    raise NotImplementedError


def admin_key(request: Request) -> str:
    return "admin-key"


def build() -> FastAPI:
    app = FastAPI()
    app.state.service_account_token_url = "/auth/token"
    router = APIRouter(prefix="/api")

    @router.get("/staff")
    async def staff(user: StaffUser = Depends(require_roles("consultant"))) -> None:
        return None

    async def nested(user: StaffUser = Depends(require_roles())) -> str:
        return user.id

    @router.post("/nested")
    async def via_nested(who: str = Depends(nested)) -> None:
        return None

    @router.get("/maybe")
    async def maybe(user: StaffUser | None = Depends(staff_or_none)) -> None:
        return None

    @router.get("/department")
    async def department(system: DepartmentSystem = Depends(a_department)) -> None:
        return None

    @router.delete("/admin", dependencies=[Depends(admin_key)])
    async def admin() -> None:
        return None

    @router.get("/open", openapi_extra={"security": []})
    async def open_by_design() -> None:
        return None

    @router.get("/forgotten")
    async def forgotten() -> None:
        return None

    app.include_router(router)
    document_api(app)
    document_api(app, schemes={admin_key: (ADMIN_KEY, *STAFF)}, public={"/api/listed"})

    @app.get("/api/listed")
    async def listed() -> None:
        return None

    return app


def test_security_from_the_dependencies() -> None:
    doc: dict[str, Any] = build().openapi()
    paths = doc["paths"]
    staff: list[dict[str, list[str]]] = [{"staffSession": []}, {"serviceAccount": []}]
    assert paths["/api/staff"]["get"]["security"] == staff
    assert paths["/api/nested"]["post"]["security"] == staff
    assert paths["/api/maybe"]["get"]["security"] == [{}, *staff]
    assert paths["/api/department"]["get"]["security"] == [{"departmentKey": []}]
    assert paths["/api/admin"]["delete"]["security"] == [{"adminKey": []}, *staff]
    assert paths["/api/open"]["get"]["security"] == []
    assert paths["/api/listed"]["get"]["security"] == []
    assert "security" not in paths["/api/forgotten"]["get"]  # the services' test refuses it
    assert ANONYMOUS == ""
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"staffSession", "serviceAccount", "departmentKey", "adminKey"}
    assert schemes["serviceAccount"]["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token"


def test_error_responses_share_the_problem_body() -> None:
    doc: dict[str, Any] = build().openapi()
    secured = doc["paths"]["/api/staff"]["get"]["responses"]
    public = doc["paths"]["/api/open"]["get"]["responses"]
    assert {"401", "403", "404", "409", "422", "429"} <= set(secured)
    assert {"404", "409", "422", "429"} <= set(public)
    assert not {"401", "403"} & set(public)
    for media in ("application/problem+json", "application/json"):
        assert secured["422"]["content"][media]["schema"] == Problem
        assert public["429"]["content"][media]["schema"] == Problem
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert "FieldError" in doc["components"]["schemas"]
