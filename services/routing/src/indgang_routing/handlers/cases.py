"""Routing's use cases: route an inquiry to one consultant; refer a case onwards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from indgang_contracts.envelope import encode
from indgang_contracts.events import Consultant as ConsultantRef
from indgang_contracts.events import InquiryReceived
from indgang_routing.adapters.cases import CaseRepository
from indgang_routing.domain.calendar import add_working_days
from indgang_routing.domain.case import (
    ReferralRequest,
    case_id_for,
    case_routed,
    referral_made,
)
from indgang_routing.domain.policy import assign_consultant
from indgang_routing.domain.team import Team
from indgang_routing.settings import RoutingSettings
from indgang_runtime.outbox import OutboxRelay

log = structlog.get_logger(__name__)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class CaseNotFound(LookupError):
    pass


class CaseRouting:
    def __init__(
        self, team: Team, cases: CaseRepository, relay: OutboxRelay, settings: RoutingSettings
    ) -> None:
        self.team = team
        self.cases = cases
        self.relay = relay
        self.settings = settings

    async def route_inquiry(self, inquiry: InquiryReceived) -> str:
        """Open and assign the inquiry's case; a redelivered inquiry changes nothing."""
        case_id = case_id_for(inquiry.inquiry_id)
        if await self.cases.get(case_id) is not None:
            log.info("inquiry_already_routed", case_id=case_id)
            return case_id
        now = datetime.now(UTC)
        today = now.astimezone(COPENHAGEN).date()
        previous = await self.cases.last_consultant_of(inquiry.organisation_key)
        loads = await self.cases.open_loads()
        assignment = assign_consultant(self.team, inquiry.needs, loads, today, previous)
        due = add_working_days(today, self.settings.first_contact_working_days)
        event = case_routed(inquiry, case_id, assignment, due, now)
        record = encode(event, source=self.settings.event_source)
        case: dict[str, Any] = {
            "_id": case_id,
            "inquiry_ids": [inquiry.inquiry_id],
            "reference": inquiry.reference,
            "municipality_code": inquiry.municipality_code,
            "organisation_key": inquiry.organisation_key,
            "organisation": inquiry.organisation.model_dump(mode="json"),
            "contact": inquiry.contact.model_dump(mode="json"),
            "channel": inquiry.channel.value,
            "forwarded_by": inquiry.forwarded_by.value if inquiry.forwarded_by else None,
            "needs": [n.value for n in inquiry.needs],
            "description": inquiry.description,
            "consultant": assignment.consultant.reference().model_dump(mode="json"),
            "status": "assigned",
            "routing": {"reason": assignment.reason.value, "explanation": assignment.explanation},
            "first_contact_due": due.isoformat(),
            "referrals": [],
            "timeline": [
                {"at": now, "kind": "routed", "text": assignment.explanation},
            ],
            "created_at": now,
            "updated_at": now,
        }
        if await self.cases.open(case, [record]):
            self.relay.kick()
            log.info(
                "case_routed",
                case_id=case_id,
                consultant=assignment.consultant.id,
                reason=assignment.reason.value,
            )
        return case_id

    async def make_referral(self, case_id: str, request: ReferralRequest) -> str:
        case = await self.cases.get(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        now = datetime.now(UTC)
        referral_id = str(uuid.uuid4())
        consultant = ConsultantRef.model_validate(case["consultant"])
        event = referral_made(case, request, consultant, referral_id, now)
        record = encode(event, source=self.settings.event_source)
        referral = {
            "id": referral_id,
            "target": request.target.model_dump(mode="json"),
            "purpose": request.purpose,
            "needs": [n.value for n in request.needs],
            "response_due": request.response_due.isoformat() if request.response_due else None,
            "consent_to_share_contact": request.consent_to_share_contact,
            "status": "sent",
            "made_at": now,
        }
        entry = {
            "at": now,
            "kind": "referral_made",
            "text": f"Henvist til {request.target.department.value}",
        }
        if not await self.cases.add_referral(case_id, referral, entry, [record]):
            raise CaseNotFound(case_id)
        self.relay.kick()
        log.info("referral_made", case_id=case_id, referral_id=referral_id)
        return referral_id
