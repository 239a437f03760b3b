"""Staff sign-in and department API keys, shared by every service's pages and APIs.

Staff: OpenID Connect in production (any issuer: Entra ID, Keycloak, ...; roles
from a claim), or a local users file for `make up` and tests. Sessions are
signed cookies (itsdangerous via Starlette). Roles: consultant, team_lead,
guide_editor, admin. Department systems use API keys (header `X-API-Key`),
stored as SHA-256 hashes in a file, each tied to one department.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware

from indgang_contracts.events import Department
from indgang_runtime.pages import Translations, language
from indgang_runtime.settings import ServiceSettings

ROLES = ("consultant", "team_lead", "guide_editor", "admin")


class StaffUser(BaseModel):
    id: str
    name: str
    email: str
    roles: frozenset[str]
    department: str | None = None

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, rounds, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(rounds))
    return hmac.compare_digest(digest.hex(), expected)


class LocalUsers:
    """The local users file (TOML `[[user]]` tables with a password hash)."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            data = tomllib.load(f)
        self._users = {u["id"]: u for u in data.get("user", [])}

    def authenticate(self, user_id: str, password: str) -> StaffUser | None:
        raw = self._users.get(user_id.strip())
        if raw is None or not verify_password(password, raw["password"]):
            return None
        return StaffUser(
            id=raw["id"],
            name=raw["name"],
            email=raw["email"],
            roles=frozenset(raw.get("roles", [])),
            department=raw.get("department"),
        )


def development_key(department: Department) -> str:
    """A department system's public development key (deploy/dev/api-keys.toml)."""
    return f"dev-key-{department.value}"


class DepartmentKeys:
    """API keys of department systems (TOML `[[key]]` with `department` and `sha256`)."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            data = tomllib.load(f)
        self._keys = [(k["sha256"], Department(k["department"])) for k in data.get("key", [])]

    def department_for(self, presented: str) -> Department | None:
        digest = hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for expected, department in self._keys:
            if hmac.compare_digest(digest, expected):
                found = department
        return found

    def development_keys(self) -> list[str]:
        """The public development keys (one per department in the contracts) this file
        accepts: none in production."""
        keys = (development_key(department) for department in Department)
        return [key for key in keys if self.department_for(key) is not None]


def current_user(request: Request) -> StaffUser | None:
    raw = request.session.get("user") if "session" in request.scope else None
    return StaffUser.model_validate(raw) if raw else None


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def require_roles(*roles: str) -> Callable[[Request], StaffUser]:
    """A dependency: the signed-in staff user with one of `roles` (admin always passes).

    No session: browsers are sent to the login page, API clients get 401.
    Wrong role: 403 for both.
    """

    def dependency(request: Request) -> StaffUser:
        user = current_user(request)
        if user is None:
            if _wants_html(request):
                target = quote(
                    str(request.url.path) + ("?" + request.url.query if request.url.query else "")
                )
                raise HTTPException(
                    status.HTTP_303_SEE_OTHER, headers={"Location": f"/auth/login?next={target}"}
                )
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
        if roles and not user.has_any(*roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow this")
        return user

    return dependency


def require_department(keys: DepartmentKeys) -> Callable[[Request], Department]:
    """A dependency: the department whose API key is in `X-API-Key` (or a Bearer token)."""

    def dependency(request: Request) -> Department:
        presented = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if not presented and auth.lower().startswith("bearer "):
            presented = auth[7:].strip()
        if not presented:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "API key required (X-API-Key)")
        department = keys.department_for(presented)
        if department is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "unknown API key")
        return department

    return dependency


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after login.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def install_auth(
    app: FastAPI,
    settings: ServiceSettings,
    templates: Jinja2Templates,
    translations: Translations,
    page_context: Callable[[Request], dict[str, Any]],
) -> None:
    """Session middleware plus /auth/login, /auth/callback (OIDC) and /auth/logout."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="indgang_session",
        same_site="lax",
        https_only=settings.session_https_only,
        max_age=8 * 3600,
    )
    router = APIRouter(prefix="/auth", tags=["staff sign-in"], include_in_schema=False)
    oauth_client: Any = None
    if settings.auth_mode == "oidc":
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register(
            "oidc",
            server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            client_kwargs={"scope": "openid email profile"},
        )
        oauth_client = oauth.create_client("oidc")
    users = LocalUsers(settings.users_file) if settings.auth_mode == "local" else None

    def login_page(request: Request, failed: bool, next_: str, code: int = 200) -> Response:
        lang = language(request)
        return templates.TemplateResponse(
            request,
            "indgang/login.html",
            {
                **page_context(request),
                "lang": lang,
                "t": translations.gettext(lang),
                "failed": failed,
                "next": next_,
            },
            status_code=code,
        )

    @router.get("/login", response_model=None)
    async def login(request: Request, next: str = "/") -> Response:
        if oauth_client is not None:
            request.session["next"] = _safe_next(next)
            redirect_uri = str(request.url_for("oidc_callback"))
            response: Response = await oauth_client.authorize_redirect(request, redirect_uri)
            return response
        return login_page(request, False, _safe_next(next))

    @router.post("/login", response_model=None)
    async def login_submit(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        user = users.authenticate(username, password) if users else None
        if user is None:
            return login_page(request, True, _safe_next(next), status.HTTP_401_UNAUTHORIZED)
        request.session["user"] = user.model_dump(mode="json")
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)

    @router.get("/callback", name="oidc_callback", response_model=None)
    async def oidc_callback(request: Request) -> Response:
        if oauth_client is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        token = await oauth_client.authorize_access_token(request)
        claims = token.get("userinfo") or {}
        roles = claims.get(settings.oidc_roles_claim) or []
        request.session["user"] = StaffUser(
            id=str(claims.get("preferred_username") or claims["sub"]),
            name=str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
            email=str(claims.get("email", "")),
            roles=frozenset(r for r in roles if r in ROLES),
        ).model_dump(mode="json")
        return RedirectResponse(_safe_next(request.session.pop("next", "/")), 303)

    @router.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)

    app.include_router(router)
