"""Every code the services show has a Danish and an English label (issue 13, point 11)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from indgang_contracts import events
from indgang_contracts.labels import LABELS, label

SHOWN = [
    events.Department,
    events.Need,
    events.OrganisationStage,
    events.InquiryChannel,
    events.ContactChannel,
    events.CaseStatus,
    events.ReferralStatus,
    events.RoutingReason,
    events.DeliveryChannel,
    events.RsvCriterion,
    events.RsvCriterionStatus,
]


@pytest.mark.parametrize("kind", SHOWN, ids=lambda k: k.__name__)
def test_every_code_has_a_danish_and_an_english_label(kind: type[StrEnum]) -> None:
    assert set(LABELS[kind]) == set(kind)
    for code in kind:
        for lang in ("da", "en"):
            text = label(code, lang)
            assert text.strip(), (code, lang)
            assert "_" not in text, (code, lang)  # a raw code, not a label


def test_the_job_centre_is_jobcentret() -> None:
    assert label(events.Department.JOB_CENTRE) == "Jobcentret"
