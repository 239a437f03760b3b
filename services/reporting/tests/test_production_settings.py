"""Reporting's own production check: the BI key is neither the public development
value nor short; without one the reports are for signed-in staff only."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from indgang_reporting.settings import DEVELOPMENT_REPORTS_API_KEY, ReportingSettings
from indgang_runtime.settings import UnsafeForProduction


def production(**values: Any) -> ReportingSettings:
    return ReportingSettings(
        **{
            "environment": "production",
            "session_secret": secrets.token_urlsafe(48),
            "session_https_only": True,
            "auth_mode": "oidc",
            "oidc_issuer": "https://login.kommune.example/realms/indgang",
            "oidc_client_id": "indgang",
            "oidc_client_secret": secrets.token_urlsafe(32),
            **values,
        }
    )


def test_production_passes_without_a_key_or_with_a_random_one() -> None:
    production().check_production()
    production(reports_api_key=secrets.token_urlsafe(32)).check_production()


@pytest.mark.parametrize("key", [DEVELOPMENT_REPORTS_API_KEY, "short"])
def test_production_refuses_a_public_or_short_key(key: str) -> None:
    with pytest.raises(UnsafeForProduction) as refused:
        production(reports_api_key=key).check_production()
    assert any("REPORTS_API_KEY" in problem for problem in refused.value.problems)
