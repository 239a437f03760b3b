"""What the web layer uses, read from `app.state`, where `create_app` put it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from indgang_reporting.adapters.facts import FactStore
from indgang_reporting.settings import ReportingSettings
from indgang_runtime.web import from_state

Settings = Annotated[ReportingSettings, Depends(from_state("settings", ReportingSettings))]
Store = Annotated[FactStore, Depends(from_state("facts", FactStore))]
