"""Exact OpenAPI for every service: who may call each operation, and how it can fail.

`document_api(app, schemes=...)` replaces `app.openapi()` with one that adds, from the
routes themselves:

- the security schemes the service uses (`components.securitySchemes`): the staff
  session cookie, service accounts' bearer tokens (OAuth2 client credentials: the
  development `POST /auth/token`, or the identity provider's OpenID Connect discovery
  in production), department systems' `X-API-Key`, and the services' own keys;
- each operation's `security`, found by walking its dependencies: `require_roles`
  means a staff session or a service account, `require_department` a department key,
  and so does any dependency that returns the caller as a `StaffUser` or a
  `DepartmentSystem` (`| None`: optional); a service names its other dependencies
  (`schemes`: dependency → scheme names;
  `ANONYMOUS` among them means the key is optional). An operation that is public by
  design says so (`openapi_extra={"security": []}`, or its path in `public`); one that
  is neither has no `security`, which the OpenAPI tests refuse;
- every error response — 401 and 403 where there is security, and 404, 409, 422 and
  429 — with one shared problem-details body (`components.schemas.Problem`, RFC 9457,
  which `indgang_runtime.problems` answers with: `type`, `title`, `status`, `detail`,
  and for 422 `errors`, one per field).

`build_app` calls it for every service; a service calls it again from its composition
root to name its own dependencies (the calls add up).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

STAFF_SESSION = "staffSession"
SERVICE_ACCOUNT = "serviceAccount"
DEPARTMENT_KEY = "departmentKey"
ADMIN_KEY = "adminKey"
REPORTS_KEY = "reportsKey"
GUIDE_READER_KEY = "guideReaderKey"
# Not a scheme: the operation also answers without credentials (the key is optional).
ANONYMOUS = ""
STAFF = (STAFF_SESSION, SERVICE_ACCOUNT)

_UNIONS = (typing.Union, types.UnionType)
# The attribute by which a dependency says which schemes let a caller through.
MARK = "__indgang_security__"

_STATIC_SCHEMES: dict[str, dict[str, Any]] = {
    STAFF_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "indgang_session",
        "description": "A staff member's session (sign in at /auth/login). Every POST, PUT, "
        "PATCH and DELETE with it also needs the session's CSRF token in X-CSRF-Token "
        "(GET /auth/session gives it).",
    },
    DEPARTMENT_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A department system's or outside provider's API key (one each); "
        "`Authorization: Bearer <key>` is accepted too.",
    },
    ADMIN_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Admin-Key",
        "description": "The administrators' key of notifications (ADMIN_API_KEY).",
    },
    REPORTS_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Reports-Key",
        "description": "The BI tool's key of reporting (REPORTS_API_KEY).",
    },
    GUIDE_READER_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "Routing's key for the guide's internal entries (GUIDE_READER_KEY).",
    },
}

ERRORS: dict[str, str] = {
    "401": "No credentials, or not valid ones (sign in, or a fresh bearer token).",
    "403": "The credentials do not allow this (role, department, or the CSRF check).",
    "404": "Not found, or not yours to see.",
    "409": "The resource's state does not allow this now.",
    "422": "The request is invalid: `errors` lists each field's error.",
    "429": "Too many requests: wait the seconds in Retry-After.",
}
_SECURED_ONLY = ("401", "403")
# The headers that come with an error (`indgang_runtime.problems` keeps them).
_ERROR_HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "`Bearer` (a service account's token; a department's key "
            "is accepted as one too).",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "Problem details (RFC 9457), the body of every error of every service, "
    "as `application/problem+json` (a browser that asks for HTML gets it as "
    "`application/json`). `type` is `about:blank`: the problem is what the status code "
    "says, and `title` is its phrase. `detail` says what went wrong in a sentence; a "
    "422's `detail` is, for the clients written before, FastAPI's list of field errors, "
    "and `errors` gives them one per field. 429 comes with `Retry-After`, 401 with "
    "`WWW-Authenticate`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
            ]
        },
        "errors": {
            "type": "array",
            "description": "422: what is wrong with each field.",
            "items": {"$ref": "#/components/schemas/InvalidField"},
        },
        "detail_da": {"type": "string", "description": "`detail` in Danish (intake)."},
        "detail_en": {"type": "string", "description": "`detail` in English (intake)."},
    },
}
FIELD_ERROR: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "description": "A 422's field error as FastAPI words it (in `detail`; read `errors`).",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
        "msg_da": {"type": "string", "description": "`msg` in Danish (intake)."},
        "msg_en": {"type": "string", "description": "`msg` in English (intake)."},
    },
}
INVALID_FIELD: dict[str, Any] = {
    "title": "InvalidField",
    "type": "object",
    "description": "What is wrong with one field of the request.",
    "required": ["field", "loc", "message", "type"],
    "properties": {
        "field": {
            "type": "string",
            "description": "The field's dotted path, e.g. `organisation.cvr` (a query "
            "parameter's or header's name; `body` for the body as a whole).",
        },
        "loc": {
            "type": "array",
            "description": "Where, with the part of the request first: "
            '`["body", "organisation", "cvr"]`.',
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "message": {"type": "string"},
        "type": {"type": "string", "description": "Machine-readable, e.g. `missing`."},
        "message_da": {"type": "string", "description": "`message` in Danish (intake)."},
        "message_en": {"type": "string", "description": "`message` in English (intake)."},
    },
}


def requires(*schemes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a dependency with the schemes that let a caller through it."""

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        setattr(dependency, MARK, tuple(schemes))
        return dependency

    return mark


def _schemes_of(
    dependant: Dependant, named: Mapping[Callable[..., Any], Sequence[str]]
) -> list[str]:
    """The schemes of the first marked dependency found, depth first, in declared order."""
    found: list[str] = []
    for sub in dependant.dependencies:
        call = sub.call
        marked = named.get(call) if call is not None else None
        if marked is None and call is not None:
            marked = getattr(call, MARK, None) or _by_return_type(call)
        if marked is not None:
            found.extend(s for s in marked if s not in found)
        else:
            found.extend(s for s in _schemes_of(sub, named) if s not in found)
    return found


def _by_return_type(call: Callable[..., Any]) -> tuple[str, ...] | None:
    """A dependency that returns the caller as `auth.StaffUser` (staff) or
    `auth.DepartmentSystem` (a department key; `| None`: optional) names its schemes by
    that, as `require_roles` and `require_department` do."""
    from indgang_runtime.auth import DepartmentSystem, StaffUser

    try:
        returned = typing.get_type_hints(call).get("return")
    except Exception:  # an annotation that does not resolve: no claim either way
        return None
    options = typing.get_args(returned) if typing.get_origin(returned) in _UNIONS else ()
    kinds = set(options) or {returned}
    optional = (ANONYMOUS,) if type(None) in kinds else ()
    if DepartmentSystem in kinds:
        return (*optional, DEPARTMENT_KEY)
    if StaffUser in kinds:
        return (*optional, *STAFF)
    return None


def _service_account_scheme(app: FastAPI) -> dict[str, Any] | None:
    token_url = getattr(app.state, "service_account_token_url", "missing")
    if token_url == "missing":
        return None  # the service has no staff sign-in
    if token_url:
        return {
            "type": "oauth2",
            "description": "A service account's bearer token (Authorization: Bearer), "
            "docs/service-accounts.md. Development: POST /auth/token with the client's id "
            "and secret.",
            "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": {}}},
        }
    runtime = getattr(app.state, "runtime", None)
    issuer = getattr(getattr(runtime, "settings", None), "oidc_issuer", None) or ""
    return {
        "type": "openIdConnect",
        "description": "A service account's access token from the identity provider "
        "(client credentials, audience OIDC_API_AUDIENCE), as Authorization: Bearer.",
        "openIdConnectUrl": f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    }


def _requirements(schemes: Sequence[str]) -> list[dict[str, list[str]]]:
    return [{} if s == ANONYMOUS else {s: []} for s in schemes]


def _add_errors(operation: dict[str, Any], secured: bool) -> None:
    responses = operation.setdefault("responses", {})
    for code in ERRORS:
        if code in _SECURED_ONLY and not secured:
            continue
        existing = responses.get(code, {})
        declared = [m.get("schema") for m in existing.get("content", {}).values()]
        if code != "422" and any(schema != _PROBLEM_REF for schema in declared):
            continue  # the route's own (the token endpoint's OAuth2 errors, RFC 6749)
        responses[code] = {
            "description": existing.get("description") or ERRORS[code],
            "content": {
                media: {"schema": _PROBLEM_REF}
                for media in ("application/problem+json", "application/json")
            },
            **(
                {"headers": {**_ERROR_HEADERS.get(code, {}), **existing.get("headers", {})}}
                if code in _ERROR_HEADERS or "headers" in existing
                else {}
            ),
        }


def _document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    config = app.state.openapi_security
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = schema.setdefault("components", {})
    used: set[str] = set()
    paths = schema.get("paths", {})
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # the route as included (prefix, the router's dependencies)
        if not route.include_in_schema:
            continue
        item = paths.get(route.path_format, {})
        for method in route.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            schemes = _schemes_of(route.dependant, config["named"])
            declared = operation.get("security")
            if schemes:  # they stand for FastAPI's own (Security(...)), if any
                operation["security"] = _requirements(schemes)
            elif declared is None and route.path_format in config["public"]:
                operation["security"] = []
            secured = any(operation.get("security") or [])
            for requirement in operation.get("security") or []:
                used.update(requirement)
            _add_errors(operation, secured)
    available = dict(_STATIC_SCHEMES)
    account = _service_account_scheme(app)
    if account is not None:
        available[SERVICE_ACCOUNT] = account
    security_schemes = components.setdefault("securitySchemes", {})
    for name in sorted(used):
        if name in available:
            security_schemes[name] = available[name]
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas["FieldError"] = FIELD_ERROR
    schemas["InvalidField"] = INVALID_FIELD
    app.openapi_schema = schema
    return schema


def document_api(
    app: FastAPI,
    *,
    schemes: Mapping[Callable[..., Any], Sequence[str]] | None = None,
    public: Iterable[str] = (),
) -> None:
    """Security schemes and error responses in `app`'s OpenAPI (see the module)."""
    config = getattr(app.state, "openapi_security", None)
    if config is None:
        config = app.state.openapi_security = {"named": {}, "public": set()}
        app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    config["named"].update(schemes or {})
    config["public"].update(public)
    app.openapi_schema = None
