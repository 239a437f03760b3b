"""Danish words for the contract's codes, for the console and the case timeline."""

from __future__ import annotations

from datetime import date

from indgang_contracts.events import (
    CaseStatus,
    ContactChannel,
    Department,
    InquiryChannel,
    Need,
    OrganisationStage,
    ReferralStatus,
    RoutingReason,
)
from indgang_contracts.labels import labels_of

# The words are contracts' one label table (issue 13, point 11); the console is Danish.
NEEDS: dict[Need, str] = labels_of(Need)
DEPARTMENTS: dict[Department, str] = labels_of(Department)
STATUSES: dict[CaseStatus, str] = labels_of(CaseStatus)
REFERRAL_STATUSES: dict[ReferralStatus, str] = labels_of(ReferralStatus)
CONTACT_CHANNELS: dict[ContactChannel, str] = labels_of(ContactChannel)
INQUIRY_CHANNELS: dict[InquiryChannel, str] = labels_of(InquiryChannel)
STAGES: dict[OrganisationStage, str] = labels_of(OrganisationStage)
REASONS: dict[RoutingReason, str] = labels_of(RoutingReason)

# In place of a personal field (the contact's e-mail, phone) that the deletion job has
# removed from a case (`domain/retention.py`): the console never shows "None".
DELETED = "slettet"

_MONTHS = (
    *("januar", "februar", "marts", "april", "maj", "juni"),
    *("juli", "august", "september", "oktober", "november", "december"),
)


def danish_date(day: date) -> str:
    """'3. december 2026'."""
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"
