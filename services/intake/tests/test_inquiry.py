"""Intake's validation rules, tested directly on the domain model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from indgang_intake.domain.inquiry import Inquiry, InquirySubmission, organisation_key


def submission(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": {"name": "Grøn Gård ApS", "cvr": "DK 35 95 47 16", "stage": "start_up"},
        "contact": {"name": "Søren Æbelø", "email": "Soren@Example.dk", "phone": "20 30 40 50"},
        "needs": ["hiring_vulnerable_unemployed", "rsv_registration"],
        "description": "Vi vil gerne ansætte to personer i løntilskud.",
        "privacy_notice_accepted": True,
    }
    data.update(changes)
    return data


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        InquirySubmission.model_validate(data)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_normalises_cvr_phone_and_key() -> None:
    s = InquirySubmission.model_validate(submission())
    assert s.organisation.cvr == "35954716"
    assert s.contact.phone == "+4520304050"
    assert organisation_key(s.organisation.cvr, s.contact.email) == "cvr:35954716"
    assert organisation_key(None, " Soren@Example.DK ") == "email:soren@example.dk"


def test_event_carries_what_subscribers_need() -> None:
    s = InquirySubmission.model_validate(submission())
    event = Inquiry.receive(
        s, municipality_code="756", privacy_notice_version="v1"
    ).received_event()
    assert event.organisation_key == "cvr:35954716"
    assert event.contact.name == "Søren Æbelø"
    assert event.reference.startswith("H-")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"organisation": {"name": "X", "cvr": "35954717", "stage": "idea"}}, "organisation.cvr"),
        ({"organisation": {"name": "X", "cvr": "1234", "stage": "idea"}}, "organisation.cvr"),
        ({"organisation": {"name": "", "stage": "idea"}}, "organisation.name"),
        ({"organisation": {"name": "X", "stage": "unicorn"}}, "organisation.stage"),
        ({"contact": {"name": "A", "email": "not-an-email"}}, "contact.email"),
        ({"contact": {"name": "A", "email": "a@b.dk", "phone": "12"}}, "contact.phone"),
        ({"needs": []}, "needs"),
        ({"needs": ["world_peace"]}, "needs.0"),
        ({"description": "x" * 5001}, "description"),
        ({"privacy_notice_accepted": False}, ""),
        ({"channel": "forwarded"}, ""),
    ],
)
def test_refuses_bad_input_per_field(changes: dict[str, Any], field: str) -> None:
    assert field in errors_of(submission(**changes))
