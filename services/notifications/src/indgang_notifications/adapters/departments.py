"""The departments' mailboxes, read from their TOML file (`DEPARTMENTS_FILE`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from indgang_notifications.domain.messages import Department


def load_departments(path: Path) -> dict[str, Department]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {
        key: Department(
            id=key, name=value["name"], email=value["email"], language=value.get("language", "da")
        )
        for key, value in data.get("departments", {}).items()
    }
