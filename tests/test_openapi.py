"""Every service's OpenAPI document is exact about access and failure (issue 15, point 1):
every operation declares its security (or is explicitly public, `security: []`), every
scheme it names is declared, and it lists the error responses 401 and 403 (when secured),
404, 409, 422 and 429, each with the one shared problem-details body."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

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
