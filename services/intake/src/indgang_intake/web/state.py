"""What the web layer uses, read from `app.state`, where `create_app` put it.

The routers are module-level and built once; a route names what it needs with
one of these dependencies (`Annotated` aliases), each returning
`request.app.state.<thing>`. The plain functions serve code that has a request
but is no route (rendering a page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.settings import IntakeSettings
from indgang_intake.web.guards import RateLimits
from indgang_runtime.auth import DepartmentKeys


def settings_of(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def repository_of(request: Request) -> InquiryRepository:
    repository: InquiryRepository = request.app.state.repository
    return repository


def idempotency_of(request: Request) -> IdempotencyStore:
    idempotency: IdempotencyStore = request.app.state.idempotency
    return idempotency


def limits_of(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.limits
    return limits


def department_keys_of(request: Request) -> DepartmentKeys:
    keys: DepartmentKeys = request.app.state.department_keys
    return keys


Settings = Annotated[IntakeSettings, Depends(settings_of)]
Repository = Annotated[InquiryRepository, Depends(repository_of)]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_of)]
Limits = Annotated[RateLimits, Depends(limits_of)]
Keys = Annotated[DepartmentKeys, Depends(department_keys_of)]
