"""The consultant team: who can own cases, what they know, when they are away."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from indgang_contracts.events import Consultant as ConsultantRef
from indgang_contracts.events import Need


@dataclass(frozen=True)
class Absence:
    start: date
    end: date  # inclusive

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Consultant:
    id: str
    name: str
    email: str
    department: str
    municipality_code: str
    expertise: frozenset[Need]
    capacity: int
    phone: str | None = None
    deputy: str | None = None
    absences: tuple[Absence, ...] = ()

    def is_absent(self, day: date) -> bool:
        return any(a.covers(day) for a in self.absences)

    def reference(self) -> ConsultantRef:
        return ConsultantRef(id=self.id, name=self.name, email=self.email, phone=self.phone)


@dataclass(frozen=True)
class Team:
    consultants: tuple[Consultant, ...]
    team_lead_email: str | None = None
    _by_id: dict[str, Consultant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.consultants:
            raise ValueError("the team has no consultants")
        object.__setattr__(self, "_by_id", {c.id: c for c in self.consultants})
        if len(self._by_id) != len(self.consultants):
            raise ValueError("consultant ids must be unique")

    def get(self, consultant_id: str | None) -> Consultant | None:
        return self._by_id.get(consultant_id) if consultant_id else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Team:
        return cls(
            consultants=tuple(
                Consultant(
                    id=c["id"],
                    name=c["name"],
                    email=c["email"],
                    phone=c.get("phone"),
                    department=c.get("department", ""),
                    municipality_code=c.get("municipality_code", ""),
                    expertise=frozenset(Need(n) for n in c.get("expertise", [])),
                    capacity=int(c.get("capacity", 20)),
                    deputy=c.get("deputy"),
                    absences=tuple(Absence(a["start"], a["end"]) for a in c.get("absences", [])),
                )
                for c in data.get("consultant", [])
            ),
            team_lead_email=data.get("team_lead_email"),
        )

    @classmethod
    def load(cls, path: Path) -> Team:
        with path.open("rb") as f:
            return cls.from_dict(tomllib.load(f))
