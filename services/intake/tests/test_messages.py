"""Validation messages per field in Danish and English, and the choice of language."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from indgang_intake.domain.inquiry import InquirySubmission
from indgang_intake.web.messages import (
    GENERIC,
    api_language,
    field_path,
    localise,
    localised_detail,
)


def errors_of(data: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        InquirySubmission.model_validate(data)
    return [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]


ALL_WRONG: dict[str, Any] = {
    "organisation": {"name": "", "cvr": "DK 12 34 56 78", "stage": "unicorn"},
    "contact": {"name": "", "email": "æøå", "phone": "12", "preferred_language": "fr"},
    "needs": ["world_peace"],
    "description": "x" * 5001,
    "privacy_notice_accepted": False,
}


def test_every_field_has_its_own_words_in_both_languages() -> None:
    errors = errors_of(ALL_WRONG)
    paths = {field_path(e["loc"]) for e in errors}
    assert paths == {
        "organisation.name",
        "organisation.cvr",
        "organisation.stage",
        "contact.name",
        "contact.email",
        "contact.phone",
        "contact.preferred_language",
        "needs.*",
        "description",
        "privacy_notice_accepted",
    }
    for error in errors:
        da, en = localise(error)
        assert (da, en) != GENERIC, error
        assert da != en
    by_path = {field_path(e["loc"]): localise(e) for e in errors}
    assert "CVR-nummeret" in by_path["organisation.cvr"][0]
    assert "CVR number" in by_path["organisation.cvr"][1]
    assert "5001" in by_path["description"][0]
    assert "landekode" in by_path["contact.phone"][0]


def test_fastapi_shape_with_both_languages() -> None:
    (item,) = localised_detail(errors_of({**ALL_WRONG, "needs": []})[:1], "en")
    assert set(item) == {"loc", "msg", "type", "msg_da", "msg_en"}
    assert item["loc"] == ["body", "organisation", "name"]
    assert item["msg"] == item["msg_en"]
    (item,) = localised_detail(errors_of({**ALL_WRONG, "needs": []})[:1], "da")
    assert item["msg"] == item["msg_da"]


def test_unknown_fields_and_types_still_get_words() -> None:
    da, en = localise({"loc": ("body", "colour"), "type": "extra_forbidden"})
    assert "kendes ikke" in da
    assert "Unknown field" in en
    assert localise({"loc": ("body", "x"), "type": "something_new"}) == GENERIC


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "da"),
        ("en", "da", "en"),
        ("da", "en", "da"),
        ("fr", "en-GB,en;q=0.9", "en"),
        (None, "en-US,en;q=0.9,da;q=0.8", "en"),
        (None, "da-DK,da;q=0.9,en;q=0.8", "da"),
        (None, "de,en;q=0.5,da;q=0.7", "da"),
        (None, "fr, de", "da"),
        (None, "en;q=0", "da"),
    ],
)
def test_language_by_query_then_accept_language(
    query: str | None, header: str | None, expected: str
) -> None:
    assert api_language(query, header) == expected
