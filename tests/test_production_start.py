"""A service started with ENVIRONMENT=production (the images' setting and the default)
and the development defaults refuses to start: the list of what to fix on stderr, exit
status 2, no traceback. A fully configured production passes; the development entry
points (make up, docker compose, the tests) say ENVIRONMENT=development, and the images
carry no development files."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from indgang_guide.settings import GuideSettings
from indgang_intake.settings import IntakeSettings
from indgang_notifications.settings import NotificationSettings
from indgang_reporting.settings import ReportingSettings
from indgang_routing.settings import RoutingSettings
from indgang_runtime.settings import UnsafeForProduction

from harness import ROOT

SERVICES = ("intake", "routing", "notifications", "guide", "reporting")
SETTINGS = (IntakeSettings, RoutingSettings, NotificationSettings, GuideSettings, ReportingSettings)
# Every variable a service reads: the child processes get none from this one's environment.
READ = {name.upper() for cls in SETTINGS for name in cls.model_fields}


def clean_environment(**values: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in READ}, **values}


def production_environment(tmp_path: Path) -> dict[str, str]:
    """Strong secrets, OIDC, the department keys in a file of their own."""
    keys = tmp_path / "api-keys.toml"
    key = hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()
    keys.write_text(f'[[key]]\ndepartment = "job_centre"\nname = "x"\nsha256 = "{key}"\n')
    return {
        "ENVIRONMENT": "production",
        "SESSION_SECRET": secrets.token_urlsafe(48),
        "SESSION_HTTPS_ONLY": "true",
        "AUTH_MODE": "oidc",
        "OIDC_ISSUER": "https://login.kommune.example/realms/indgang",
        "OIDC_CLIENT_ID": "indgang",
        "OIDC_CLIENT_SECRET": secrets.token_urlsafe(32),
        "API_KEYS_FILE": str(keys),
        # The unit the public pages name (intake, guide): its own, not the placeholders.
        "UNIT_NAME": "Erhvervsservice, Socialøkonomi",
        "UNIT_PHONE": "+45 99 60 00 00",
        "UNIT_ADDRESS": "Rådhusgade 1, 7400 Herning",
    }


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_production_start_with_the_defaults_refuses_with_what_to_fix() -> None:
    started = run(
        "from indgang_intake.app import main; main()",
        clean_environment(ENVIRONMENT="production"),
    )
    assert started.returncode == 2, started.stderr
    assert started.stderr.startswith("indgang-intake refuses to start: ENVIRONMENT=production"), (
        started.stderr
    )
    assert "Traceback" not in started.stderr
    for what in ("SESSION_SECRET", "SESSION_HTTPS_ONLY", "AUTH_MODE=local", "API_KEYS_FILE"):
        assert what in started.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_without_an_environment_is_in_production_and_refuses(
    service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in READ:
        monkeypatch.delenv(name, raising=False)
    main = importlib.import_module(f"indgang_{service}.app").main
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    refused = capsys.readouterr().err
    assert refused.startswith(f"indgang-{service} refuses to start: ENVIRONMENT=production")
    for what in ("SESSION_SECRET", "SESSION_HTTPS_ONLY", "AUTH_MODE=local"):
        assert what in refused
    assert ("API_KEYS_FILE" in refused) is (service in ("intake", "routing"))


def test_a_fully_configured_production_environment_passes_the_check(tmp_path: Path) -> None:
    checked = run(
        "from indgang_runtime.settings import settings_or_exit\n"
        + "".join(
            f"from indgang_{s}.settings import {c.__name__}\n"
            f"assert settings_or_exit({c.__name__}).environment == 'production'\n"
            for s, c in zip(SERVICES, SETTINGS, strict=True)
        )
        + "print('ok')",
        clean_environment(**production_environment(tmp_path)),
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "ok\n", "")


@pytest.mark.parametrize("service", ["intake", "guide"])
def test_the_public_pages_never_name_the_placeholder_unit(service: str, tmp_path: Path) -> None:
    # Issue 13, points 9-10: a production intake or guide with the development unit
    # (UNIT_NAME, UNIT_PHONE, UNIT_ADDRESS) would send enterprises to a made-up place.
    settings_class = SETTINGS[SERVICES.index(service)]
    configured = production_environment(tmp_path)
    fields = {
        k.lower(): v for k, v in configured.items() if k.lower() in settings_class.model_fields
    }
    assert settings_class(**fields).production_problems() == []
    for variable, placeholder in (
        ("unit_name", "Erhvervsservice, Socialøkonomisk indgang"),
        ("unit_phone", "+45 12 34 56 78"),  # the placeholder however written
        ("unit_address", "Centerparken 1, 7330 Brande"),
        ("unit_phone", " "),
    ):
        problems = settings_class(**{**fields, variable: placeholder}).production_problems()
        assert len(problems) == 1, problems
        assert problems[0].startswith(variable.upper()), problems


@pytest.mark.parametrize("service", SERVICES)
def test_create_app_checks_too(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"indgang_{service}.app")
    settings_class = SETTINGS[SERVICES.index(service)]
    with pytest.raises(UnsafeForProduction):
        module.create_app(settings_class(environment="production"))
    for name, value in production_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    app = module.create_app(settings_class())  # builds; nothing connects until it starts
    assert app.state.runtime.settings.environment == "production"


def test_the_tests_run_in_development() -> None:
    # Set by the pytest plugin at import, for settings built here and services started.
    assert os.environ["ENVIRONMENT"] == "development"


def test_make_up_and_docker_compose_are_development_and_the_images_production() -> None:
    services_sh = (ROOT / "deploy/services.sh").read_text()
    assert 'export ENVIRONMENT="${ENVIRONMENT:-development}"' in services_sh
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert not re.search(r"^\s*(COPY|ADD)\b.*deploy/dev", dockerfile, re.M)
    assert re.search(r"^\s*ENVIRONMENT=production \\$", dockerfile, re.M)
    compose = (ROOT / "docker-compose.yml").read_text()
    anchor = compose.split("x-service: &service", 1)[1].split("\nservices:", 1)[0]
    assert "ENVIRONMENT: development" in anchor
    assert "- ./deploy/dev:/app/deploy/dev:ro" in anchor
    for service in SERVICES:  # each service uses the anchor
        block = compose.split(f"\n  {service}:\n", 1)[1].split("\n\n", 1)[0]
        assert "<<: *service" in block
        if "environment:" in block:
            assert "<<: *service-env" in block


def test_make_contracts_builds_the_apps_in_any_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # tools/asyncapi.py only builds the apps for their brokers: it must not need
    # ENVIRONMENT=development from whoever runs `make contracts`.
    monkeypatch.delenv("ENVIRONMENT")
    spec = importlib.util.spec_from_file_location("asyncapi", ROOT / "tools" / "asyncapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == (ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8")
