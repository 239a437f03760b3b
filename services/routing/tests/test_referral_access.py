"""Who may read and answer a referral, tested directly on the pure domain
(`domain/referrals.check_sent_to`): the department it was sent to, and for an outside
provider that provider alone (issue 12, finding 9)."""

from __future__ import annotations

from typing import Any

import pytest

from indgang_contracts.events import Department
from indgang_routing.domain.errors import NotAllowed, ReferralNotFound
from indgang_routing.domain.referrals import check_sent_to

PROVIDER = Department.OUTSIDE_PROVIDER


def referral(department: Department, provider_id: str | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"department": department.value}
    if provider_id is not None:
        target["provider_id"] = provider_id
    return {"id": "r-1", "target": target}


def test_a_provider_sees_its_own_referrals_and_no_other() -> None:
    check_sent_to(referral(PROVIDER, "mentorhuset"), PROVIDER, "mentorhuset")
    for other in (
        referral(PROVIDER, "fondsraadgivning"),  # another provider's
        referral(Department.JOB_CENTRE),  # a department's
        referral(PROVIDER),  # one naming no provider (none is made so)
    ):
        # As if it did not exist: the same answer as an unknown referral id.
        with pytest.raises(ReferralNotFound, match=r"^Henvisningen r-1 findes ikke\.$"):
            check_sent_to(other, PROVIDER, "mentorhuset")


def test_a_provider_system_naming_no_provider_sees_no_provider_referral() -> None:
    for sent in (referral(PROVIDER, "mentorhuset"), referral(PROVIDER)):
        with pytest.raises(ReferralNotFound):
            check_sent_to(sent, PROVIDER, None)


def test_departments_answer_their_own_and_are_refused_anothers() -> None:
    check_sent_to(referral(Department.JOB_CENTRE), Department.JOB_CENTRE)
    for sent in (referral(Department.CSR), referral(PROVIDER, "mentorhuset")):
        with pytest.raises(NotAllowed, match="answering someone else's referral"):
            check_sent_to(sent, Department.JOB_CENTRE)
