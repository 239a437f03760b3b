"""Service accounts: the development token endpoint, bearer tokens on a staff API with the
account's roles, no CSRF for bearer requests (cookie sessions keep it), the production
verifier (signature, iss, aud, exp by the issuer's JWKS) and the audit log."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import Depends, FastAPI, Request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from indgang_runtime.auth import StaffUser, install_auth, require_roles
from indgang_runtime.pages import Translations, mount_assets, page_templates
from indgang_runtime.service_accounts import (
    InvalidServiceAccounts,
    InvalidToken,
    LocalTokens,
    OidcTokens,
    ServiceAccounts,
    staff_user_of,
)
from indgang_runtime.sessions import SessionStore
from indgang_runtime.settings import ServiceSettings

from fake_store import FakeDatabase

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = ROOT / "deploy/dev/service-accounts.toml"


def settings(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "t",
        "mongodb_database": "t",
        "http_port": 1,
        "environment": "development",
        "users_file": ROOT / "deploy/dev/users.toml",
        "service_accounts_file": ACCOUNTS,
        **overrides,
    }
    return ServiceSettings(**values)


def build(config: ServiceSettings | None = None) -> FastAPI:
    app = FastAPI()
    mount_assets(app)
    templates = page_templates(ROOT / "runtime", municipality_name="Testkommune")
    install_auth(
        app,
        config or settings(),
        templates,
        Translations({}),
        lambda request: {"accessibility_statement_url": "/a11y"},
        sessions=SessionStore(FakeDatabase()),
    )

    @app.post("/api/lead")
    async def lead(user: StaffUser = Depends(require_roles("team_lead"))) -> dict[str, Any]:
        return user.model_dump(mode="json")

    @app.post("/api/mine")
    async def mine(
        request: Request, user: StaffUser = Depends(require_roles("consultant"))
    ) -> dict[str, Any]:
        return {"id": user.id, "client_id": user.client_id, "session": dict(request.session)}

    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    answer = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert answer.headers["cache-control"] == "no-store"
    return str(body["access_token"])


async def test_token_then_staff_api_with_the_accounts_roles() -> None:
    async with client_for(build()) as client:
        bearer = await token(client, "sagssystem", "dev-secret-sagssystem")
        made = await client.post("/api/lead", headers={"Authorization": f"Bearer {bearer}"})
        assert made.status_code == 200, made.text
        assert made.json()["id"] == "sagssystem"
        assert made.json()["client_id"] == "sagssystem"
        assert made.json()["roles"] == ["team_lead"]
        assert "set-cookie" not in made.headers  # no session is made for a bearer request
        # A team-lead account has no consultant role: 403, as for a person.
        refused = await client.post("/api/mine", headers={"Authorization": f"Bearer {bearer}"})
        assert refused.status_code == 403


async def test_a_consultants_program_acts_within_that_consultants_scope() -> None:
    async with client_for(build()) as client:
        bearer = await token(client, "ane-kjaer-robot", "dev-secret-ane-kjaer-robot")
        mine = await client.post("/api/mine", headers={"Authorization": f"Bearer {bearer}"})
        assert mine.json() == {"id": "ane-kjaer", "client_id": "ane-kjaer-robot", "session": {}}
        lead = await client.post("/api/lead", headers={"Authorization": f"Bearer {bearer}"})
        assert lead.status_code == 403


async def test_http_basic_client_authentication() -> None:
    basic = base64.b64encode(b"sagssystem:dev-secret-sagssystem").decode()
    async with client_for(build()) as client:
        answer = await client.post(
            "/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert answer.status_code == 200
        assert answer.json()["access_token"].count(".") == 2


async def test_token_endpoint_errors_and_limits() -> None:
    async with client_for(build()) as client:
        grant = await client.post("/auth/token", data={"grant_type": "password"})
        assert grant.status_code == 400
        assert grant.json()["error"] == "unsupported_grant_type"
        for _ in range(6):  # five free failures per client, then a wait
            wrong = await client.post(
                "/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "sagssystem",
                    "client_secret": "guess",
                },
            )
            assert wrong.status_code == 401
            assert wrong.json()["error"] == "invalid_client"
        blocked = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "sagssystem",
                "client_secret": "dev-secret-sagssystem",
            },
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0


async def test_bad_expired_or_foreign_tokens_are_401() -> None:
    app = build()
    account = ServiceAccounts.load(ACCOUNTS).authenticate("sagssystem", "dev-secret-sagssystem")
    assert account is not None
    expired = LocalTokens(settings().session_secret, 60, clock=lambda: time.time() - 3600)
    foreign = LocalTokens("another-session-secret-entirely", 60)
    async with client_for(app) as client:
        for bad in (
            expired.issue(account),
            foreign.issue(account),
            "a.b.c",
            (await token(client, "sagssystem", "dev-secret-sagssystem"))[:-4] + "AAAA",
        ):
            answer = await client.post("/api/lead", headers={"Authorization": f"Bearer {bad}"})
            assert answer.status_code == 401, bad
            assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert answer.headers["content-type"] == "application/problem+json"
        # No credentials at all: 401 naming Bearer as a way in.
        none = await client.post("/api/lead")
        assert none.status_code == 401
        assert none.headers["www-authenticate"] == "Bearer"


async def test_bearer_needs_no_csrf_token_but_a_cookie_session_does() -> None:
    async with client_for(build()) as client:
        # A person signs in: the session cookie is now in the client.
        signed_in = await client.post(
            "/auth/login", data={"username": "ane-kjaer", "password": "indgang-dev"}
        )
        assert signed_in.status_code == 303
        without_token = await client.post("/api/mine")
        assert without_token.status_code == 403  # the session's CSRF check
        assert "CSRF" in without_token.json()["detail"]
        # The same client with a bearer token: the cookie plays no part, no CSRF needed.
        bearer = await token(client, "sagssystem", "dev-secret-sagssystem")
        answer = await client.post("/api/lead", headers={"Authorization": f"Bearer {bearer}"})
        assert answer.status_code == 200
        assert answer.json()["id"] == "sagssystem"


async def test_department_api_keys_as_bearer_pass_untouched() -> None:
    # Not JWT-shaped: the middleware leaves it to the route (here: no staff user).
    async with client_for(build()) as client:
        answer = await client.post(
            "/api/lead", headers={"Authorization": "Bearer dev-key-job_centre"}
        )
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"


async def test_requests_are_audit_logged_with_the_client() -> None:
    async with client_for(build()) as client:
        bearer = await token(client, "ane-kjaer-robot", "dev-secret-ane-kjaer-robot")
        with structlog.testing.capture_logs() as logs:
            await client.post("/api/mine", headers={"Authorization": f"Bearer {bearer}"})
    audit = [e for e in logs if e["event"] == "service_account_request"]
    assert audit == [
        {
            "event": "service_account_request",
            "log_level": "info",
            "outcome": "answered",
            "client_id": "ane-kjaer-robot",
            "user_id": "ane-kjaer",
            "method": "POST",
            "path": "/api/mine",
            "status": 200,
        }
    ]
    assert bearer not in repr(logs)


def test_accounts_file_rules(tmp_path: Path) -> None:
    bad = tmp_path / "accounts.toml"
    bad.write_text('[[account]]\nclient_id = "x"\nroles = ["boss"]\nsha256 = "' + "0" * 64 + '"\n')
    with pytest.raises(InvalidServiceAccounts, match="boss"):
        ServiceAccounts.load(bad)
    accounts = ServiceAccounts.load(ACCOUNTS)
    assert accounts.authenticate("sagssystem", "wrong") is None
    assert accounts.authenticate("nobody", "dev-secret-sagssystem") is None


def test_no_token_endpoint_without_local_sign_in() -> None:
    app = build(
        settings(
            auth_mode="oidc",
            oidc_issuer="https://idp.example",
            oidc_client_id="c",
            oidc_client_secret="s",
        )
    )
    assert "/auth/token" not in {getattr(r, "path", None) for r in app.routes}


class FakeIdp:
    """An identity provider's discovery document and JWKS, and tokens it signs."""

    issuer = "https://idp.example/realms/kommune"

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"jwks_uri": f"{self.issuer}/certs"})
        keys = KeySet([self.key]).as_dict(private=False)
        return httpx.Response(200, json=keys)

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        values = {
            "iss": self.issuer,
            "aud": "indgang-api",
            "azp": "sagssystem",
            "sub": "service-account-sagssystem",
            "roles": ["team_lead", "not-ours"],
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode({"alg": "RS256", "kid": "k1"}, values, self.key)


async def test_production_tokens_are_checked_against_the_issuers_keys() -> None:
    idp = FakeIdp()
    http = httpx.AsyncClient(transport=httpx.MockTransport(idp.handler))
    verifier = OidcTokens(idp.issuer, "indgang-api", http=http)
    claims = await verifier.verify(idp.token())
    assert staff_user_of(claims) == {
        "id": "sagssystem",
        "name": "sagssystem",
        "email": "",
        "roles": ["team_lead"],
        "client_id": "sagssystem",
    }
    for bad in (
        idp.token(aud="another-api"),
        idp.token(iss="https://evil.example"),
        idp.token(exp=int(time.time()) - 120),
        FakeIdp().token(),  # signed by another key
    ):
        with pytest.raises(InvalidToken):
            await verifier.verify(bad)
    await http.aclose()


def test_production_refuses_local_sign_in_so_no_development_secret_works() -> None:
    problems = settings(environment="production").production_problems()
    assert any(p.startswith("AUTH_MODE=local") for p in problems)
