"""Every HTTP error of every service as problem details (RFC 9457), installed once by
`build_app` (issue 15, point 1).

An error body is `application/problem+json` with

- `type`: `about:blank` (the problem is what the status code says; so `title` is the
  status code's phrase),
- `title`, `status`, and `detail`: what went wrong, a sentence;
- for 422 also `errors`: one item per field, `{"field", "loc", "message", "type"}`
  (`field` the dotted path without the part of the request, e.g. `organisation.cvr`).
  For the clients written before, a 422's `detail` stays FastAPI's list of
  `{"loc", "msg", "type"}` items; read `errors`.

Extra members a service sets stay (intake's `detail_da` and `detail_en`, and on each
field error `msg_da` and `msg_en`, given in `errors` as `message_da` and `message_en`).
Headers stay too: `Retry-After` on 429, `WWW-Authenticate` on 401.

Pages are not changed: a handler that answers a browser with a page still does. A
browser (Accept: text/html) that gets an error as JSON gets it as `application/json`,
which it shows, rather than as a file to download.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

PROBLEM_JSON = "application/problem+json"
BLANK = "about:blank"
# The parts of a request FastAPI names first in a field error's `loc`.
_PARTS = ("body", "query", "path", "header", "cookie")


# RFC 9110's names where Python's `HTTPStatus` still has the older ones.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def title_of(status_code: int) -> str:
    if status_code in _TITLES:
        return _TITLES[status_code]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def field_of(loc: Sequence[Any]) -> str:
    """`["body", "organisation", "cvr"]` → `organisation.cvr`; `["body"]` → `body`."""
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in _PARTS:
        parts = parts[1:]
    return ".".join(parts)


def field_errors(items: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's field errors (`loc`, `msg`, `type`) as the problem's `errors`."""
    errors: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            errors.append({"field": "", "loc": [], "message": str(item), "type": "value_error"})
            continue
        loc = list(item.get("loc") or [])
        error: dict[str, Any] = {
            "field": field_of(loc),
            "loc": loc,
            "message": str(item.get("msg", "")),
            "type": str(item.get("type", "value_error")),
        }
        for key, value in item.items():
            if isinstance(key, str) and key.startswith("msg_"):
                error[f"message_{key[4:]}"] = value
        errors.append(error)
    return errors


def problem(
    status_code: int,
    detail: str | Sequence[Any] | None = None,
    *,
    type_: str = BLANK,
    title: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The problem's body: `detail` a sentence, or (422) the list of field errors."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or title_of(status_code),
        "status": status_code,
    }
    if isinstance(detail, str):
        body["detail"] = detail
    elif detail is None:
        body["detail"] = body["title"]
    else:
        items = list(detail)
        body["detail"] = items  # as before, for the clients written before `errors`
        extra.setdefault("errors", field_errors(items))
    body.update(extra)
    return body


def media_type(scope: Scope) -> str:
    """problem+json, but plain JSON for a browser, which would download the other."""
    accept = Headers(scope=scope).get("accept", "")
    return "application/json" if "text/html" in accept else PROBLEM_JSON


def problem_response(
    scope: Scope,
    status_code: int,
    detail: str | Sequence[Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The error `status_code` as problem details (see the module)."""
    return JSONResponse(
        jsonable_encoder(problem(status_code, detail, **extra)),
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=media_type(scope),
    )


async def http_problem(request: Request, exc: Exception) -> Response:
    """`HTTPException` (the services', FastAPI's and Starlette's own 404 and 405)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400:  # a redirect to the sign-in, say: not an error
        return await http_exception_handler(request, exc)
    detail: Any = exc.detail
    extra: dict[str, Any] = {}
    if isinstance(detail, Mapping):
        extra = {k: v for k, v in detail.items() if k not in ("type", "title", "status")}
        detail = extra.pop("detail", None)
    elif detail is not None and not isinstance(detail, str | list | tuple):
        detail = str(detail)
    return problem_response(request.scope, exc.status_code, detail, headers=exc.headers, **extra)


async def validation_problem(request: Request, exc: Exception) -> Response:
    """FastAPI's request validation: 422 with the field errors."""
    assert isinstance(exc, RequestValidationError)
    return problem_response(request.scope, 422, jsonable_encoder(exc.errors()))


async def server_error_problem(request: Request, exc: Exception) -> Response:
    """An unexpected error: 500 without its cause (that is logged, not told)."""
    return problem_response(
        request.scope, 500, "Something went wrong on our side; try again later."
    )


def install_problems(app: FastAPI) -> None:
    """Errors as problem details for the whole app (`build_app` calls it; a service's own
    handler for an exception class takes over from it for that class)."""
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(Exception, server_error_problem)
