"""Who may use the delivery log and the subscriptions API.

Staff sign in (indgang_runtime.auth); scripts and admins use the admin key in
`X-Admin-Key` (the setting `admin_api_key`), compared in constant time. In the
delivery log a consultant sees only the deliveries about their own cases
(`delivery_scope`); team leads, admins and the key see all.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import HTTPException, Request, status

from indgang_notifications.settings import NotificationSettings
from indgang_notifications.web.state import Settings
from indgang_runtime.auth import StaffUser, require_roles

STAFF_ROLES = ("consultant", "team_lead")

_staff = require_roles(*STAFF_ROLES)
_admins = require_roles("admin")


def _admin_key_ok(settings: NotificationSettings, request: Request) -> bool | None:
    """None: no key presented; True/False: the key is right/wrong."""
    presented = request.headers.get("x-admin-key")
    if presented is None:
        return None
    if not settings.admin_api_key:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no admin key is configured")
    if not hmac.compare_digest(presented.encode(), settings.admin_api_key.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong admin key")
    return True


def _key_or_role(
    request: Request, settings: NotificationSettings, role: Callable[[Request], StaffUser]
) -> str:
    if _admin_key_ok(settings, request):
        return "admin-key"
    return role(request).id


def delivery_scope(request: Request, settings: Settings) -> str | None:
    """A dependency: whose deliveries the caller sees — None for all (team leads, admins,
    the admin key), else the signed-in consultant's id (only their cases')."""
    if _admin_key_ok(settings, request):
        return None
    return scope_of(_staff(request))


def scope_of(user: StaffUser) -> str | None:
    return None if user.has_any("team_lead") else user.id


def visible(doc: Mapping[str, Any] | None, scope: str | None) -> bool:
    """Whether a delivery exists for this caller: a consultant is told nothing of other
    consultants' deliveries (404, as for one that does not exist)."""
    return doc is not None and (scope is None or doc.get("consultant_id") == scope)


def admin(request: Request, settings: Settings) -> str:
    """A dependency: the admin key, or a signed-in admin."""
    return _key_or_role(request, settings, _admins)
