"""Programs as staff clients: service accounts with short-lived bearer tokens.

A program (a department's case system, a script of the team's) calls a staff API as a
staff member does, with roles, but with `Authorization: Bearer <token>` instead of a
session cookie:

- **Development (`AUTH_MODE=local`, `make up`)**: `POST /auth/token` is a small OAuth2
  client-credentials endpoint (RFC 6749 § 4.4). The accounts are in
  `SERVICE_ACCOUNTS_FILE` (TOML `[[account]]`: `client_id`, `name`, `sha256` of the
  secret, `roles`, and `staff_id` to act within a consultant's scope); a token is a JWT
  signed with HS256 by a key derived from `SESSION_SECRET`, valid
  `SERVICE_ACCOUNT_TOKEN_MINUTES` (15). Every service with staff sign-in has the
  endpoint, and with the same `SESSION_SECRET` (as under `make up`) a token from one is
  accepted by all.
- **Production (`AUTH_MODE=oidc`)**: the municipality's identity provider issues the
  tokens (its client-credentials grant); a service accepts one only if its signature
  verifies against the issuer's JWKS (`OIDC_ISSUER`'s discovery document), `iss` is
  `OIDC_ISSUER`, `aud` contains `OIDC_API_AUDIENCE` and it has not expired; the roles
  come from `OIDC_ROLES_CLAIM`. There is no local token endpoint in production (it
  refuses `AUTH_MODE=local`), so the development secrets cannot be used there. Without
  `OIDC_API_AUDIENCE` no bearer token is accepted.

`BearerMiddleware` (pure ASGI, outside the session middleware) checks the token of
every request that carries one shaped as a JWT (other bearer values — department API
keys, `OPERATIONS_TOKEN`, `GUIDE_READER_KEY` — pass on untouched); a bad or expired one
is 401 with `WWW-Authenticate: Bearer error="invalid_token"`. A good one makes the
account the request's staff user (`indgang_runtime.auth.current_user`), with its roles,
and the session middleware then ignores any cookie: a bearer request has no session, so
no CSRF token is needed (nothing a browser sends by itself authenticates it), while
cookie sessions keep the CSRF check. Each bearer request is audit-logged with the client
id (`service_account_request`: client, staff id, method, path, status), as token
issuing is (`service_account_token`); never a secret or a token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote_plus

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Form, Request, status
from fastapi.responses import JSONResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indgang_runtime.settings import ServiceSettings
from indgang_runtime.telemetry import traced_http

log = structlog.get_logger(__name__)

# Where the middleware puts the bearer request's staff user (a StaffUser as a dict).
SCOPE_KEY = "indgang.service_account"
# Set on requests that have no session whatever cookie they carry (the token endpoint:
# its own credentials authenticate it, so a cookie neither helps nor needs a CSRF token).
SESSIONLESS = "indgang.sessionless"
LOCAL_ISSUER = "indgang-local"
LOCAL_AUDIENCE = "indgang-staff-api"
TOKEN_PATH = "/auth/token"
_ROLES = ("consultant", "team_lead", "management", "guide_editor", "admin")


class InvalidServiceAccounts(ValueError):
    """The service accounts file has an entry that cannot be used."""


@dataclass(frozen=True)
class ServiceAccount:
    """A program's account: who it is (`client_id`, `name`), what it may (`roles`) and,
    for a consultant's program, whose cases it works on (`staff_id`)."""

    client_id: str
    name: str
    sha256: str
    roles: frozenset[str]
    staff_id: str | None = None
    email: str = ""

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.client_id,
            "client_id": self.client_id,
            "name": self.name,
            "roles": sorted(self.roles),
            **({"staff_id": self.staff_id} if self.staff_id else {}),
            **({"email": self.email} if self.email else {}),
        }


def _account(index: int, raw: dict[str, Any]) -> ServiceAccount:
    what = f"[[account]] number {index}"
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidServiceAccounts(f"{what}: client_id must be a non-empty string.")
    digest = raw.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64:
        raise InvalidServiceAccounts(f"{what} ({client_id}): sha256 of the secret is missing.")
    roles = raw.get("roles", [])
    unknown = sorted(set(roles) - set(_ROLES))
    if not roles or unknown:
        raise InvalidServiceAccounts(
            f"{what} ({client_id}): roles must be some of {', '.join(_ROLES)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            + "."
        )
    return ServiceAccount(
        client_id=client_id.strip(),
        name=str(raw.get("name") or client_id),
        sha256=digest.lower(),
        roles=frozenset(roles),
        staff_id=raw.get("staff_id"),
        email=str(raw.get("email", "")),
    )


class ServiceAccounts:
    """The accounts of `SERVICE_ACCOUNTS_FILE` (secrets stored as SHA-256: they are long
    random values, not passwords)."""

    def __init__(self, accounts: list[ServiceAccount]) -> None:
        self._accounts = {a.client_id: a for a in accounts}

    @classmethod
    def load(cls, path: Path) -> ServiceAccounts:
        with path.open("rb") as f:
            data = tomllib.load(f)
        return cls([_account(n, raw) for n, raw in enumerate(data.get("account", []), 1)])

    def knows(self, client_id: str) -> bool:
        return client_id in self._accounts

    def authenticate(self, client_id: str, secret: str) -> ServiceAccount | None:
        account = self._accounts.get(client_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        expected = account.sha256 if account else "0" * 64  # the same work when unknown
        if hmac.compare_digest(digest, expected) and account is not None:
            return account
        return None


class InvalidToken(Exception):
    """The bearer token is not one this service accepts (why: the message, for the log)."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, if it is valid now; else `InvalidToken`."""
        ...


def local_signing_key(session_secret: str) -> OctKey:
    """The development tokens' HS256 key, derived from `SESSION_SECRET` (never the secret
    itself, so a token leaks nothing about the cookies' key)."""
    derived = hmac.new(session_secret.encode(), b"indgang-service-account-tokens", "sha256")
    return OctKey.import_key(derived.digest())


class LocalTokens:
    """Issues and verifies the development tokens (`AUTH_MODE=local`)."""

    def __init__(
        self, session_secret: str, lifetime_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = local_signing_key(session_secret)
        self.lifetime = lifetime_seconds
        self.clock = clock

    def issue(self, account: ServiceAccount) -> str:
        now = int(self.clock())
        claims = {
            **account.claims(),
            "iss": LOCAL_ISSUER,
            "aud": LOCAL_AUDIENCE,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, self.key)

    async def verify(self, token: str) -> dict[str, Any]:
        return _checked(token, self.key, LOCAL_ISSUER, LOCAL_AUDIENCE, ["HS256"], self.clock)


def _checked(
    token: str,
    key: Any,
    issuer: str,
    audience: str,
    algorithms: list[str],
    clock: Callable[[], float],
) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, key, algorithms=algorithms)
        registry = jwt.JWTClaimsRegistry(
            now=int(clock()),
            leeway=30,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise InvalidToken(type(exc).__name__) from None
    return dict(decoded.claims)


class OidcTokens:
    """Verifies the identity provider's access tokens (`AUTH_MODE=oidc`): signature by the
    issuer's JWKS (fetched from its discovery document, refetched once when a token names
    an unknown key), `iss`, `aud` and `exp`."""

    _ALGORITHMS: ClassVar[list[str]] = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer  # `iss` must equal it exactly, a trailing slash too
        self.audience = audience
        self.http = http
        self.clock = clock
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def _get(self, url: str) -> dict[str, Any]:
        if self.http is not None:
            response = await self.http.get(url)
        else:
            async with traced_http(httpx.AsyncClient(timeout=5.0)) as client:
                response = await client.get(url)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def keys(self, refresh: bool = False) -> KeySet:
        async with self._lock:
            # At most one refetch a minute: unknown key ids cannot make us hammer the IdP.
            if self._keys is None or (refresh and self.clock() - self._fetched > 60):
                discovery = await self._get(
                    f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
                )
                jwks: Any = await self._get(discovery["jwks_uri"])
                self._keys = KeySet.import_key_set(jwks)
                self._fetched = self.clock()
            return self._keys

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            keys = await self.keys()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise InvalidToken(f"jwks unavailable: {type(exc).__name__}") from None
        try:
            return _checked(token, keys, self.issuer, self.audience, self._ALGORITHMS, self.clock)
        except InvalidToken:
            if self.clock() - self._fetched <= 60:
                raise
            # The IdP may have rotated its keys since we fetched them.
            keys = await self.keys(refresh=True)
            return _checked(token, keys, self.issuer, self.audience, self._ALGORITHMS, self.clock)


def staff_user_of(claims: dict[str, Any], roles_claim: str = "roles") -> dict[str, Any]:
    """The staff user (as `auth.StaffUser`'s fields) a token's claims stand for.

    The id is `staff_id` (a consultant's program works within that consultant's scope)
    or else the client's id, so the audit trail names the program; `client_id` always
    names the program."""
    client = str(
        claims.get("client_id") or claims.get("azp") or claims.get("appid") or claims["sub"]
    )
    raw_roles = claims.get(roles_claim) or []
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    return {
        "id": str(claims.get("staff_id") or client),
        "name": str(claims.get("name") or client),
        "email": str(claims.get("email", "")),
        "roles": sorted(r for r in raw_roles if r in _ROLES),
        "client_id": client,
    }


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and all(token.split("."))


def _problem(status_code: int, title: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status_code, "detail": detail}


class BearerMiddleware:
    """The staff user of a request with a bearer token (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier, roles_claim: str) -> None:
        self.app = app
        self.verifier = verifier
        self.roles_claim = roles_claim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TOKEN_PATH:
            scope[SESSIONLESS] = True
        authorization = Headers(scope=scope).get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not _looks_like_jwt(token):
            await self.app(scope, receive, send)
            return
        try:
            claims = await self.verifier.verify(token)
            user = staff_user_of(claims, self.roles_claim)
        except (InvalidToken, KeyError) as exc:
            log.warning(
                "service_account_request",
                outcome="invalid_token",
                reason=str(exc)[:80],
                method=scope["method"],
                path=scope["path"],
            )
            body = _problem(401, "Unauthorized", "The bearer token is invalid or has expired.")
            response = JSONResponse(
                body,
                status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                media_type="application/problem+json",
            )
            await response(scope, receive, send)
            return
        scope[SCOPE_KEY] = user
        answered: list[int] = []

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])
            await send(message)

        with structlog.contextvars.bound_contextvars(client_id=user["client_id"]):
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                log.info(
                    "service_account_request",
                    outcome="answered",
                    client_id=user["client_id"],
                    user_id=user["id"],
                    method=scope["method"],
                    path=scope["path"],
                    status=answered[0] if answered else None,
                )


def _oauth_error(code: int, error: str, description: str, **headers: str) -> Response:
    # RFC 6749 § 5.2: the error shape OAuth2 clients (httpx-auth, authlib, ...) understand.
    return JSONResponse(
        {"error": error, "error_description": description},
        code,
        headers={"Cache-Control": "no-store", **headers},
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote_plus(client_id), unquote_plus(secret)


_OAUTH_ERROR: dict[str, Any] = {
    "title": "OAuthError",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def token_router(accounts: ServiceAccounts, tokens: LocalTokens, limits: Any) -> APIRouter:
    """`POST /auth/token`: the development client-credentials endpoint."""
    router = APIRouter(tags=["service accounts"])

    @router.post(
        TOKEN_PATH,
        summary="A bearer token for a service account (OAuth2 client credentials, development)",
        description="Form fields `grant_type=client_credentials`, `client_id` and "
        "`client_secret` (or the client's id and secret as HTTP Basic). Answers "
        '`{"access_token", "token_type": "Bearer", "expires_in"}`; send the token as '
        "`Authorization: Bearer <token>` to the staff APIs. Errors per RFC 6749 § 5.2 "
        "(`invalid_client` 401, `unsupported_grant_type` 400); repeated failures 429. "
        "Only with AUTH_MODE=local: in production the identity provider issues tokens.",
        openapi_extra={
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string", "format": "password"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The token.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["access_token", "token_type", "expires_in"],
                                "properties": {
                                    "access_token": {"type": "string"},
                                    "token_type": {"type": "string", "enum": ["Bearer"]},
                                    "expires_in": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                **{
                    code: {
                        "description": description,
                        "content": {"application/json": {"schema": _OAUTH_ERROR}},
                    }
                    for code, description in (
                        ("400", "unsupported_grant_type or invalid_request (RFC 6749 § 5.2)."),
                        ("401", "invalid_client: unknown client or wrong secret."),
                        ("429", "slow_down: too many failures; wait Retry-After seconds."),
                    )
                },
            },
        },
        response_model=None,
    )
    async def token(
        request: Request,
        grant_type: str = Form(""),
        client_id: str = Form(""),
        client_secret: str = Form(""),
    ) -> Response:
        from indgang_runtime.auth import client_address

        basic = _basic_credentials(request)
        if basic is not None:
            client_id, client_secret = basic
        address = client_address(request)
        if grant_type != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is offered."
            )
        wait = limits.retry_after(client_id, address)
        if wait:
            log.warning("service_account_token", outcome="rate_limited", client=address)
            return _oauth_error(
                429, "slow_down", "Too many failed attempts.", **{"Retry-After": str(wait)}
            )
        account = accounts.authenticate(client_id.strip(), client_secret)
        if account is None:
            limits.failed(client_id, address)
            log.warning(
                "service_account_token",
                outcome="failed",
                # Only a known client's id: a mistyped secret pasted as id stays out.
                client_id=client_id if accounts.knows(client_id) else None,
                client=address,
            )
            return _oauth_error(
                401,
                "invalid_client",
                "Unknown client or wrong secret.",
                **{"WWW-Authenticate": 'Basic realm="indgang"'},
            )
        limits.succeeded(client_id)
        log.info(
            "service_account_token", outcome="issued", client_id=account.client_id, client=address
        )
        return JSONResponse(
            {
                "access_token": tokens.issue(account),
                "token_type": "Bearer",
                "expires_in": tokens.lifetime,
            },
            headers={"Cache-Control": "no-store"},
        )

    return router


def install_service_accounts(app: FastAPI, settings: ServiceSettings, limits: Any) -> None:
    """Bearer tokens on every staff API of `app`, and in development the token endpoint.
    Called by `auth.install_auth` after the session middleware (so it runs outside it)."""
    verifier: TokenVerifier | None = None
    roles_claim = settings.oidc_roles_claim
    if settings.auth_mode == "local":
        roles_claim = "roles"
        tokens = LocalTokens(settings.session_secret, settings.service_account_token_minutes * 60)
        verifier = tokens
        if settings.service_accounts_file.is_file():
            accounts = ServiceAccounts.load(settings.service_accounts_file)
            app.include_router(token_router(accounts, tokens, limits))
        app.state.service_account_token_url = TOKEN_PATH
    elif settings.oidc_issuer and settings.oidc_api_audience:
        verifier = OidcTokens(settings.oidc_issuer, settings.oidc_api_audience)
        app.state.service_account_token_url = None
    if verifier is not None:
        app.add_middleware(BearerMiddleware, verifier=verifier, roles_claim=roles_claim)
