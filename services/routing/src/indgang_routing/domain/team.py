"""The consultant team: who can own cases, what they know, when they are away.

Seeded from `data/team.toml` (or TEAM_FILE, read by `adapters/seed_files.py`) into
the store on first start; from then on the team lead edits it in the console and
the store is the truth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypedDict

from indgang_contracts.events import Consultant as ConsultantRef
from indgang_contracts.events import Need
from indgang_routing.domain.errors import Conflict, InvalidInput, NotFound

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_CAPACITY = 500
# How long an absence is kept after it ended (see `Consultant.with_absence`).
ENDED_ABSENCE_KEPT = timedelta(days=30)


def check_identity(id_: str, name: str, email: str, *, noun: str, genitive: str) -> None:
    """Id, name and e-mail of a team member or a provider ("Konsulenten", "Konsulentens")."""
    if not _ID.match(id_):
        raise InvalidInput(f"{genitive} id må kun indeholde små bogstaver, tal og bindestreg.")
    if not name.strip():
        raise InvalidInput(f"{noun} skal have et navn.")
    if "@" not in email:
        raise InvalidInput(f"{noun} skal have en e-mailadresse.")


class Identity(TypedDict):
    id: str
    name: str
    email: str
    phone: str | None


def identity_from_doc(doc: Mapping[str, Any]) -> Identity:
    """Id, name, e-mail and phone of a team member or a provider, from a seed-file
    table (`id`) or a stored document (`_id`)."""
    return Identity(
        id=str(doc.get("_id") or doc["id"]),
        name=doc["name"],
        email=doc["email"],
        phone=doc.get("phone") or None,
    )


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class Absence:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("Fraværets slutdato ligger før startdatoen.")

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

    def __post_init__(self) -> None:
        check_identity(self.id, self.name, self.email, noun="Konsulenten", genitive="Konsulentens")
        if not 0 <= self.capacity <= MAX_CAPACITY:
            raise InvalidInput(f"Kapaciteten skal være mellem 0 og {MAX_CAPACITY} åbne sager.")
        if self.deputy == self.id:
            raise InvalidInput("En konsulent kan ikke være sin egen stedfortræder.")

    def is_absent(self, day: date) -> bool:
        return any(a.covers(day) for a in self.absences)

    def with_absence(self, absence: Absence, today: date) -> Consultant:
        """With `absence` added, and without those that ended over a month ago: they
        decide nothing any more, and the member's document, read with the team for
        every inquiry batch, would otherwise grow with every absence ever registered
        (it is personal data, too)."""
        kept = [a for a in self.absences if a.end >= today - ENDED_ABSENCE_KEPT]
        if absence not in kept:
            kept.append(absence)
        return replace(self, absences=tuple(sorted(kept, key=lambda a: (a.start, a.end))))

    def reference(self) -> ConsultantRef:
        return ConsultantRef(id=self.id, name=self.name, email=self.email, phone=self.phone)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "department": self.department,
            "municipality_code": self.municipality_code,
            "expertise": sorted(n.value for n in self.expertise),
            "capacity": self.capacity,
            "deputy": self.deputy,
            "absences": [
                {"start": a.start.isoformat(), "end": a.end.isoformat()} for a in self.absences
            ],
        }

    @classmethod
    def from_doc(cls, c: dict[str, Any]) -> Consultant:
        """From a team-file table or a stored document (dates as TOML dates or ISO text)."""
        return cls(
            **identity_from_doc(c),
            department=c.get("department", ""),
            municipality_code=c.get("municipality_code", ""),
            expertise=frozenset(Need(n) for n in c.get("expertise", [])),
            capacity=int(c.get("capacity", 20)),
            deputy=c.get("deputy") or None,
            absences=tuple(
                Absence(_as_date(a["start"]), _as_date(a["end"])) for a in c.get("absences", [])
            ),
        )


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

    def require(self, consultant_id: str) -> Consultant:
        found = self.get(consultant_id)
        if found is None:
            raise NotFound(f"Konsulenten {consultant_id!r} er ikke på holdet.")
        return found

    def check_member(self, consultant: Consultant) -> None:
        """A new or edited member is valid in this team (their deputy is on it)."""
        if consultant.deputy is not None and consultant.deputy not in self._by_id:
            raise InvalidInput(f"Stedfortræderen {consultant.deputy!r} er ikke på holdet.")

    def with_member(self, consultant: Consultant) -> Team:
        """The team with `consultant` added, or replacing the member with the same id."""
        members = [c for c in self.consultants if c.id != consultant.id]
        team = replace(self, consultants=(*members, consultant))
        team.check_member(consultant)
        return team

    def without(self, consultant_id: str) -> Team:
        """The team after `consultant_id` leaves; deputies pointing at them are cleared."""
        self.require(consultant_id)
        rest = tuple(
            replace(c, deputy=None) if c.deputy == consultant_id else c
            for c in self.consultants
            if c.id != consultant_id
        )
        if not rest:
            raise Conflict("Den sidste konsulent kan ikke fjernes: sagerne skal have en ejer.")
        return replace(self, consultants=rest)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Team:
        return cls(
            consultants=tuple(Consultant.from_doc(c) for c in data.get("consultant", [])),
            team_lead_email=data.get("team_lead_email"),
        )
