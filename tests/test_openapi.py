"""Every service's OpenAPI document is exact about access and failure (issue 15, point 1):
every operation declares its security (or is explicitly public, `security: []`), every
scheme it names is declared, and it lists the error responses 401 and 403 (when secured),
404, 409, 422 and 429, each with the one shared problem-details body; and each service's
errors really are that body (RFC 9457), valid against its own document."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
import jsonschema
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.examples import INQUIRY_RECEIVED

SERVICES = ("intake", "routing", "notifications", "guide", "reporting")
ERRORS = ("404", "409", "422", "429")
SECURED_ERRORS = ("401", "403")
PROBLEM = {"$ref": "#/components/schemas/Problem"}
# Explicitly public operations (`security: []`), and why.
PUBLIC = {
    ("get", "/health/live"),  # probes
    ("get", "/health/ready"),
    ("post", "/auth/token"),  # its own credentials are in the body (client credentials)
    ("get", "/api/v1/inquiries/{inquiry_id}/status"),  # by an id nobody can guess
}


def document(service: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("ENVIRONMENT", "development")
    app = importlib.import_module(f"indgang_{service}.app").create_app()
    schema: dict[str, Any] = app.openapi()
    return schema


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_declares_security_and_errors(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = document(service, monkeypatch)
    schemes = doc["components"].get("securitySchemes", {})
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    missing: list[str] = []
    for method, path, operation in operations(doc):
        where = f"{method.upper()} {path}"
        security = operation.get("security")
        if security is None:
            missing.append(f"{where}: no security and not marked public")
            continue
        if security == []:
            assert (method, path) in PUBLIC, f"{where} is public: add it to PUBLIC with why"
        for requirement in security:
            for name in requirement:
                assert name in schemes, f"{where} names undeclared scheme {name}"
        secured = any(requirement for requirement in security)
        responses = operation["responses"]
        for code in ERRORS + (SECURED_ERRORS if secured else ()):
            assert code in responses, f"{where} does not declare {code}"
            if path == "/auth/token" and code in ("400", "401", "429"):
                continue  # OAuth2's own error body (RFC 6749 § 5.2)
            content = responses[code]["content"]
            assert content["application/problem+json"]["schema"] == PROBLEM, (where, code)
    assert not missing, "\n".join(missing)


def test_routings_staff_and_department_apis(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = document("routing", monkeypatch)
    paths = doc["paths"]
    staff: list[dict[str, list[str]]] = [{"staffSession": []}, {"serviceAccount": []}]
    assert paths["/api/v1/cases/{case_id}/referrals"]["post"]["security"] == staff
    assert paths["/api/v1/referrals/{referral_id}/answer"]["post"]["security"] == [
        {"departmentKey": []}
    ]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["departmentKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["departmentKey"]["description"],
    }
    assert schemes["serviceAccount"]["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token"
    assert schemes["staffSession"]["in"] == "cookie"
    # The token endpoint is documented as a form with the client-credentials grant.
    token = paths["/auth/token"]["post"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grant_type"]["enum"] == ["client_credentials"]


def test_production_documents_the_identity_providers_discovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from indgang_routing.app import create_app
    from indgang_routing.settings import RoutingSettings

    settings = RoutingSettings(
        environment="development",  # production's other checks are not this test's
        auth_mode="oidc",
        oidc_issuer="https://idp.kommune.example/realms/indgang",
        oidc_client_id="indgang",
        oidc_client_secret="not-used-here",
        oidc_api_audience="indgang-api",
    )
    scheme = create_app(settings).openapi()["components"]["securitySchemes"]["serviceAccount"]
    assert scheme == {
        "type": "openIdConnect",
        "description": scheme["description"],
        "openIdConnectUrl": "https://idp.kommune.example/realms/indgang"
        "/.well-known/openid-configuration",
    }


# --- The errors really are what the documents say -------------------------------------
# Each service answers a 401, 403, 404 and 422 (and 429 where a route has one) as
# problem details (RFC 9457) that validate against the response schema its own OpenAPI
# document declares for that operation and status (issue 15, point 1).


def settings_of(service: str, database: AsyncDatabase[Any], **values: Any) -> Any:
    module = importlib.import_module(f"indgang_{service}.settings")
    kind = next(
        getattr(module, name)
        for name in dir(module)
        if name.endswith("Settings") and getattr(module, name).__module__ == module.__name__
    )
    return kind(environment="development", mongodb_database=database.name, **values)


class Service:
    """One service in this process, prepared by its start-up hooks (its indexes, routing's
    team), but without the rest of its lifespan: nothing consumes, nothing is sent."""

    def __init__(self, service: str, settings: Any) -> None:
        self.app = importlib.import_module(f"indgang_{service}.app").create_app(settings)
        self.document: dict[str, Any] = self.app.openapi()

    async def start(self) -> Service:
        for hook in self.app.state.runtime.on_startup:
            await hook()
        return self

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as http:
            return await http.request(method, path, **kw)

    def client(self) -> httpx.AsyncClient:
        """A client that keeps its cookies (a staff session)."""
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://svc.test")

    async def sign_in(self, client: httpx.AsyncClient, user: str) -> None:
        """A development user's session (deploy/dev/users.toml), with its CSRF token."""
        signed_in = await client.post(
            "/auth/login", data={"username": user, "password": "indgang-dev"}
        )
        assert signed_in.status_code == 303, signed_in.text
        session = await client.get("/auth/session")
        client.headers["X-CSRF-Token"] = session.json()["csrf_token"]

    async def token(self, client_id: str = "sagssystem") -> dict[str, str]:
        """A development service account's bearer token (deploy/dev/service-accounts.toml)."""
        answer = await self.call(
            "POST",
            "/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, f"dev-secret-{client_id}"),
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def check(
        self, response: httpx.Response, code: int, operation: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """`response` is the problem `code`, valid against the document's schema for it
        (the operation's declared response, else the shared `Problem`)."""
        assert response.status_code == code, response.text
        assert response.headers["content-type"] == "application/problem+json"
        schema: dict[str, Any] = PROBLEM
        if operation is not None:
            method, path = operation
            declared = self.document["paths"][path][method]["responses"][str(code)]
            schema = declared["content"]["application/problem+json"]["schema"]
        root = {**schema, "components": self.document["components"]}
        body: dict[str, Any] = response.json()
        jsonschema.Draft202012Validator(root).validate(body)
        assert body["status"] == code
        assert body["type"] == "about:blank"
        assert isinstance(body["title"], str)
        assert body["title"]
        if code == 422:
            assert body["errors"], "a 422 lists the fields in `errors`"
            for error in body["errors"]:
                assert error["field"]
                assert error["message"]
        else:
            assert isinstance(body["detail"], str)
        if code == 401:
            assert response.headers["WWW-Authenticate"]
        if code == 429:
            assert int(response.headers["Retry-After"]) >= 0
        return body


JSON = {"accept": "application/json"}


async def test_intakes_errors_are_problem_details(fresh_db: AsyncDatabase[Any]) -> None:
    intake = Service(
        "intake",
        settings_of("intake", fresh_db, rate_limit_public="1/minute", operations_token="ops-" * 8),
    )
    await intake.start()
    post = ("post", "/api/v1/inquiries")
    unknown_key = await intake.call("POST", post[1], json={}, headers={"X-API-Key": "nope"})
    assert intake.check(unknown_key, 403, post)["detail_en"] == "Unknown API key."
    invalid = await intake.call("POST", post[1], json={"needs": []}, params={"lang": "en"})
    body = intake.check(invalid, 422, post)
    fields = {e["field"]: e for e in body["errors"]}
    assert {"organisation", "contact", "needs"} <= set(fields)
    assert fields["contact"]["message"] == fields["contact"]["message_en"]
    assert fields["contact"]["message_da"] != fields["contact"]["message_en"]
    assert [e["loc"] for e in body["detail"]] == [e["loc"] for e in body["errors"]]
    limited = await intake.call("POST", post[1], json={})
    intake.check(limited, 429, post)
    status = ("get", "/api/v1/inquiries/{inquiry_id}/status")
    missing = await intake.call("GET", "/api/v1/inquiries/no-such-inquiry/status")
    assert intake.check(missing, 404, status)["detail_da"] == "Ukendt henvendelse."
    # Intake's API has no staff operations; its one 401 is the documentation's gate.
    intake.check(await intake.call("GET", "/openapi.json"), 401)


async def test_routings_errors_are_problem_details(fresh_db: AsyncDatabase[Any]) -> None:
    # The guide "down" (a port nobody listens on): its recommendations are not this test's.
    guide = {"guide_url": "http://127.0.0.1:9", "guide_timeout_seconds": 0.5}
    routing = Service("routing", settings_of("routing", fresh_db, **guide))
    await routing.start()
    case = ("get", "/api/v1/cases/{case_id}")
    routing.check(await routing.call("GET", "/api/v1/cases/c-1", headers=JSON), 401, case)
    answer = ("get", "/api/v1/referrals/{referral_id}")
    routing.check(await routing.call("GET", "/api/v1/referrals/r-1"), 401, answer)
    wrong_key = await routing.call("GET", "/api/v1/referrals/r-1", headers={"X-API-Key": "no"})
    routing.check(wrong_key, 403, answer)
    token = await routing.token()
    routing.check(await routing.call("GET", "/api/v1/cases/no-such-case", headers=token), 404, case)
    refer = ("post", "/api/v1/cases/{case_id}/referrals")
    invalid = await routing.call("POST", "/api/v1/cases/c-1/referrals", json={}, headers=token)
    assert {e["field"] for e in routing.check(invalid, 422, refer)["errors"]} >= {"department"}
    # A case (routed from the contract's example inquiry), referred; an answer that
    # contradicts the one recorded is refused (409).
    case_id = await routing.app.state.console.routing.route_inquiry(INQUIRY_RECEIVED)
    referral = {
        "department": "job_centre",
        "purpose": "Afklaring af løntilskud til to ledige.",
        "needs": ["hiring_vulnerable_unemployed"],
        "consent_to_share_contact": True,
    }
    made = await routing.call(
        "POST", f"/api/v1/cases/{case_id}/referrals", json=referral, headers=token
    )
    assert made.status_code == 201, made.text
    answer_path = ("post", "/api/v1/cases/{case_id}/referrals/{referral_id}/answer")
    url = f"/api/v1/cases/{case_id}/referrals/{made.json()['referral_id']}/answer"
    declined = {"status": "declined", "reason": "Ingen plads."}
    assert (await routing.call("POST", url, json=declined, headers=token)).status_code == 200
    accepted = await routing.call("POST", url, json={"status": "accepted"}, headers=token)
    routing.check(accepted, 409, answer_path)


async def test_notifications_errors_are_problem_details(fresh_db: AsyncDatabase[Any]) -> None:
    key = {"X-Admin-Key": "admin-" * 6}
    notifications = Service(
        "notifications", settings_of("notifications", fresh_db, admin_api_key=key["X-Admin-Key"])
    )
    await notifications.start()
    delivery = ("get", "/api/v1/deliveries/{delivery_id}")
    no_one = await notifications.call("GET", "/api/v1/deliveries/d-1", headers=JSON)
    notifications.check(no_one, 401, delivery)
    wrong = await notifications.call("GET", "/api/v1/deliveries/d-1", headers={"X-Admin-Key": "x"})
    notifications.check(wrong, 403, delivery)
    missing = await notifications.call("GET", "/api/v1/deliveries/no-such", headers=key)
    notifications.check(missing, 404, delivery)
    subscription = ("put", "/api/v1/subscriptions/{subscription_id}")
    invalid = await notifications.call(
        "PUT", "/api/v1/subscriptions/s-1", json={"events": 5}, headers=key
    )
    notifications.check(invalid, 422, subscription)


async def test_guides_errors_are_problem_details(fresh_db: AsyncDatabase[Any]) -> None:
    guide = Service("guide", settings_of("guide", fresh_db))
    await guide.start()
    due = ("get", "/api/v1/guide/review-due")
    guide.check(await guide.call("GET", "/api/v1/guide/review-due", headers=JSON), 401, due)
    # The service accounts here are a team lead and a consultant, not guide editors.
    forbidden = await guide.call("GET", "/api/v1/guide/review-due", headers=await guide.token())
    guide.check(forbidden, 403, due)
    one = ("get", "/api/v1/guide/entries/{entry_id}")
    guide.check(await guide.call("GET", "/api/v1/guide/entries/no-such-entry"), 404, one)
    search = ("get", "/api/v1/guide/search")
    invalid = await guide.call("GET", "/api/v1/guide/search", params={"limit": 0})
    assert [e["field"] for e in guide.check(invalid, 422, search)["errors"]] == ["limit"]
    # An editor's session: the guide's own field errors, and an entry's id taken (409).
    entries = ("post", "/api/v1/guide/entries")
    entry: dict[str, Any] = {
        "id": "problem-details-test",
        "section": "offers",
        "kind": "offer",
        "title": "Lokaler",
        "summary": "Kommunen kan oplyse om ledige lokaler.",
        "body": "Et afsnit.",
        "needs": ["business_development"],
        "stages": ["start_up"],
        "audience": "external",
        "owner": "Konsulenten",
        "review_by": "2027-01-01",
        "status": "draft",
        "provider": "Kommunen",
        "sources": [{"title": "Kommunen", "url": "https://www.ikast-brande.dk"}],
    }
    async with guide.client() as editor:
        await guide.sign_in(editor, "redaktoer")
        broken = await editor.post(entries[1], json={**entry, "provider": "", "section": ""})
        assert {"provider", "section"} <= {
            e["field"] for e in guide.check(broken, 422, entries)["errors"]
        }
        assert (await editor.post(entries[1], json=entry)).status_code == 201
        guide.check(await editor.post(entries[1], json=entry), 409, entries)


async def test_reportings_errors_are_problem_details(fresh_db: AsyncDatabase[Any]) -> None:
    key = {"X-Reports-Key": "reports-" * 4}
    reporting = Service(
        "reporting", settings_of("reporting", fresh_db, reports_api_key=key["X-Reports-Key"])
    )
    await reporting.start()
    inquiries = ("get", "/api/v1/reports/inquiries")
    anonymous = await reporting.call("GET", "/api/v1/reports/inquiries", headers=JSON)
    reporting.check(anonymous, 401, inquiries)
    wrong = await reporting.call("GET", inquiries[1], headers={"X-Reports-Key": "x"})
    reporting.check(wrong, 403, inquiries)
    reporting.check(await reporting.call("GET", "/api/v1/reports/no-such", headers=key), 404)
    invalid = await reporting.call("GET", inquiries[1], params={"to": "yesterday"}, headers=key)
    assert [e["field"] for e in reporting.check(invalid, 422, inquiries)["errors"]] == ["to"]
