"""What the guide keeps per case holds no personal data (issue 12, finding 7).

The guide does not subscribe to `case-status-changed`, so it cannot anonymise on a
case's deletion deadline; instead it keeps, per routed case, only the case id, the
needs, the organisation's stage and the computed list (README: "Personal data"). A
`case-routed` event carries the contact person and the organisation's name; neither
may reach the store."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from indgang_contracts.envelope import decode, encode
from indgang_contracts.events import CaseRouted
from indgang_contracts.examples import CASE_ROUTED
from indgang_guide.adapters.store import CaseRecommendations
from indgang_guide.handlers.recommend import recommend_for_cases

CONTACT = {
    "name": "Gunhild Personsen",
    "email": "gunhild.personsen@privat.example",
    "phone": "+4577665544",
    "preferred_language": "da",
}
ORGANISATION_NAME = "Gunhilds Enkeltmandsfirma"


def test_what_is_kept_per_case_has_no_field_for_personal_data() -> None:
    kept = {f.name for f in dataclasses.fields(CaseRecommendations)}
    assert kept == {"case_id", "needs", "stage", "items"}


async def test_a_routed_case_leaves_no_personal_data_in_the_guide_store(
    guide_app: Any,
) -> None:
    event = CaseRouted.model_validate(
        {
            **CASE_ROUTED.model_dump(mode="json"),
            "case_id": str(uuid.uuid4()),
            "organisation_key": f"email:{CONTACT['email']}",
            "organisation_name": ORGANISATION_NAME,
            "contact": CONTACT,
        }
    )
    record = encode(event, source="/indgang/routing")
    envelope = decode(list((k, v.encode()) for k, v in record.headers.items()), record.value)
    app = guide_app.app
    await recommend_for_cases(
        [envelope],
        app.state.store,
        app.state.catalogue,
        app.state.settings.recommendations_per_case,
    )
    stored = await app.state.store.recommendations_for(event.case_id)
    assert stored is not None
    assert stored["items"]
    assert set(stored) == {"_id", "needs", "stage", "items", "at"}
    text = repr(stored)
    for personal in (*CONTACT.values(), ORGANISATION_NAME):
        if personal != "da":
            assert personal not in text
    assert CONTACT["email"] not in text
    assert "email:" not in text
