"""The seed files of the team and the provider list (`TEAM_FILE`, `PROVIDERS_FILE`):
TOML read here, the domain objects built from the parsed tables by the domain."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from indgang_routing.domain.providers import Provider
from indgang_routing.domain.team import Team


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def load_team(path: Path) -> Team:
    """TOML `[[consultant]]` tables and `team_lead_email`."""
    return Team.from_dict(_read(path))


def load_providers(path: Path) -> tuple[Provider, ...]:
    """TOML `[[provider]]` tables."""
    return tuple(Provider.from_doc(p) for p in _read(path).get("provider", []))
