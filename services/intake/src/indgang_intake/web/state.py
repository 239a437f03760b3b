"""What the web layer uses, read from `app.state`, where `create_app` put it.

The routers are module-level and built once; a route names what it needs with
one of these `Annotated` aliases (`indgang_runtime.web.from_state`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.settings import IntakeSettings
from indgang_intake.web.guards import RateLimits
from indgang_runtime.auth import DepartmentKeys
from indgang_runtime.web import from_state

Settings = Annotated[IntakeSettings, Depends(from_state("settings", IntakeSettings))]
Repository = Annotated[InquiryRepository, Depends(from_state("repository", InquiryRepository))]
Idempotency = Annotated[IdempotencyStore, Depends(from_state("idempotency", IdempotencyStore))]
Limits = Annotated[RateLimits, Depends(from_state("limits", RateLimits))]
Keys = Annotated[DepartmentKeys, Depends(from_state("department_keys", DepartmentKeys))]
