"""Notifications' own production checks (its hook on the shared ones): the admin key,
plain-HTTP webhooks and the subscriptions file with its webhook secrets."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from indgang_notifications.settings import DEVELOPMENT_ADMIN_API_KEY, NotificationSettings
from indgang_runtime.settings import UnsafeForProduction

ROOT = Path(__file__).resolve().parents[3]


def production(**values: Any) -> NotificationSettings:
    """Fully configured for production, the packaged subscriptions file, no admin key."""
    return NotificationSettings(
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


def problems_of(settings: NotificationSettings) -> list[str]:
    with pytest.raises(UnsafeForProduction) as refused:
        settings.check_production()
    return refused.value.problems


def subscriptions(path: Path, secret: str) -> Path:
    path.write_text(
        '[[subscription]]\nid = "jobcenter-fagsystem"\nname = "Jobcentret"\n'
        'event_types = ["referral-made"]\nchannel = "webhook"\n'
        f'url = "https://jobcenter.kommune.example/hooks"\nsecret = "{secret}"\n'
    )
    return path


def test_a_fully_configured_production_passes(tmp_path: Path) -> None:
    production().check_production()
    production(admin_api_key=secrets.token_urlsafe(32)).check_production()
    good = subscriptions(tmp_path / "subscriptions.toml", secrets.token_urlsafe(32))
    production(subscriptions_file=good).check_production()


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (DEVELOPMENT_ADMIN_API_KEY, "public development value"),
        ("dev-" + "k" * 40, "public development value"),
        ("k" * 31, "has 31 characters"),
    ],
)
def test_a_public_or_short_admin_key_is_refused(key: str, why: str) -> None:
    [problem] = problems_of(production(admin_api_key=key))
    assert problem.startswith("ADMIN_API_KEY")
    assert why in problem


def test_plain_http_webhooks_are_refused() -> None:
    [problem] = problems_of(production(webhook_allow_plain_http=True))
    assert problem.startswith("WEBHOOK_ALLOW_PLAIN_HTTP is true")


def test_the_development_subscriptions_file_is_refused() -> None:
    [problem] = problems_of(production(subscriptions_file=ROOT / "deploy/dev/subscriptions.toml"))
    assert "is the development subscriptions file" in problem


@pytest.mark.parametrize(
    "secret", ["dev-webhook-secret-jobcenter", "replace-with-a-long-random-secret"]
)
def test_a_public_webhook_secret_is_refused(tmp_path: Path, secret: str) -> None:
    path = subscriptions(tmp_path / "subscriptions.toml", secret)
    [problem] = problems_of(production(subscriptions_file=path))
    assert problem.startswith(f"SUBSCRIPTIONS_FILE ({path}): the webhook secret of jobcenter")


def test_the_shared_checks_come_first_and_all_are_listed() -> None:
    settings = NotificationSettings(
        environment="production",
        admin_api_key=DEVELOPMENT_ADMIN_API_KEY,
        webhook_allow_plain_http=True,
        subscriptions_file=ROOT / "deploy/dev/subscriptions.toml",
    )
    assert [p.split(" ")[0] for p in problems_of(settings)] == [
        "SESSION_SECRET",
        "SESSION_HTTPS_ONLY",
        "AUTH_MODE=local:",
        "ADMIN_API_KEY",
        "WEBHOOK_ALLOW_PLAIN_HTTP",
        "SUBSCRIPTIONS_FILE",
    ]
    NotificationSettings(
        environment="development",
        admin_api_key=DEVELOPMENT_ADMIN_API_KEY,
        webhook_allow_plain_http=True,
        subscriptions_file=ROOT / "deploy/dev/subscriptions.toml",
    ).check_production()


def test_make_ups_admin_key_is_the_one_production_refuses() -> None:
    script = (ROOT / "deploy/services.sh").read_text()
    default = re.search(r'ADMIN_API_KEY="\$\{ADMIN_API_KEY:-([^}]*)\}"', script)
    assert default is not None
    assert default.group(1) == DEVELOPMENT_ADMIN_API_KEY
