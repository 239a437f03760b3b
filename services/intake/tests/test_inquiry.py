"""Intake's validation rules, tested directly on the domain model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from indgang_contracts.events import Department, InquiryChannel
from indgang_intake.domain.inquiry import (
    Door,
    Inquiry,
    InquirySubmission,
    StaffDoorIn,
    organisation_key,
)


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
        ({"contact": {"name": "A", "email": "a@b.dk", "phone": "+46 12"}}, "contact.phone"),
        ({"contact": {"name": "A" * 201, "email": "a@b.dk"}}, "contact.name"),
        # A line break in a name would be a header of its own in the mails.
        ({"contact": {"name": "A\r\nBcc: x@evil.example", "email": "a@b.dk"}}, "contact.name"),
        ({"organisation": {"name": "X\nY", "stage": "idea"}}, "organisation.name"),
        ({"organisation": {"name": "X\x00", "stage": "idea"}}, "organisation.name"),
        (
            {"contact": {"name": "A", "email": "a@b.dk", "preferred_language": "fr"}},
            "contact.preferred_language",
        ),
        ({"description": ""}, "description"),
        ({"privacy_notice_accepted": False}, "privacy_notice_accepted"),
        # The door is not the inquirer's to choose: it follows from who submits.
        ({"channel": "forwarded"}, "channel"),
        ({"forwarded_by": "job_centre"}, "forwarded_by"),
    ],
)
def test_refuses_bad_input_per_field(changes: dict[str, Any], field: str) -> None:
    assert field in errors_of(submission(**changes))


def test_error_types_name_the_rule() -> None:
    with pytest.raises(ValidationError) as caught:
        InquirySubmission.model_validate(
            submission(
                organisation={"name": "X", "cvr": "DK 35 95 47 17", "stage": "idea"},
                contact={"name": "A", "email": "a@b.dk", "phone": "12"},
                privacy_notice_accepted=False,
            )
        )
    types = {e["type"] for e in caught.value.errors()}
    assert {"cvr_invalid", "phone_invalid", "privacy_not_accepted"} <= types


def test_names_with_control_characters_are_refused_and_said_so_in_both_languages() -> None:
    from indgang_intake.web.messages import FIELD_MESSAGES

    with pytest.raises(ValidationError) as caught:
        InquirySubmission.model_validate(submission(contact={"name": "A\rB", "email": "a@b.dk"}))
    [error] = caught.value.errors()
    assert error["type"] == "control_characters"
    assert "linjeskift" in FIELD_MESSAGES[("contact.name", "control_characters")][0]
    # Letters from any language, and the spaces inside a name, stay allowed.
    ok = submission(contact={"name": "Åse Øster-Ærø", "email": "a@b.dk"})
    assert InquirySubmission.model_validate(ok).contact.name == "Åse Øster-Ærø"


def test_foreign_phone_numbers_with_country_code() -> None:
    s = InquirySubmission.model_validate(
        submission(contact={"name": "Åsa", "email": "asa@example.se", "phone": "+46 8 123 456 78"})
    )
    assert s.contact.phone == "+46812345678"


def test_doors() -> None:
    assert Door.public() == Door(InquiryChannel.WEB, None, None)
    forwarded = Door.department_system(Department.JOB_CENTRE)
    assert forwarded.channel is InquiryChannel.FORWARDED
    assert forwarded.received_by == "system:job_centre"
    assert Door.staff("ane-kjaer", InquiryChannel.PHONE).received_by == "ane-kjaer"
    with pytest.raises(ValueError, match="forwarded_by"):
        Door(InquiryChannel.FORWARDED, None, "ane-kjaer")
    with pytest.raises(ValueError, match="received_by"):
        Door(InquiryChannel.PHONE)
    with pytest.raises(ValueError, match="public form"):
        Door(InquiryChannel.WEB, None, "ane-kjaer")


def test_event_says_which_door_and_follow_up() -> None:
    s = InquirySubmission.model_validate(submission())
    event = Inquiry.receive(
        s,
        door=Door.department_system(Department.PROCUREMENT),
        municipality_code="756",
        privacy_notice_version="v1",
        follow_up_of="earlier-id",
    ).received_event()
    assert event.channel is InquiryChannel.FORWARDED
    assert event.forwarded_by is Department.PROCUREMENT
    assert event.received_by == "system:procurement"
    assert event.follow_up_of == "earlier-id"


@pytest.mark.parametrize(
    ("door", "field"),
    [
        ({"channel": "web"}, "channel"),
        ({"channel": "forwarded"}, "forwarded_by"),
        ({"channel": "teleport"}, "channel"),
    ],
)
def test_staff_door_refuses_per_field(door: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        StaffDoorIn.model_validate(door)
    assert field in {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def test_staff_door_drops_forwarded_by_unless_forwarded() -> None:
    assert (
        StaffDoorIn.model_validate({"channel": "phone", "forwarded_by": "csr"}).forwarded_by is None
    )
    forwarded = StaffDoorIn.model_validate({"channel": "forwarded", "forwarded_by": "csr"})
    assert forwarded.forwarded_by is Department.CSR
