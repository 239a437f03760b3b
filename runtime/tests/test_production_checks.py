"""ENVIRONMENT=production (the default) refuses the development secrets, users and keys
and missing secrets, listing every problem; ENVIRONMENT=development allows them."""

from __future__ import annotations

import hashlib
import secrets
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import pytest

from indgang_contracts.events import Department
from indgang_runtime.auth import DepartmentKeys, development_key
from indgang_runtime.settings import (
    ServiceSettings,
    UnsafeForProduction,
    settings_or_exit,
)

ROOT = Path(__file__).resolve().parents[2]
REQUIRED: dict[str, Any] = {"service_name": "intake", "mongodb_database": "x", "http_port": 1}


class KeyedSettings(ServiceSettings):
    """A service that department systems call with API keys (like intake and routing)."""

    reads_api_keys: ClassVar[bool] = True


def keys_file(folder: Path, *keys: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "api-keys.toml"
    path.write_text(
        "".join(
            f'[[key]]\ndepartment = "job_centre"\nname = "x"\n'
            f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n\n'
            for key in keys
        )
    )
    return path


def provider_keys_file(folder: Path, **keys: str) -> Path:
    """A keys file with one outside provider's key per `provider id=key`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "api-keys.toml"
    path.write_text(
        "".join(
            f'[[key]]\ndepartment = "outside_provider"\nprovider = "{provider}"\n'
            f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n\n'
            for provider, key in keys.items()
        )
    )
    return path


def production(tmp_path: Path, **values: Any) -> dict[str, Any]:
    """A fully configured production: strong secrets, OIDC, a keys file of its own."""
    return {
        **REQUIRED,
        "environment": "production",
        "session_secret": secrets.token_urlsafe(48),
        "session_https_only": True,
        "auth_mode": "oidc",
        "oidc_issuer": "https://login.kommune.example/realms/indgang",
        "oidc_client_id": "indgang",
        "oidc_client_secret": secrets.token_urlsafe(32),
        "api_keys_file": keys_file(tmp_path / "keys", secrets.token_urlsafe(32)),
        **values,
    }


def problems_of(settings: ServiceSettings) -> list[str]:
    with pytest.raises(UnsafeForProduction) as refused:
        settings.check_production()
    assert refused.value.problems == settings.production_problems()
    return refused.value.problems


def test_the_environment_is_production_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    assert ServiceSettings(**REQUIRED).environment == "production"
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert ServiceSettings(**REQUIRED).environment == "development"
    monkeypatch.setenv("ENVIRONMENT", "staging")
    with pytest.raises(ValueError, match="environment"):
        ServiceSettings(**REQUIRED)


def test_production_refuses_the_defaults_and_lists_every_problem() -> None:
    settings = KeyedSettings(**REQUIRED, environment="production")
    with pytest.raises(UnsafeForProduction) as refused:
        settings.check_production()
    message = str(refused.value)
    assert message.startswith("indgang-intake refuses to start: ENVIRONMENT=production")
    assert "(4 problems)" in message
    problems = refused.value.problems
    assert [p.split(" ")[0] for p in problems] == [
        "SESSION_SECRET",
        "SESSION_HTTPS_ONLY",
        "AUTH_MODE=local:",
        "API_KEYS_FILE",
    ]
    assert "development users" in problems[2]
    assert "development keys file" in problems[3]
    for number, problem in enumerate(problems, 1):
        assert f"  {number}. {problem}" in message
    assert "ENVIRONMENT=development" in message  # what a developer does instead


def test_development_allows_the_development_values() -> None:
    KeyedSettings(**REQUIRED, environment="development").check_production()


def test_a_fully_configured_production_passes(tmp_path: Path) -> None:
    settings = KeyedSettings(**production(tmp_path))
    assert settings.production_problems() == []
    settings.check_production()
    # A service without department keys needs no keys file.
    ServiceSettings(
        **production(tmp_path, api_keys_file="deploy/dev/api-keys.toml")
    ).check_production()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("indgang-development-only-session-secret", "public development value"),
        ("dev-" + "x" * 40, "public development value"),
        ("replace-with-a-long-random-secret", "public development value"),
        ("x" * 31, "has 31 characters"),
    ],
)
def test_a_public_or_short_session_secret_is_refused(tmp_path: Path, secret: str, why: str) -> None:
    [problem] = problems_of(KeyedSettings(**production(tmp_path, session_secret=secret)))
    assert problem.startswith("SESSION_SECRET")
    assert why in problem


def test_oidc_needs_its_issuer_client_and_secret_and_https(tmp_path: Path) -> None:
    missing = production(tmp_path, oidc_issuer=None, oidc_client_id="", oidc_client_secret=" ")
    assert [p.split(" ")[0] for p in problems_of(KeyedSettings(**missing))] == [
        "OIDC_ISSUER",
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET",
    ]
    [plain] = problems_of(KeyedSettings(**production(tmp_path, oidc_issuer="http://idp.example")))
    assert plain.startswith("OIDC_ISSUER is http://idp.example")


def test_local_users_are_refused_wherever_the_file_is(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    [problem] = problems_of(
        KeyedSettings(**production(tmp_path, auth_mode="local", users_file=users))
    )
    assert problem.startswith("AUTH_MODE=local")
    assert str(users) in problem


@pytest.mark.parametrize("department", list(Department))
def test_a_keys_file_accepting_any_development_key_is_refused(
    tmp_path: Path, department: Department
) -> None:
    # The development keys come from the departments in the contracts: a new one is covered.
    path = keys_file(tmp_path / "mine", secrets.token_urlsafe(32), f"dev-key-{department.value}")
    [problem] = problems_of(KeyedSettings(**production(tmp_path, api_keys_file=path)))
    assert problem.startswith(f"API_KEYS_FILE ({path}) accepts the public development keys")
    assert f"dev-key-{department.value}" in problem


def test_the_development_keys_file_is_refused_and_a_missing_one_too(tmp_path: Path) -> None:
    copied = tmp_path / "deploy" / "dev" / "api-keys.toml"
    copied.parent.mkdir(parents=True)
    copied.write_bytes((ROOT / "deploy/dev/api-keys.toml").read_bytes())
    for path in (Path("deploy/dev/api-keys.toml"), ROOT / "deploy/dev/api-keys.toml", copied):
        [problem] = problems_of(KeyedSettings(**production(tmp_path, api_keys_file=path)))
        assert "is the development keys file" in problem
    absent = tmp_path / "absent.toml"
    [problem] = problems_of(KeyedSettings(**production(tmp_path, api_keys_file=absent)))
    assert problem == (
        f"API_KEYS_FILE ({absent}) does not exist: mount the department systems' keys file "
        "(TOML [[key]] tables with department and sha256) and set API_KEYS_FILE to it."
    )


def test_a_keys_file_accepting_a_providers_development_key_is_refused(tmp_path: Path) -> None:
    # dev-key-provider-<id> of any provider the file names, under that provider or another.
    own = provider_keys_file(tmp_path / "own", mentorhuset="dev-key-provider-mentorhuset")
    swapped = provider_keys_file(
        tmp_path / "swapped", a=secrets.token_urlsafe(32), b="dev-key-provider-a"
    )
    for path, key in ((own, "dev-key-provider-mentorhuset"), (swapped, "dev-key-provider-a")):
        [problem] = problems_of(KeyedSettings(**production(tmp_path, api_keys_file=path)))
        assert problem.startswith(f"API_KEYS_FILE ({path}) accepts the public development keys")
        assert key in problem
    mine = provider_keys_file(tmp_path / "mine", mentorhuset=secrets.token_urlsafe(32))
    KeyedSettings(**production(tmp_path, api_keys_file=mine)).check_production()


def test_a_keys_file_with_a_provider_key_naming_no_provider_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api-keys.toml"
    path.write_text(f'[[key]]\ndepartment = "outside_provider"\nsha256 = "{"0" * 64}"\n')
    [problem] = problems_of(KeyedSettings(**production(tmp_path, api_keys_file=path)))
    assert problem.startswith(f"API_KEYS_FILE ({path}) cannot be read (InvalidKeysFile: ")
    assert "names no provider" in problem


def test_the_computed_development_keys_are_those_of_deploy_dev() -> None:
    # deploy/dev/api-keys.toml holds dev-key-<department> for every department but the
    # outside providers, and dev-key-provider-<id> for each provider routing is seeded
    # with: the production check, computing them, knows each of them.
    accepted = DepartmentKeys(ROOT / "deploy/dev/api-keys.toml").development_keys()
    seeded = ROOT / "services/routing/src/indgang_routing/data/providers.toml"
    providers = sorted(p["id"] for p in tomllib.loads(seeded.read_text())["provider"])
    assert accepted == [
        development_key(department)
        for department in Department
        if department is not Department.OUTSIDE_PROVIDER
    ] + [development_key(Department.OUTSIDE_PROVIDER, provider) for provider in providers]


def test_settings_or_exit_prints_what_to_fix_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name.upper(), str(value))
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SystemExit) as exited:
        settings_or_exit(KeyedSettings)
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("indgang-intake refuses to start:")
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("MUNICIPALITY_CODE", "75")
    with pytest.raises(SystemExit) as exited:
        settings_or_exit(KeyedSettings)
    assert exited.value.code == 2
    assert "KeyedSettings: invalid settings" in capsys.readouterr().err
    monkeypatch.delenv("MUNICIPALITY_CODE")
    assert settings_or_exit(KeyedSettings).environment == "development"
