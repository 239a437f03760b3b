"""The repositories on the real store: claims as one compare-and-set, the delivery log's
equality searches, the day-by-day purge of case contacts and the start-up migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import encode
from indgang_contracts.events import Consultant, ContactPerson
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import (
    FREE,
    Claim,
    DeliveryRepository,
    PlannedDelivery,
    claimable_at,
)
from indgang_notifications.adapters.delivery_log import DeliveryLog
from indgang_notifications.adapters.migrations import migrate
from indgang_notifications.domain.delivery_log import created_hour
from indgang_notifications.domain.messages import CaseParties, OutgoingMessage
from indgang_notifications.domain.retention import DELIVERY_MAX_RETENTION_DAYS
from indgang_runtime import outbox

Db = AsyncDatabase[dict[str, Any]]


def planned(
    recipient: str = "Inquirer@Example.dk",
    event_id: str = "evt-1",
    case_id: str | None = "case-1",
    inquiry_id: str | None = "inq-1",
    reference: str | None = "H-2026-000001",
) -> PlannedDelivery:
    message = OutgoingMessage(
        event_id, "receipt", "email", recipient, "inquirer", "da", case_id, inquiry_id, reference
    )
    content = {"subject": "Kvittering", "text": "Hej", "html": "<p>Hej</p>"}
    return PlannedDelivery(message, "dk.indgang.inquiry-received.v1", "756", "Kvittering", content)


def outcome() -> Any:
    return encode(INQUIRY_RECEIVED, source="/test/notifications")


async def stored(db: Db, *deliveries: PlannedDelivery) -> DeliveryRepository:
    repository = DeliveryRepository(db)
    await repository.ensure_indexes()
    await repository.store_all(list(deliveries))
    return repository


async def test_deliveries_are_stored_once_in_one_bulk_write(fresh_db: Db) -> None:
    repository = await stored(fresh_db)
    batch = [planned(), planned(recipient="other@example.dk")]
    assert len(await repository.store_all(batch)) == 2
    assert await repository.store_all(batch) == []  # a redelivered batch stores nothing new
    assert len(await repository.store_all([*batch, planned(event_id="evt-2")])) == 1
    doc = await repository.get(batch[0].message.delivery_id)
    assert doc is not None
    assert doc["status"] == "pending"
    assert doc["claim"] == FREE
    assert doc[outbox.DUE] is False  # nothing for the relay until an outcome is written


async def test_new_deliveries_can_be_stored_claimed_with_their_first_attempt_counted(
    fresh_db: Db,
) -> None:
    repository = await stored(fresh_db)
    until = datetime.now(UTC) + timedelta(seconds=60)
    batch = [planned(), planned(recipient="b@example.dk"), planned(recipient="c@example.dk")]
    new = await repository.store_all(batch, Claim("sender-a", until, count=2))
    assert [(d["claim"], d["attempts"]) for d in new] == [
        ("sender-a", 1),
        ("sender-a", 1),
        (FREE, 0),
    ]
    # What the planner hands over is what is stored (FerretDB v1 leaves out the empty
    # arrays of a `$setOnInsert`; every reader treats a missing list as empty).
    for doc in new:
        assert _lists_filled(await repository.get(doc["_id"])) == doc
    # Redelivered: nothing new, so nothing is handed over twice.
    assert await repository.store_all(batch, Claim("sender-b", until, count=3)) == []
    # Only the third is due for a sweep; the claimed ones are not claimable until `until`.
    ready, later = await repository.due(datetime.now(UTC), limit=10)
    assert [d["_id"] for d in ready] == [new[2]["_id"]]
    assert later is not None
    assert abs((later - until).total_seconds()) < 0.01
    renewed = await repository.renew(new[0], lease_seconds=120)
    assert renewed is not None
    assert renewed["claim_until"] > until
    assert renewed["attempts"] == 1  # renewing is not another attempt


async def test_claims_given_back_on_stopping_are_due_at_once_and_uncounted(
    fresh_db: Db,
) -> None:
    repository = await stored(fresh_db)
    until = datetime.now(UTC) + timedelta(seconds=60)
    new = await repository.store_all(
        [planned(), planned(recipient="b@example.dk")], Claim("stopping", until, count=2)
    )
    assert await repository.release(new) == 2
    ready, _ = await repository.due(datetime.now(UTC), limit=10)
    assert sorted((d["_id"], d["claim"], d["attempts"]) for d in ready) == sorted(
        (d["_id"], FREE, 0) for d in new
    )
    assert await repository.release(new) == 0  # no longer this sender's


def _lists_filled(doc: dict[str, Any] | None) -> dict[str, Any]:
    assert doc is not None
    return {"errors": [], outbox.OUTBOX: [], **doc}


async def test_of_many_concurrent_claims_exactly_one_wins_and_counts_the_attempt(
    fresh_db: Db,
) -> None:
    delivery = planned()
    repository = await stored(fresh_db, delivery)
    (seen,), _ = await repository.due(datetime.now(UTC), limit=10)
    won = await asyncio.gather(
        *(repository.claim(seen, f"sender-{n}", lease_seconds=60) for n in range(8))
    )
    winners = [doc for doc in won if doc is not None]
    assert len(winners) == 1
    assert winners[0]["attempts"] == 1
    assert winners[0]["content"]["text"] == "Hej"  # the whole delivery, ready to send
    # Claimed: no longer due, and claimable again only when the claim expires.
    ready, later = await repository.due(datetime.now(UTC), limit=10)
    assert ready == []
    assert later == winners[0]["claim_until"]


async def test_a_delivery_put_back_for_later_is_not_claimed_from_an_old_view(
    fresh_db: Db,
) -> None:
    repository = await stored(fresh_db, planned())
    (seen,), _ = await repository.due(datetime.now(UTC), limit=10)
    doc = await repository.claim(seen, "first", lease_seconds=60)
    assert doc is not None
    assert await repository.retry_later(doc, "SMTP 451: try later", delay_seconds=0)
    # The claim is free again, but the attempts moved on: the old view cannot claim it.
    assert await repository.claim(seen, "second", lease_seconds=60) is None
    (again,), _ = await repository.due(datetime.now(UTC), limit=10)
    retried = await repository.claim(again, "second", lease_seconds=60)
    assert retried is not None
    assert retried["attempts"] == 2
    assert [e["error"] for e in retried["errors"]] == ["SMTP 451: try later"]


async def test_an_expired_claim_is_taken_over_and_only_the_new_holder_records(
    fresh_db: Db,
) -> None:
    repository = await stored(fresh_db, planned())
    (seen,), _ = await repository.due(datetime.now(UTC), limit=10)
    crashed = await repository.claim(seen, "crashed", lease_seconds=0.2)
    assert crashed is not None
    assert (await repository.due(datetime.now(UTC), limit=10))[0] == []
    await asyncio.sleep(0.3)
    (expired,), _ = await repository.due(datetime.now(UTC), limit=10)
    assert expired["claim"] == "crashed"
    assert claimable_at(expired) <= datetime.now(UTC)
    taken = await repository.claim(expired, "successor", lease_seconds=60)
    assert taken is not None
    assert taken["attempts"] == 2  # the crashed attempt counts
    assert not await repository.sent(crashed, [outcome()])  # its claim is gone
    assert await repository.sent(taken, [outcome()])
    doc = await repository.get(taken["_id"])
    assert doc is not None
    assert doc["status"] == "sent"
    assert "content" not in doc  # the body is personal data, dropped once delivered
    assert doc[outbox.PENDING] == 1  # one notification-delivered, not two
    assert doc[outbox.DUE] is True


async def test_sent_deliveries_are_recorded_together_except_a_claim_taken_over(
    fresh_db: Db,
) -> None:
    """Three sent deliveries whose outcomes were published: one bulk write marks the two
    still claimed sent (body dropped, claim given back, nothing in the outbox); the one
    taken over by another sender is left for that sender to record."""
    repository = await stored(
        fresh_db, planned("a@example.dk"), planned("b@example.dk"), planned("c@example.dk")
    )
    seen, _ = await repository.due(datetime.now(UTC), limit=10)
    held = [await repository.claim(d, f"s{n}", lease_seconds=60) for n, d in enumerate(seen)]
    assert all(held)
    mine = [d for d in held if d is not None]
    await fresh_db["deliveries"].update_one({"_id": mine[2]["_id"]}, {"$set": {"claim": "other"}})
    assert await repository.sent_many(mine) == 2
    for doc in mine[:2]:
        after = await repository.get(doc["_id"])
        assert after is not None
        assert after["status"] == "sent"
        assert after["claim"] == ""
        assert "content" not in after
        assert after.get(outbox.PENDING, 0) == 0
    taken = await repository.get(mine[2]["_id"])
    assert taken is not None
    assert (taken["status"], taken["claim"]) == ("pending", "other")
    assert await repository.sent_many([]) == 0


async def test_dead_deliveries_are_published_and_resent_in_a_new_cycle(fresh_db: Db) -> None:
    repository = await stored(fresh_db, planned())
    (seen,), _ = await repository.due(datetime.now(UTC), limit=10)
    doc = await repository.claim(seen, "s", lease_seconds=60)
    assert doc is not None
    assert await repository.dead(doc, "SMTP 550: no such user", outcome())
    dead = await repository.get(doc["_id"])
    assert dead is not None
    assert (dead["status"], dead[outbox.PENDING]) == ("dead", 1)
    resent = await repository.resend(doc["_id"])
    assert resent is not None
    assert (resent["status"], resent["cycle"], resent["attempts"]) == ("pending", 2, 0)
    assert await repository.resend(doc["_id"]) is None  # only a dead one


async def test_the_delivery_log_finds_exact_ids_and_addresses_in_any_case(fresh_db: Db) -> None:
    first = planned()
    other = planned(
        recipient="ane@kommune.example",
        event_id="evt-2",
        case_id="case-2",
        inquiry_id=None,
        reference="H-2026-000002",
    )
    await stored(fresh_db, first, other)
    log = DeliveryLog(fresh_db["deliveries"])

    async def ids(query: str | None, status: str | None = None) -> list[str]:
        return [d["_id"] for d in await log.search(query, status)]

    mine, theirs = first.message.delivery_id, other.message.delivery_id
    assert await ids("case-1") == [mine]
    assert await ids(" INQ-1 ") == [mine]
    assert await ids("h-2026-000002") == [theirs]
    assert await ids("inquirer@example.DK") == [mine]
    assert await ids("inquirer") == []  # exact, not a part of the address
    assert await ids("case-1", "sent") == []
    assert sorted(await ids(None)) == sorted([mine, theirs])  # the newest, hour by hour
    assert sorted(await ids(None, "pending")) == sorted([mine, theirs])
    assert await ids(None, "dead") == []
    rows = await log.search("case-1")
    assert "content" not in rows[0]
    assert outbox.OUTBOX not in rows[0]


async def test_the_default_listing_walks_back_hour_by_hour_until_it_has_enough(
    fresh_db: Db,
) -> None:
    now = datetime.now(UTC)
    collection = fresh_db["deliveries"]
    await DeliveryRepository(fresh_db).ensure_indexes()
    docs = [
        {
            "_id": f"d{hours}",
            "status": "sent",
            "created_at": now - timedelta(hours=hours),
            "created_hour": created_hour(now - timedelta(hours=hours)),
        }
        for hours in (0, 1, 5, 47, 49)
    ]
    await collection.insert_many(docs)
    log = DeliveryLog(collection)
    assert [d["_id"] for d in await log.search(None, now=now)] == ["d0", "d1", "d5", "d47"]
    assert [d["_id"] for d in await log.search(None, limit=2, now=now)] == ["d0", "d1"]


CONSULTANT = Consultant(id="c-ane", name="Ane Kjær", email="ane@kommune.example")
OTHER = Consultant(id="c-bo", name="Bo Berg", email="bo@kommune.example")
CONTACT = ContactPerson(name="Åse Ødegård", email="aase@example.dk")


async def test_the_newest_routing_is_remembered_and_a_redelivered_one_changes_nothing(
    fresh_db: Db,
) -> None:
    parties = CaseParticipants(fresh_db)
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    older = CaseParties("case-1", CONSULTANT, CONTACT, at)
    newer = CaseParties("case-1", OTHER, None, at + timedelta(hours=1))
    await parties.remember([older, newer])  # a reassignment in the same batch
    await parties.remember([older])  # redelivered
    known = await parties.get("case-1")
    assert known is not None
    assert known.consultant == OTHER
    assert known.contact == CONTACT  # the newer routing did not carry it: the known one stays
    assert known.routed_at == at + timedelta(hours=1)


async def test_closed_cases_contacts_are_deleted_at_their_deadline_not_before(
    fresh_db: Db,
) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.ensure_indexes()
    closed_at = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    retention = timedelta(days=30)
    deadline = closed_at + retention
    for case_id in ("closed", "reopened", "open"):
        await parties.remember([CaseParties(case_id, CONSULTANT, CONTACT, closed_at)])
    await parties.closed("closed", closed_at, retention, now=closed_at)
    await parties.closed("reopened", closed_at, retention, now=closed_at)
    await parties.reopened("reopened")

    assert await parties.forget_expired(closed_at) == 0
    assert await parties.forget_expired(deadline - timedelta(seconds=1)) == 0
    assert await parties.get("closed") is not None
    assert await parties.forget_expired(deadline) == 1
    assert await parties.get("closed") is None
    assert await parties.get("reopened") is not None
    assert await parties.get("open") is not None


async def test_a_case_never_closed_loses_its_contacts_three_years_after_its_first_routing(
    fresh_db: Db,
) -> None:
    """The privacy notice's longest deadline holds for open cases too; a later routing
    (reassignment) does not move it, and a reopened case goes back to it."""
    parties = CaseParticipants(fresh_db, longest=timedelta(days=3 * 365))
    await parties.ensure_indexes()
    first = datetime(2026, 3, 2, 9, tzinfo=UTC)
    deadline = first + timedelta(days=3 * 365)
    await parties.remember([CaseParties("open", CONSULTANT, CONTACT, first)], now=first)
    await parties.remember(
        [CaseParties("open", OTHER, None, first + timedelta(days=400))], now=first
    )
    await parties.remember([CaseParties("reopened", CONSULTANT, CONTACT, first)], now=first)
    await parties.closed("reopened", first, timedelta(days=30), now=first)
    await parties.reopened("reopened", now=first + timedelta(days=1))

    assert await parties.forget_expired(first) == 0
    assert await parties.forget_expired(first + timedelta(days=40)) == 0  # reopened: kept
    assert await parties.forget_expired(deadline - timedelta(seconds=1)) == 0
    assert await parties.forget_expired(deadline) == 2
    assert await parties.get("open") is None
    assert await parties.get("reopened") is None


async def test_a_close_consumed_after_its_deadline_is_deleted_at_the_next_purge(
    fresh_db: Db,
) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.ensure_indexes()
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    assert await parties.forget_expired(now - timedelta(days=1)) == 0  # days before are done
    closed_at = now - timedelta(days=45)  # its deadline was 15 days ago
    await parties.remember([CaseParties("late", CONSULTANT, CONTACT, closed_at)])
    await parties.closed("late", closed_at, timedelta(days=30), now=now)
    assert await parties.forget_expired(now) == 1


async def test_the_purge_visits_each_day_once_it_is_finished(fresh_db: Db) -> None:
    parties = CaseParticipants(fresh_db)
    await parties.ensure_indexes()
    start = datetime(2026, 6, 10, 12, tzinfo=UTC)
    await parties.forget_expired(start)
    # Days later (the service was down), each day in between is visited, and a contact
    # due on one of them is deleted.
    due = start + timedelta(days=2)
    await parties.remember([CaseParties("case-x", CONSULTANT, CONTACT, start)])
    await parties.closed("case-x", due - timedelta(days=1), timedelta(days=1), now=start)
    assert await parties.forget_expired(start + timedelta(days=5)) == 1
    state = await fresh_db["service_state"].find_one({"_id": "case_contacts_purge"})
    assert state is not None
    assert state["done_through"] == "2026-06-14"


async def test_a_store_of_the_earlier_version_is_migrated_once(fresh_db: Db) -> None:
    now = datetime.now(UTC)
    deliveries, claims = fresh_db["deliveries"], fresh_db["delivery_claims"]
    legacy = {
        "status": "pending",
        "attempts": 1,
        "cycle": 1,
        "case_id": "case-9",
        "inquiry_id": None,
        "reference": "H-9",
        "recipient": "Someone@Example.dk",
        "next_attempt_at": now,
        "created_at": now,
        "outbox": [],
        "outbox_pending": 0,
        "outbox_lease_until": None,
    }
    await deliveries.insert_many(
        [
            {**legacy, "_id": "claimed"},
            {**legacy, "_id": "free"},
            {**legacy, "_id": "unpublished", "status": "sent", "outbox_pending": 1},
        ]
    )
    await deliveries.create_index("key", unique=True, sparse=True)
    await claims.insert_one(
        {"_id": "claimed/1", "delivery_id": "claimed", "n": 1, "lease_until": now + timedelta(60)}
    )
    await fresh_db["case_contacts"].insert_many(
        [
            {"_id": "case-9", "delete_after": now - timedelta(days=1), "routed_at": now},
            {"_id": "still-open", "delete_after": None, "routed_at": now - timedelta(days=10)},
        ]
    )

    await migrate(fresh_db)
    # What start-up does next: the runtime gives unpublished outcome events the due flag.
    await DeliveryRepository(fresh_db).outbox.ensure_indexes()

    claimed = await deliveries.find_one({"_id": "claimed"})
    free = await deliveries.find_one({"_id": "free"})
    unpublished = await deliveries.find_one({"_id": "unpublished"})
    assert claimed is not None
    assert free is not None
    assert unpublished is not None
    assert claimed["claim"] == "migrated:claimed/1"
    assert free["claim"] == FREE
    assert free["search_terms"] == ["case-9", "h-9", "someone@example.dk"]
    assert free["created_hour"] == created_hour(now)
    assert (unpublished[outbox.DUE], bool(free.get(outbox.DUE))) == (True, False)
    assert "outbox_lease_until" not in free  # the first relay's lease field
    contact = await fresh_db["case_contacts"].find_one({"_id": "case-9"})
    assert contact is not None
    assert contact["delete_on"] == now.date().isoformat()  # past due: deleted on the next purge
    still_open = await fresh_db["case_contacts"].find_one({"_id": "still-open"})
    assert still_open is not None
    three_years = now - timedelta(days=10) + timedelta(days=DELIVERY_MAX_RETENTION_DAYS)
    assert still_open["delete_on"] == three_years.date().isoformat()  # open: the longest
    assert "delivery_claims" not in await fresh_db.list_collection_names()
    assert "key_1" not in await deliveries.index_information()

    # Once migrated, a later start reads nothing again.
    await deliveries.insert_one({**legacy, "_id": "later"})
    await migrate(fresh_db)
    later = await deliveries.find_one({"_id": "later"})
    assert later is not None
    assert "search_terms" not in later
