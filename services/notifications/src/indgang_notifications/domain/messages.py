"""Which messages an event causes, to whom. Pure: no rendering, no sending.

Each (event, message kind, recipient) is one delivery, sent once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import CaseRouted, Event, InquiryReceived, ReferralMade


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class OutgoingMessage:
    event_id: str
    kind: str  # the template name: receipt, case_assigned, referral
    recipient: str
    language: str
    subject_ref: str  # the case or inquiry it is about, for the delivery log
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The delivery's unique key: one delivery per event, kind and recipient."""
        return f"{self.event_id}|{self.kind}|{self.recipient.lower()}"

    @property
    def message_id(self) -> str:
        """A stable Message-ID, so a rare duplicate after a crash can be spotted."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"<{digest}@indgang>"


class UnknownDepartment(ValueError):
    pass


def messages_for(
    envelope: Envelope[Event], departments: dict[str, Department]
) -> list[OutgoingMessage]:
    event = envelope.data
    if isinstance(event, InquiryReceived):
        return [
            OutgoingMessage(
                envelope.id,
                "receipt",
                event.contact.email,
                event.contact.preferred_language,
                event.inquiry_id,
                {"inquiry": event},
            )
        ]
    if isinstance(event, CaseRouted):
        return [
            OutgoingMessage(
                envelope.id,
                "case_assigned",
                event.consultant.email,
                "da",
                event.case_id,
                {"case": event},
            )
        ]
    if isinstance(event, ReferralMade):
        department = departments.get(event.target.department.value)
        if department is None:
            raise UnknownDepartment(f"no mailbox configured for {event.target.department.value}")
        return [
            OutgoingMessage(
                envelope.id,
                "referral",
                department.email,
                "da",
                event.case_id,
                {"referral": event, "department": department},
            )
        ]
    return []
