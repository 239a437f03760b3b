"""Who may read the reports: signed-in team leads and management (admins always), and
the municipality's BI tools with the key in `X-Reports-Key` (compared in constant time).
The reports hold no personal data of enterprises; they do name consultants by id."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

from indgang_reporting.web.state import Settings
from indgang_runtime.auth import require_roles

REPORT_ROLES = ("team_lead", "management")
_readers = require_roles(*REPORT_ROLES)


def reader(request: Request, settings: Settings) -> str:
    """A dependency: 'reports-key' for the BI key, else the signed-in reader's id."""
    presented = request.headers.get("x-reports-key")
    if presented is not None:
        if not settings.reports_api_key:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no reports key is set")
        if not hmac.compare_digest(presented.encode(), settings.reports_api_key.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong reports key")
        return "reports-key"
    return _readers(request).id
