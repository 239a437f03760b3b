"""indgang's event contracts: the only code the services share besides runtime helpers.

Integrators can depend on this package alone to read or write indgang events.
"""

from indgang_contracts.envelope import Envelope, InvalidEvent, decode, encode
from indgang_contracts.events import (
    EVENT_TYPES,
    CaseRouted,
    Consultant,
    ContactPerson,
    Department,
    Event,
    InquiryChannel,
    InquiryReceived,
    Need,
    Organisation,
    OrganisationStage,
    ReferralMade,
    ReferralTarget,
    RoutingReason,
)
from indgang_contracts.topics import DEAD_LETTER_TOPIC, TOPICS, topic_for

__all__ = [
    "DEAD_LETTER_TOPIC",
    "EVENT_TYPES",
    "TOPICS",
    "CaseRouted",
    "Consultant",
    "ContactPerson",
    "Department",
    "Envelope",
    "Event",
    "InquiryChannel",
    "InquiryReceived",
    "InvalidEvent",
    "Need",
    "Organisation",
    "OrganisationStage",
    "ReferralMade",
    "ReferralTarget",
    "RoutingReason",
    "decode",
    "encode",
    "topic_for",
]
