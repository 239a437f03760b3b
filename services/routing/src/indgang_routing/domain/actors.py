"""Who acts on a case: its consultant, or the team lead (who may act on any case)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indgang_routing.domain.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    consultant_id: str | None  # the team member this staff user is, if any
    team_lead: bool = False

    def owns(self, case: Mapping[str, Any]) -> bool:
        return self.consultant_id is not None and case["consultant"]["id"] == self.consultant_id

    def check_may_work_on(self, case: Mapping[str, Any]) -> None:
        if not (self.team_lead or self.owns(case)):
            raise NotAllowed("Kun sagens konsulent eller teamlederen kan se og ændre sagen.")
