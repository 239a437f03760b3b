"""A consultant corrects the contact person on a case (issue 13, point 5): later mails
go to the corrected person. On the real store: the correction wins over an older routing
or an older correction whatever order they are consumed in, and a redelivery changes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.events import Consultant, ContactPerson
from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.domain.messages import CaseParties

Db = AsyncDatabase[dict[str, Any]]
AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
ANE = Consultant(id="ane-kjaer", name="Ane Kjær", email="ane.kjaer@kommune.example")
BO = Consultant(id="bo-holm", name="Bo Holm", email="bo.holm@kommune.example")
FIRST = ContactPerson(name="Åse Ødegård", email="aase@example.dk")
CORRECTED = ContactPerson(name="Åse Ødegård", email="aase.odegaard@example.dk")
LATER = ContactPerson(name="Per Ødegård", email="per@example.dk")


async def contact_of(parties: CaseParticipants) -> str | None:
    known = await parties.get("case-1")
    assert known is not None
    return str(known.contact.email) if known.contact else None


async def test_a_correction_wins_over_the_routing_before_it_and_loses_to_one_after(
    fresh_db: Db,
) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.remember([CaseParties("case-1", ANE, FIRST, AT)])
    await parties.contact_changed("case-1", CORRECTED, AT + timedelta(hours=1), AT)
    assert await contact_of(parties) == "aase.odegaard@example.dk"
    # Redelivered, and an older correction consumed late: nothing changes.
    await parties.contact_changed("case-1", CORRECTED, AT + timedelta(hours=1), AT)
    await parties.contact_changed("case-1", FIRST, AT + timedelta(minutes=30), AT)
    assert await contact_of(parties) == "aase.odegaard@example.dk"
    # A reassignment routed between the first routing and the correction, consumed now:
    # the consultant changes, the corrected contact stays.
    await parties.remember([CaseParties("case-1", BO, FIRST, AT + timedelta(minutes=45))])
    known = await parties.get("case-1")
    assert known is not None
    assert known.consultant == BO
    assert await contact_of(parties) == "aase.odegaard@example.dk"
    # A follow-up routed after the correction brings the contact it carries.
    await parties.remember([CaseParties("case-1", BO, LATER, AT + timedelta(hours=2))])
    assert await contact_of(parties) == "per@example.dk"


async def test_a_correction_seen_before_the_cases_routing_is_kept_for_it(fresh_db: Db) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.contact_changed("case-1", CORRECTED, AT + timedelta(hours=1), AT)
    assert await parties.get("case-1") is None  # no consultant known yet: not addressable
    await parties.remember([CaseParties("case-1", ANE, FIRST, AT)])
    known = await parties.get("case-1")
    assert known is not None
    assert known.consultant == ANE
    assert await contact_of(parties) == "aase.odegaard@example.dk"
    # The record has a deadline like any other, and closing still brings it forward.
    await parties.closed("case-1", AT + timedelta(days=1), timedelta(days=30), AT)
    doc = await fresh_db["case_contacts"].find_one({"_id": "case-1"})
    assert doc is not None
    assert doc["delete_after"].replace(tzinfo=UTC) == AT + timedelta(days=31)


async def test_a_record_from_before_contact_at_still_ignores_an_older_routing(
    fresh_db: Db,
) -> None:
    """Records stored before corrections existed have no `contact_at`: their routing
    time decides, so a redelivered older routing cannot bring back an old address."""
    await fresh_db["case_contacts"].insert_one(
        {
            "_id": "case-1",
            "consultant": ANE.model_dump(mode="json"),
            "contact": CORRECTED.model_dump(mode="json"),
            "routed_at": AT,
            "first_routed_at": AT,
        }
    )
    parties = CaseParticipants(fresh_db)
    await parties.remember([CaseParties("case-1", ANE, FIRST, AT - timedelta(hours=1))])
    assert await contact_of(parties) == "aase.odegaard@example.dk"
    await parties.contact_changed("case-1", LATER, AT + timedelta(hours=1), AT)
    assert await contact_of(parties) == "per@example.dk"


async def test_a_first_routing_starts_the_record_as_its_parties_are_read(fresh_db: Db) -> None:
    parties = CaseParticipants(fresh_db)

    def who(known: CaseParties | None) -> tuple[object, ...] | None:
        return (known.consultant, known.contact, known.routed_at) if known else None

    first = CaseParties("case-1", ANE, FIRST, AT)
    assert await parties.get_or_start(first, AT) == (None, True)
    await parties.remember([first], AT, started=[first])
    assert who(await parties.get("case-1")) == (ANE, FIRST, AT)
    # Replayed (a crash before the deliveries were stored): the record is there, unchanged.
    before, started = await parties.get_or_start(first, AT)
    assert (who(before), started) == ((ANE, FIRST, AT), False)
    # A reassignment reads the parties before it, and `remember` applies it.
    later = CaseParties("case-1", BO, LATER, AT + timedelta(hours=1))
    before, started = await parties.get_or_start(later, AT)
    assert (who(before), started) == ((ANE, FIRST, AT), False)
    assert who(await parties.get("case-1")) == (ANE, FIRST, AT)
    await parties.remember([later], AT, started=[])
    assert who(await parties.get("case-1")) == (BO, LATER, AT + timedelta(hours=1))


async def test_a_routing_after_a_correction_reads_no_parties_and_keeps_the_correction(
    fresh_db: Db,
) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.contact_changed("case-1", CORRECTED, AT + timedelta(hours=1), AT)
    routing = CaseParties("case-1", ANE, FIRST, AT)
    # The record exists (the correction), so this routing did not start it.
    assert await parties.get_or_start(routing, AT) == (None, False)
    await parties.remember([routing], AT, started=[])
    known = await parties.get("case-1")
    assert known is not None
    assert known.consultant == ANE
    assert await contact_of(parties) == "aase.odegaard@example.dk"
