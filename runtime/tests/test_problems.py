"""Every error `build_app`'s app answers is problem details (RFC 9457): the services'
HTTPExceptions, FastAPI's validation, Starlette's own 404 and 405, and an unexpected
error; headers kept (Retry-After, WWW-Authenticate), a redirect left alone, a browser
given plain JSON, and each body valid against the OpenAPI document's `Problem`."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

from indgang_runtime.problems import PROBLEM_JSON, field_errors, field_of, problem
from indgang_runtime.service import Runtime, build_app
from indgang_runtime.settings import ServiceSettings

SETTINGS = ServiceSettings(
    service_name="t", mongodb_database="t", http_port=1, kafka_bootstrap_servers="127.0.0.1:1"
)


class Organisation(BaseModel):
    cvr: str
    employees: int


class Inquiry(BaseModel):
    organisation: Organisation


def app() -> FastAPI:
    router = APIRouter(prefix="/api")

    @router.get("/limited")
    async def limited() -> None:
        raise HTTPException(429, "too many; wait", headers={"Retry-After": "7"})

    @router.get("/secret")
    async def secret() -> None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})

    @router.get("/busy")
    async def busy() -> None:
        raise HTTPException(409, "the case is closed")

    @router.get("/away")
    async def away() -> None:
        raise HTTPException(303, headers={"Location": "/auth/login"})

    @router.post("/inquiries")
    async def submit(inquiry: Inquiry) -> None:
        return None

    @router.put("/fields")
    async def fields() -> None:
        detail = [{"loc": ["body", "flex_jobs"], "msg": "not negative", "type": "value_error"}]
        raise HTTPException(422, detail)

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug, with a@b.dk in it")

    runtime = Runtime(SETTINGS, object(), object(), object())  # type: ignore[arg-type]
    return build_app(runtime, title="t", description="t", routers=[router])


async def call(
    method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    built = app()
    transport = httpx.ASGITransport(app=built, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        response = await client.request(method, path, headers=headers, **kw)
    return response, built.openapi()


def valid(body: Any, document: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.mark.parametrize(
    ("method", "path", "code", "detail"),
    [
        ("GET", "/api/limited", 429, "too many; wait"),
        ("GET", "/api/secret", 401, "sign in first"),
        ("GET", "/api/busy", 409, "the case is closed"),
        ("GET", "/api/nowhere", 404, "Not Found"),
        ("DELETE", "/api/busy", 405, "Method Not Allowed"),
        ("GET", "/api/broken", 500, "Something went wrong on our side; try again later."),
    ],
)
async def test_an_error_is_problem_details(method: str, path: str, code: int, detail: str) -> None:
    response, document = await call(method, path)
    assert response.status_code == code
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == code
    assert body["detail"] == detail
    assert body["title"]  # the status code's phrase
    valid(body, document)


async def test_an_unexpected_error_tells_nothing_of_its_cause() -> None:
    response, _ = await call("GET", "/api/broken")
    assert "a@b.dk" not in response.text
    assert "RuntimeError" not in response.text


async def test_the_headers_stay() -> None:
    limited, _ = await call("GET", "/api/limited")
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["title"] == "Too Many Requests"
    secret, _ = await call("GET", "/api/secret")
    assert secret.headers["WWW-Authenticate"] == "Bearer"
    assert secret.json()["title"] == "Unauthorized"


async def test_a_redirect_is_not_an_error() -> None:
    response, _ = await call("GET", "/api/away")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login"


async def test_validation_lists_each_field_and_keeps_fastapis_detail() -> None:
    sent = {"organisation": {"employees": "many"}}
    response, document = await call("POST", "/api/inquiries", json=sent)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert {(e["field"], e["type"]) for e in body["errors"]} == {
        ("organisation.cvr", "missing"),
        ("organisation.employees", "int_parsing"),
    }
    assert all(e["message"] and e["loc"][0] == "body" for e in body["errors"])
    # The clients written before `errors` read FastAPI's list in `detail`.
    assert {tuple(e["loc"]) for e in body["detail"]} == {
        ("body", "organisation", "cvr"),
        ("body", "organisation", "employees"),
    }
    valid(body, document)


async def test_a_services_own_field_errors_are_listed_too() -> None:
    response, document = await call("PUT", "/api/fields")
    body = response.json()
    assert body["errors"] == [
        {
            "field": "flex_jobs",
            "loc": ["body", "flex_jobs"],
            "message": "not negative",
            "type": "value_error",
        }
    ]
    valid(body, document)


async def test_a_browser_gets_the_same_body_as_plain_json() -> None:
    response, _ = await call("GET", "/api/busy", headers={"accept": "text/html"})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == 409


def test_extra_members_and_words_per_language_stay() -> None:
    body = problem(403, "Ukendt API-nøgle.", detail_da="Ukendt API-nøgle.", detail_en="Unknown")
    assert body == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Ukendt API-nøgle.",
        "detail_da": "Ukendt API-nøgle.",
        "detail_en": "Unknown",
    }
    (error,) = field_errors([{"loc": ["query", "to"], "msg": "m", "type": "t", "msg_da": "d"}])
    assert error == {"field": "to", "loc": ["query", "to"], "message": "m", "type": "t"} | {
        "message_da": "d"
    }
    assert field_of(["body"]) == "body"
    assert field_of(["header", "Idempotency-Key"]) == "Idempotency-Key"
