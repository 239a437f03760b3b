"""Which messages an event causes, to whom. Pure: no rendering, no sending.

Each (event, message kind, channel, recipient) is one delivery, sent once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import (
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    Consultant,
    ContactPerson,
    Event,
    FirstContactOverdue,
    GuideEntriesShared,
    InquiryReceived,
    MessageToEnterprise,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
)
from indgang_notifications.domain.subscriptions import Subscription

Channel = Literal["email", "webhook"]
WEBHOOK_KIND = "cloudevent"


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    email: str
    language: str = "da"


@dataclass(frozen=True)
class CaseParties:
    """Who a case is between, remembered from its latest `case-routed`.

    Needed because later events about the case (a referral) do not carry the
    inquirer's address when they did not consent to share it with the target."""

    case_id: str
    consultant: Consultant
    contact: ContactPerson | None
    # When the routing they come from happened: the newest routing wins.
    routed_at: datetime | None = None
    # When the contact was last set (its routing, or a consultant's correction): the
    # newest wins, so a late routing cannot bring back a corrected address.
    contact_at: datetime | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    event_id: str
    kind: str  # the template name (receipt, introduction, ...) or 'cloudevent' for webhooks
    channel: Channel
    recipient: str  # an e-mail address, or the subscription id for webhooks
    recipient_role: str  # inquirer, consultant, team_lead, department or subscriber
    language: str
    case_id: str | None = None
    inquiry_id: str | None = None
    reference: str | None = None
    context: dict[str, Any] = field(default_factory=dict, compare=False)
    # The enterprise's consultant, so a reply to a mail about the case reaches a person
    # rather than the no-reply sender (issue 13, point 5).
    reply_to: str | None = field(default=None, compare=False)
    # On a follow-up, the case's own reference, so the delivery log finds the follow-up's
    # mails by the reference the enterprise keeps as well as by the new inquiry's.
    case_reference: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The delivery's unique key: one delivery per event, kind, channel and recipient."""
        return f"{self.event_id}|{self.kind}|{self.channel}|{self.recipient.lower()}"

    @property
    def delivery_id(self) -> str:
        """A short, URL-safe id for the delivery log, derived from the key."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]

    @property
    def message_id(self) -> str:
        """A stable Message-ID, so a rare duplicate after a crash can be spotted."""
        return f"<{self.delivery_id}@indgang>"


@dataclass(frozen=True)
class Plan:
    messages: list[OutgoingMessage]
    # Messages that cannot be planned yet, and why (e.g. the inquirer of a
    # referral is not known before its case-routed has been seen).
    waiting_for: list[str] = field(default_factory=list)


class UnknownDepartment(LookupError):
    pass


@dataclass(frozen=True)
class Audience:
    """Configuration the plan depends on: mailboxes, subscribers, staff language."""

    departments: dict[str, Department]
    subscriptions: list[Subscription] = field(default_factory=list)
    staff_language: str = "da"


def plan(envelope: Envelope[Event], audience: Audience, parties: CaseParties | None) -> Plan:
    event = envelope.data
    mails = _Mails(envelope)
    waiting: list[str] = []
    if isinstance(event, InquiryReceived):
        mails.to_person("receipt", event.contact, "inquirer", inquiry=event)
    elif isinstance(event, CaseRouted):
        # A later inquiry on an open case (follow-up): the same consultant, no new case
        # or deadline, so the follow-up mails instead of the introduction and new case.
        to_inquirer, to_consultant = (
            ("follow_up_received", "case_follow_up")
            if event.follow_up
            else ("introduction", "case_assigned")
        )
        if event.contact is not None:
            mails.to_person(
                to_inquirer,
                event.contact,
                "inquirer",
                reply_to=event.consultant.email,
                case=event,
            )
        mails.add(
            to_consultant,
            event.consultant.email,
            "consultant",
            audience.staff_language,
            case=event,
        )
        previous = parties.consultant if parties is not None else None
        if (
            not event.follow_up
            and event.previous_consultant_id
            and previous is not None
            and previous.id == event.previous_consultant_id
            and previous.id != event.consultant.id
        ):
            mails.add(
                "case_reassigned",
                previous.email,
                "consultant",
                audience.staff_language,
                case=event,
                previous=previous,
            )
    elif isinstance(event, ReferralMade):
        department = audience.departments.get(event.target.department.value)
        if department is None:
            raise UnknownDepartment(f"no mailbox configured for {event.target.department.value}")
        mails.add(
            "referral",
            department.email,
            "department",
            department.language,
            referral=event,
            department=department,
        )
        data = event.model_dump(mode="json")
        for sub in audience.subscriptions:
            if sub.channel == "email" and sub.email and sub.wants(event.EVENT_NAME, data):
                receiver = Department(sub.id, sub.name, sub.email, sub.language)
                mails.add(
                    "referral",
                    sub.email,
                    "department",
                    sub.language,
                    referral=event,
                    department=receiver,
                )
        contact = event.contact or (parties.contact if parties is not None else None)
        if contact is not None:
            mails.to_person(
                "referral_notice",
                contact,
                "inquirer",
                reply_to=_consultant_email(parties),
                referral=event,
            )
        elif parties is None:
            waiting.append(f"the inquirer of case {event.case_id} (its case-routed not seen yet)")
    elif isinstance(event, FirstContactOverdue):
        mails.add(
            "first_contact_overdue",
            event.consultant.email,
            "consultant",
            audience.staff_language,
            case=event,
        )
        if event.team_lead_email:
            mails.add(
                "overdue_team_lead",
                event.team_lead_email,
                "team_lead",
                audience.staff_language,
                case=event,
            )
    elif isinstance(event, GuideEntriesShared):
        mails.to_person(
            "guide_entries",
            event.contact,
            "inquirer",
            reply_to=_consultant_email(parties),
            shared=event,
        )
    elif isinstance(event, ReferralUpdated):
        # Events from before 2026-12 do not name the consultant: the case's, as remembered.
        consultant = event.consultant or (parties.consultant if parties is not None else None)
        contact = parties.contact if parties is not None else None
        # A consultant who recorded the department's answer on its behalf (it answered by
        # phone or mail) knows it already: telling them would be noise.
        if consultant is not None and event.recorded_by is None:
            mails.add(
                "referral_answered",
                consultant.email,
                "consultant",
                audience.staff_language,
                update=event,
                consultant=consultant,
                enterprise_told=contact is not None,
            )
        if parties is None:
            waiting.append(f"the inquirer of case {event.case_id} (its case-routed not seen yet)")
        elif contact is not None and consultant is not None:
            # What happens next in plain words, by status; never the department's own
            # reason, which it wrote for staff.
            mails.to_person(
                "referral_answer_notice",
                contact,
                "inquirer",
                reply_to=consultant.email,
                update=event,
                consultant=consultant,
            )
    elif isinstance(event, ReferralOverdue):
        mails.add(
            "referral_overdue",
            event.consultant.email,
            "consultant",
            audience.staff_language,
            overdue=event,
        )
    elif isinstance(event, MessageToEnterprise):
        mails.to_person(
            "message_to_enterprise",
            event.contact,
            "inquirer",
            reply_to=event.consultant.email,
            message=event,
        )
    elif (
        isinstance(event, CaseStatusChanged)
        and event.status is CaseStatus.CLOSED
        and event.message_to_enterprise
        and parties is not None
        and parties.contact is not None
    ):
        # The enterprise hears that its case is closed, and why, when the consultant wrote
        # it a line for that; null means it is not to be told (e.g. it asked to close).
        mails.to_person(
            "case_closed",
            parties.contact,
            "inquirer",
            reply_to=parties.consultant.email,
            closed=event,
            consultant=parties.consultant,
        )
    # CaseContactChanged sends nothing: the planner remembers the new contact, and later
    # mails about the case go to it.
    return Plan(mails.messages + webhooks(envelope, audience.subscriptions), waiting)


def consultant_of(event: Event, parties: CaseParties | None) -> str | None:
    """The id of the consultant whose case the event is about (who sees its deliveries in
    the log): the case's as remembered, else as the event names it."""
    if parties is not None:
        return parties.consultant.id
    consultant = getattr(event, "consultant", None)
    if isinstance(consultant, Consultant):
        return consultant.id
    consultant_id = getattr(event, "consultant_id", None)
    return consultant_id if isinstance(consultant_id, str) else None


def _consultant_email(parties: CaseParties | None) -> str | None:
    return str(parties.consultant.email) if parties is not None else None


def webhooks(envelope: Envelope[Event], subscriptions: list[Subscription]) -> list[OutgoingMessage]:
    event = envelope.data
    data = event.model_dump(mode="json")
    case_id, inquiry_id, reference = _refs(event)
    return [
        OutgoingMessage(
            envelope.id,
            WEBHOOK_KIND,
            "webhook",
            sub.id,
            "subscriber",
            sub.language,
            case_id,
            inquiry_id,
            reference,
        )
        for sub in subscriptions
        if sub.channel == "webhook" and sub.wants(event.EVENT_NAME, data)
    ]


def _refs(event: Event) -> tuple[str | None, str | None, str | None]:
    return (
        getattr(event, "case_id", None),
        getattr(event, "inquiry_id", None),
        getattr(event, "reference", None),
    )


class _Mails:
    def __init__(self, envelope: Envelope[Event]) -> None:
        self.envelope = envelope
        self.messages: list[OutgoingMessage] = []

    def add(
        self,
        kind: str,
        to: str,
        role: str,
        language: str,
        reply_to: str | None = None,
        **context: Any,
    ) -> None:
        case_id, inquiry_id, reference = _refs(self.envelope.data)
        message = OutgoingMessage(
            self.envelope.id,
            kind,
            "email",
            str(to),
            role,
            language,
            case_id,
            inquiry_id,
            reference,
            context,
            str(reply_to) if reply_to else None,
            getattr(self.envelope.data, "case_reference", None),
        )
        if all(m.key != message.key for m in self.messages):
            self.messages.append(message)

    def to_person(
        self,
        kind: str,
        person: ContactPerson,
        role: str,
        reply_to: str | None = None,
        **context: Any,
    ) -> None:
        self.add(
            kind,
            person.email,
            role,
            person.preferred_language,
            reply_to,
            person=person,
            **context,
        )
