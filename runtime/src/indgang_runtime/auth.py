"""Staff sign-in and department API keys, shared by every service's pages and APIs.

Staff: OpenID Connect in production (any issuer: Entra ID, Keycloak, ...; roles
from a claim), or a local users file for `make up` and tests. Sessions are kept
in the service's own database and the cookie carries only their signed id
(`indgang_runtime.sessions`); every state-changing request of a session passes
the CSRF check (`indgang_runtime.csrf`). Roles: consultant, team_lead, management (reports),
guide_editor, admin. Department systems use API keys (header `X-API-Key`),
stored as SHA-256 hashes in a file, each tied to one department; a key of the
outside-provider department is tied to one provider too (`DepartmentSystem`).

Password sign-in (local users): attempts are limited per account and per client
address with a growing wait (`LoginLimits`, 429 with Retry-After); an unknown
user costs one hash like a known one, so the time does not tell which accounts
exist; the hash runs in a worker thread (a few at a time), so sign-ins never
stall the event loop (health checks, other requests). Sign-ins, failures,
refusals and sign-outs are audit-logged (user id, client address, outcome; never
a password, nor a name typed that is no account).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from indgang_contracts.events import Department
from indgang_runtime.csrf import CsrfMiddleware
from indgang_runtime.openapi import DEPARTMENT_KEY, STAFF, requires
from indgang_runtime.pages import Translations, language
from indgang_runtime.problems import problem_response
from indgang_runtime.service import repeat
from indgang_runtime.service_accounts import SCOPE_KEY, install_service_accounts
from indgang_runtime.sessions import SessionMiddleware, SessionStore, start_session
from indgang_runtime.settings import ServiceSettings

log = structlog.get_logger(__name__)

ROLES = ("consultant", "team_lead", "management", "guide_editor", "admin")


class StaffUser(BaseModel):
    id: str
    name: str
    email: str
    roles: frozenset[str]
    department: str | None = None
    # A service account's client id (who acted, for the audit); None for a person.
    client_id: str | None = None

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
        # An unknown user is checked against this, as costly as a real user's hash.
        rounds = max((_rounds(u["password"]) for u in self._users.values()), default=600_000)
        self._dummy = f"pbkdf2_sha256${rounds}$dummy$" + "0" * 64

    def knows(self, user_id: str) -> bool:
        return user_id.strip() in self._users

    def authenticate(self, user_id: str, password: str) -> StaffUser | None:
        raw = self._users.get(user_id.strip())
        if raw is None:
            verify_password(password, self._dummy)  # the same time as a known user
            return None
        if not verify_password(password, raw["password"]):
            return None
        return StaffUser(
            id=raw["id"],
            name=raw["name"],
            email=raw["email"],
            roles=frozenset(raw.get("roles", [])),
            department=raw.get("department"),
        )


def _rounds(stored: str) -> int:
    try:
        return int(stored.split("$")[1])
    except (IndexError, ValueError):
        return 600_000


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class LoginLimits:
    """Failed sign-ins per account and per client address, with a growing wait.

    After `free` failures in a row, each further one blocks the key for
    `base_seconds` doubled per failure, at most `max_seconds`; a key is forgotten
    `forget_seconds` after its last failure, and an account's on a successful
    sign-in (an address's is not: one good account must not unlock guessing at
    others). Kept per process: behind several instances each counts its own.
    """

    def __init__(
        self,
        *,
        account_free: int = 5,
        address_free: int = 20,
        base_seconds: float = 30.0,
        max_seconds: float = 900.0,
        forget_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = {"account": account_free, "address": address_free}
        self.base = base_seconds
        self.max = max_seconds
        self.forget = forget_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], _Failures] = {}

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        return [("account", account.strip().lower()), ("address", address)]

    def retry_after(self, account: str, address: str) -> int:
        """Seconds until either key may try again (0: it may now)."""
        now = self.clock()
        waits = [
            f.blocked_until - now
            for key in self._keys(account, address)
            if (f := self._failures.get(key)) is not None
        ]
        return max(0, math.ceil(max(waits, default=0.0)))

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        if len(self._failures) > 100_000:  # bounded memory under a spray of names
            self._failures = {k: f for k, f in self._failures.items() if now - f.last < self.forget}
        for key in self._keys(account, address):
            f = self._failures.get(key)
            if f is None or now - f.last >= self.forget:
                f = self._failures[key] = _Failures()
            f.count += 1
            f.last = now
            over = f.count - self._free[key[0]]
            if over > 0:
                f.blocked_until = now + min(self.max, self.base * 2 ** (over - 1))

    def succeeded(self, account: str) -> None:
        self._failures.pop(("account", account.strip().lower()), None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


PROVIDER_DEVELOPMENT_PREFIX = "dev-key-provider-"


def development_key(department: Department, provider_id: str | None = None) -> str:
    """A department system's public development key (deploy/dev/api-keys.toml):
    `dev-key-<department>`, or `dev-key-provider-<provider id>` for one outside provider's."""
    if provider_id is not None:
        return f"{PROVIDER_DEVELOPMENT_PREFIX}{provider_id}"
    return f"dev-key-{department.value}"


@dataclass(frozen=True)
class DepartmentSystem:
    """Who presented an API key: a department's system, or one outside provider's
    (`department` is then the outside-provider department and `provider_id` names it:
    the provider's id on routing's provider list)."""

    department: Department
    provider_id: str | None = None


class InvalidKeysFile(ValueError):
    """The keys file has an entry that would give a key more than it should."""


def _system_of(index: int, entry: dict[str, Any]) -> DepartmentSystem:
    """The department system one `[[key]]` entry (the `index`th, from 1) stands for.

    Outside providers are not one party: a key of the outside-provider department must
    name its provider (`provider = "<provider id>"`), so that each provider has its own
    key and sees only the referrals sent to it. Other departments' keys name none."""
    what = f"[[key]] number {index}" + (f" ({entry['name']})" if entry.get("name") else "")
    department = Department(entry["department"])
    provider_id = entry.get("provider")
    if provider_id is not None and (not isinstance(provider_id, str) or not provider_id.strip()):
        raise InvalidKeysFile(f"{what}: provider must be the provider's id (a non-empty string).")
    if department is Department.OUTSIDE_PROVIDER and provider_id is None:
        raise InvalidKeysFile(
            f"{what} is an outside provider's key but names no provider: outside providers "
            f'do not share a key. Give each its own [[key]] with provider = "<provider id>" '
            "(its id on routing's provider list)."
        )
    if department is not Department.OUTSIDE_PROVIDER and provider_id is not None:
        raise InvalidKeysFile(
            f"{what} names provider {provider_id!r}, but only keys of the "
            f"{Department.OUTSIDE_PROVIDER.value} department name a provider."
        )
    return DepartmentSystem(department, provider_id.strip() if provider_id else None)


class DepartmentKeys:
    """API keys of department systems (TOML `[[key]]` with `department`, `sha256` and, for
    an outside provider, `provider`). An entry that breaks the rules of `_system_of`
    refuses the whole file (`InvalidKeysFile`), so a service does not start with it."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            data = tomllib.load(f)
        self._keys = [(k["sha256"], _system_of(n, k)) for n, k in enumerate(data.get("key", []), 1)]

    def system_for(self, presented: str) -> DepartmentSystem | None:
        digest = hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for expected, system in self._keys:
            if hmac.compare_digest(digest, expected):
                found = system
        return found

    def development_keys(self) -> list[str]:
        """The public development keys this file accepts (none in production): one per
        department in the contracts, and `dev-key-provider-<id>` for every provider the
        file names."""
        providers = sorted({s.provider_id for _, s in self._keys if s.provider_id is not None})
        keys = [development_key(department) for department in Department] + [
            development_key(Department.OUTSIDE_PROVIDER, provider) for provider in providers
        ]
        return [key for key in keys if self.system_for(key) is not None]


def current_user(request: Request) -> StaffUser | None:
    """The staff user of the request: a service account's bearer token
    (`indgang_runtime.service_accounts`), else the signed-in user of the session, if any."""
    raw = request.scope.get(SCOPE_KEY)
    if raw is None:
        raw = request.session.get("user") if "session" in request.scope else None
    return StaffUser.model_validate(raw) if raw else None


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def require_roles(*roles: str) -> Callable[[Request], StaffUser]:
    """A dependency: the signed-in staff user with one of `roles` (admin always passes).

    No session nor bearer token: browsers are sent to the login page, API clients get 401.
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
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "sign in first (a session, or a service account's bearer token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if roles and not user.has_any(*roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow this")
        return user

    return requires(*STAFF)(dependency)


def require_department(keys: DepartmentKeys) -> Callable[[Request], DepartmentSystem]:
    """A dependency: the department system (department, and provider for an outside
    provider) whose API key is in `X-API-Key` (or a Bearer token)."""

    def dependency(request: Request) -> DepartmentSystem:
        presented = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if not presented and auth.lower().startswith("bearer "):
            presented = auth[7:].strip()
        if not presented:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "API key required (X-API-Key)",
                headers={"WWW-Authenticate": "Bearer"},  # the key is accepted as one too
            )
        system = keys.system_for(presented)
        if system is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "unknown API key")
        return system

    return requires(DEPARTMENT_KEY)(dependency)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after login.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def session_store(app: FastAPI, settings: ServiceSettings) -> SessionStore:
    """The service's staff sessions, in its own database (`app.state.runtime.db`)."""
    runtime = getattr(app.state, "runtime", None)
    if runtime is None:
        raise RuntimeError("staff sign-in needs the service's store: call build_app first")
    return SessionStore(
        runtime.db,
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(minutes=settings.session_lifetime_minutes),
    )


def install_auth(
    app: FastAPI,
    settings: ServiceSettings,
    templates: Jinja2Templates,
    translations: Translations,
    page_context: Callable[[Request], dict[str, Any]],
    *,
    sessions: SessionStore | None = None,
    limits: LoginLimits | None = None,
) -> None:
    """Sessions on the server, the CSRF check, and /auth/login, /auth/callback (OIDC),
    /auth/session and /auth/logout. `sessions` defaults to the service's own store."""
    store = sessions or session_store(app, settings)
    limits = limits or LoginLimits()
    hashing = asyncio.Semaphore(4)  # hashes at once; more sign-ins wait their turn
    trusted = [o for o in settings.csrf_trusted_origins.split(",") if o.strip()]
    # Added first = inside: the CSRF check sees the session the outer middleware loaded.
    app.add_middleware(CsrfMiddleware, trusted_origins=trusted)
    app.add_middleware(
        SessionMiddleware,
        store=store,
        secret_key=settings.session_secret,
        # Secure in production whatever the setting says (production also refuses to
        # start without SESSION_HTTPS_ONLY).
        https_only=settings.session_https_only or settings.environment == "production",
    )
    # Added after the sessions = outside them: a bearer request never has a session.
    install_service_accounts(app, settings, limits)
    runtime = getattr(app.state, "runtime", None)
    if runtime is not None and sessions is None:

        async def purge_sessions() -> None:
            await repeat(lambda: store.purge(datetime.now(UTC)), 3600.0, "staff_sessions_purge")

        runtime.configure(background=[purge_sessions])
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

    def login_page(
        request: Request,
        failed: bool,
        next_: str,
        code: int = 200,
        retry_after: int = 0,
    ) -> Response:
        lang = language(request)
        response = templates.TemplateResponse(
            request,
            "indgang/login.html",
            {
                **page_context(request),
                "lang": lang,
                "t": translations.gettext(lang),
                "failed": failed,
                "retry_minutes": math.ceil(retry_after / 60) if retry_after else 0,
                "next": next_,
            },
            status_code=code,
        )
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

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
        address = client_address(request)
        known = users is not None and users.knows(username)
        audit = {"user_id": username.strip() if known else None, "client": address}
        wait = limits.retry_after(username, address)
        if wait:
            log.warning("staff_login", outcome="rate_limited", retry_after=wait, **audit)
            return login_page(
                request, False, _safe_next(next), status.HTTP_429_TOO_MANY_REQUESTS, wait
            )
        user = None
        if users is not None:
            async with hashing:
                user = await asyncio.to_thread(users.authenticate, username, password)
        if user is None:
            limits.failed(username, address)
            log.warning("staff_login", outcome="failed", known_account=known, **audit)
            return login_page(request, True, _safe_next(next), status.HTTP_401_UNAUTHORIZED)
        limits.succeeded(username)
        start_session(request, {"user": user.model_dump(mode="json")})
        log.info("staff_login", outcome="signed_in", method="password", **audit)
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)

    @router.get("/callback", name="oidc_callback", response_model=None)
    async def oidc_callback(request: Request) -> Response:
        if oauth_client is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        address = client_address(request)
        try:
            token = await oauth_client.authorize_access_token(request)
        except Exception as exc:
            log.warning(
                "staff_login",
                outcome="failed",
                method="oidc",
                client=address,
                error=type(exc).__name__,
            )
            raise
        claims = token.get("userinfo") or {}
        roles = claims.get(settings.oidc_roles_claim) or []
        user = StaffUser(
            id=str(claims.get("preferred_username") or claims["sub"]),
            name=str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
            email=str(claims.get("email", "")),
            roles=frozenset(r for r in roles if r in ROLES),
        )
        next_ = _safe_next(request.session.get("next", "/"))
        start_session(request, {"user": user.model_dump(mode="json")})
        log.info("staff_login", outcome="signed_in", method="oidc", user_id=user.id, client=address)
        return RedirectResponse(next_, 303)

    @router.get("/session", response_model=None)
    async def session(request: Request) -> Response:
        """The signed-in user and the session's CSRF token (for programs that call the
        APIs with the session cookie: send it back as `X-CSRF-Token`)."""
        user = current_user(request)
        if user is None:
            return problem_response(
                request.scope,
                status.HTTP_401_UNAUTHORIZED,
                "sign in first",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return JSONResponse(
            {
                "user": user.model_dump(mode="json"),
                "csrf_token": request.session.setdefault("csrf", secrets.token_urlsafe(24)),
                "csrf_header": "X-CSRF-Token",
            }
        )

    @router.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        user = current_user(request)
        if user is not None:
            log.info(
                "staff_logout",
                outcome="signed_out",
                user_id=user.id,
                client=client_address(request),
            )
        request.session.clear()  # and the session middleware deletes it on the server
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)

    app.include_router(router)
