"""Outside providers the consultant can refer to; the team lead keeps the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indgang_contracts.events import Need
from indgang_routing.domain.team import check_identity, identity_from_doc


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    email: str
    phone: str | None = None
    description: str = ""
    needs: frozenset[Need] = frozenset()

    def __post_init__(self) -> None:
        check_identity(self.id, self.name, self.email, noun="Udbyderen", genitive="Udbyderens")

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "description": self.description,
            "needs": sorted(n.value for n in self.needs),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Provider:
        return cls(
            **identity_from_doc(doc),
            description=doc.get("description", ""),
            needs=frozenset(Need(n) for n in doc.get("needs", [])),
        )
