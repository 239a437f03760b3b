"""The keyed documents that replace intake's scans, on the real store: each organisation's
latest inquiry (repeat contact), the deletion schedule filed by day, idempotency records
filed by hour, the jobs' progress, and the start-up filing of what older versions wrote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from store_helpers import DAY, POLICY, T0, add, close, job, submission

from indgang_intake.adapters.deletion_schedule import ANONYMISATION_JOB
from indgang_intake.adapters.idempotency import PURGE_JOB, IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Door
from indgang_intake.domain.retention import RetentionPolicy
from indgang_intake.handlers.submit import submit_inquiry
from indgang_intake.settings import IntakeSettings

HOUR = timedelta(hours=1)
SETTINGS = IntakeSettings(mongodb_database="unused")


async def organisation(repo: InquiryRepository, key: str) -> dict[str, Any] | None:
    return await repo.organisations.collection.find_one({"_id": key})


# --- Repeat contact ----------------------------------------------------------------


async def test_repeat_contact_is_found_through_the_organisations_document(
    repo: InquiryRepository,
) -> None:
    async def submit(email: str, **ids: str) -> Any:
        return await submit_inquiry(
            submission(email), door=Door.public(), repository=repo, settings=SETTINGS, **ids
        )

    first = await submit("Ida@Example.dk")
    assert not first.follow_up
    assert (await organisation(repo, "email:ida@example.dk") or {})["inquiry_id"] == (
        first.inquiry_id
    )

    second = await submit("ida@example.dk")  # the key is the normalised address
    assert second.follow_up
    stored = await repo.collection.find_one({"_id": second.inquiry_id})
    assert stored is not None
    assert stored["follow_up_of"] == first.inquiry_id
    assert (await organisation(repo, "email:ida@example.dk") or {})["inquiry_id"] == (
        second.inquiry_id
    )

    # A crash after storing the inquiry but before noting it: the retried submit (same
    # inquiry id) finds it stored, answers as stored and notes it again.
    await repo.organisations.collection.delete_one({"_id": "email:ida@example.dk"})
    again = await submit("ida@example.dk", inquiry_id=second.inquiry_id, reference="H-23456789")
    assert again == second  # never a follow-up of itself, never another reference
    assert (await organisation(repo, "email:ida@example.dk") or {})["inquiry_id"] == (
        second.inquiry_id
    )
    assert await repo.collection.count_documents({"organisation_key": "email:ida@example.dk"}) == 2

    # Only forward in time: noting the older inquiry again changes nothing.
    older = await repo.find(first.inquiry_id)
    assert older is not None
    await repo.note_latest(older)
    assert (await organisation(repo, "email:ida@example.dk") or {})["inquiry_id"] == (
        second.inquiry_id
    )


async def test_an_inquiry_past_its_deadline_is_never_named_as_follow_up(
    repo: InquiryRepository,
) -> None:
    inquiry = await add(repo, T0, email="late@example.dk")
    await close(repo, inquiry, T0 + 10 * DAY)
    deadline = T0 + 10 * DAY + 365 * DAY
    key = "email:late@example.dk"
    assert await repo.latest_for_organisation(key, now=deadline) == inquiry.id
    # Past the deadline it no longer identifies anyone, even before the job has run.
    assert await repo.latest_for_organisation(key, now=deadline + timedelta(seconds=1)) is None
    assert await organisation(repo, key) is not None


# --- Deletion deadlines -----------------------------------------------------------------


async def test_the_organisations_document_goes_with_the_personal_data_of_its_inquiry(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    by_email = await add(repo, T0, email="solo@example.dk")
    first = await add(repo, T0, email="a@firma.dk", cvr="35954716")
    follow_up = await add(
        repo, T0 + 5 * DAY, email="b@firma.dk", cvr="35954716", follow_up_of=first.id
    )
    kept_by_newer = await add(repo, T0, email="twice@example.dk")
    newer = await add(repo, T0 + 500 * DAY, email="twice@example.dk")
    waiting = await add(repo, T0, email="waiting@example.dk", published=False)
    for inquiry in (by_email, first, waiting):
        await close(repo, inquiry, T0 + 10 * DAY)
    assert (await organisation(repo, "cvr:35954716") or {})["inquiry_id"] == follow_up.id
    retention = job(repo, db)

    assert (await retention.run_once(T0 + 375 * DAY)).anonymised == 0
    assert await repo.organisations.collection.count_documents({}) == 4

    # The day after the deadline: the inquiries (the follow-up closed with its case)
    # and the documents that named them.
    assert (await retention.run_once(T0 + 376 * DAY)).anonymised == 3
    assert await organisation(repo, "email:solo@example.dk") is None
    assert await organisation(repo, "cvr:35954716") is None
    # Its event not yet published: kept, and so is the pointer to it.
    assert (await organisation(repo, "email:waiting@example.dk") or {})["inquiry_id"] == (
        waiting.id
    )

    # Three years after receipt the older one goes; the document names the newer one.
    assert (await retention.run_once(T0 + 3 * 365 * DAY + DAY)).anonymised == 1
    gone = await repo.collection.find_one({"_id": kept_by_newer.id})
    assert gone is not None
    assert gone["anonymised_at"] is not None
    assert (await organisation(repo, "email:twice@example.dk") or {})["inquiry_id"] == newer.id

    # Once published, the waiting one goes with its document on the next run.
    await repo.collection.update_one({"_id": waiting.id}, {"$set": {"outbox_pending": 0}})
    assert (await retention.run_once(T0 + 3 * 365 * DAY + DAY + HOUR)).anonymised == 1
    assert await organisation(repo, "email:waiting@example.dk") is None
    doc = await repo.collection.find_one({"_id": waiting.id})
    assert doc is not None
    assert doc["anonymise_on"] is None  # off the schedule


async def test_deadlines_are_filed_by_day_and_follow_the_case(repo: InquiryRepository) -> None:
    inquiry = await add(repo, T0)
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert (doc["anonymise_at"], doc["anonymise_on"]) == (T0 + 1095 * DAY, "2029-01-04")

    await close(repo, inquiry, T0 + 10 * DAY)
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert (doc["anonymise_at"], doc["anonymise_on"]) == (T0 + 375 * DAY, "2027-01-15")

    await close(repo, inquiry, T0 + 20 * DAY, closed=False)  # reopened: back to the maximum
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert (doc["anonymise_at"], doc["anonymise_on"]) == (T0 + 1095 * DAY, "2029-01-04")


async def test_a_deadline_written_after_it_passed_is_filed_under_today_and_not_lost(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    inquiry = await add(repo, T0)
    retention = job(repo, db)
    await retention.run_once(T0 + 700 * DAY)  # the job has moved on past the close's deadline
    # A close at T0 + 10 days reaches intake only at T0 + 800 days (Kafka was away).
    repo.clock = lambda: T0 + 800 * DAY
    await close(repo, inquiry, T0 + 10 * DAY)
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert doc["anonymise_on"] == "2028-03-15"  # T0 + 800 days, not the passed T0 + 375
    assert (await retention.run_once(T0 + 800 * DAY + HOUR)).anonymised == 1


async def test_an_unpublished_inquiry_is_carried_from_day_to_day_until_published(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    waiting = await add(repo, T0, published=False)
    await close(repo, waiting, T0 + 10 * DAY)
    retention = job(repo, db)
    for day in (376, 377, 380):
        assert (await retention.run_once(T0 + day * DAY)).anonymised == 0
        doc = await repo.collection.find_one({"_id": waiting.id})
        assert doc is not None
        assert doc["anonymise_on"] == (T0 + day * DAY).date().isoformat()
    await repo.collection.update_one({"_id": waiting.id}, {"$set": {"outbox_pending": 0}})
    assert (await retention.run_once(T0 + 381 * DAY)).anonymised == 1
    state = await repo.jobs.get(ANONYMISATION_JOB)
    assert state is not None
    assert state["next_day"] == (T0 + 380 * DAY).date().isoformat()  # yesterday stays open


# --- Start-up filing --------------------------------------------------------------------


async def test_inquiries_stored_before_the_schedule_are_filed_at_start_up(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    legacy = db["inquiries"]
    old = {"organisation_key": "cvr:35954716", "anonymised_at": None, "case_closed_at": None}
    await legacy.insert_many(
        [
            {"_id": "a", "reference": "H-AAAAAAAA", "received_at": T0, **old},
            {"_id": "b", "reference": "H-BBBBBBBB", "received_at": T0 + DAY, **old},
            {
                **old,
                "_id": "c",
                "reference": "H-CCCCCCCC",
                "received_at": T0,
                "organisation_key": "email:c@example.dk",
                "case_closed_at": T0 + 10 * DAY,
                "organisation": {"name": "C", "cvr": None},
                "outbox_pending": 0,
            },
        ]
    )
    repo = InquiryRepository(db, POLICY, clock=lambda: T0 + 2 * DAY)
    await repo.prepare()
    await job(repo, db).prepare()  # the retention job's first round, in the background
    filed = {d["_id"]: d["anonymise_on"] async for d in legacy.find({}, {"anonymise_on": 1})}
    assert filed == {"a": "2029-01-04", "b": "2029-01-05", "c": "2027-01-15"}
    assert (await organisation(repo, "cvr:35954716") or {})["inquiry_id"] == "b"
    assert (await organisation(repo, "email:c@example.dk") or {})["inquiry_id"] == "c"

    assert (await job(repo, db).run_once(T0 + 376 * DAY)).anonymised == 1
    assert await organisation(repo, "email:c@example.dk") is None


async def test_a_changed_policy_refiles_every_inquiry_in_the_jobs_first_round(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    inquiry = await add(repo, T0)
    shorter = InquiryRepository(
        db,
        RetentionPolicy.of(days_after_close=30, days_max=60, idempotency_hours=24),
        clock=lambda: T0 + DAY,
    )
    await shorter.prepare()
    await job(shorter, db).prepare()
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert (doc["anonymise_at"], doc["anonymise_on"]) == (T0 + 60 * DAY, "2026-03-06")
    assert (await job(shorter, db).run_once(T0 + 61 * DAY)).anonymised == 1


async def test_a_closing_stored_while_the_first_round_files_keeps_the_deadline_it_wrote(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    """The first round runs while intake consumes case events: its write is a
    compare-and-set on `case_closed_at` as read, so a closing stored between its read
    and its write keeps the earlier deadline it gave the inquiry (30 days after
    closing), not the open one the round computed (60 days after receipt)."""
    inquiry = await add(repo, T0)
    shorter = InquiryRepository(
        db,
        RetentionPolicy.of(days_after_close=30, days_max=60, idempotency_hours=24),
        clock=lambda: T0 + DAY,
    )
    collection = repo.collection

    class ClosedMeanwhile:
        """The inquiries, with the case closed just before the round's write."""

        def find(self, *args: Any, **kwargs: Any) -> Any:
            return collection.find(*args, **kwargs)

        async def bulk_write(self, updates: Any, **kwargs: Any) -> Any:
            await close(shorter, inquiry, T0 + 10 * DAY)
            return await collection.bulk_write(updates, **kwargs)

    shorter.schedule._inquiries = ClosedMeanwhile()  # type: ignore[assignment]
    await job(shorter, db).prepare()
    doc = await collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert doc["case_closed_at"] == T0 + 10 * DAY
    assert doc["anonymise_at"] == T0 + 40 * DAY


# --- Idempotency records ------------------------------------------------------------------


async def test_idempotency_records_are_deleted_hour_by_hour_after_24_hours(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    store = IdempotencyStore(db)
    minutes = timedelta(minutes=1)
    await store.begin("ip:10.0.0.1|a", "fp", T0 + 10 * minutes)  # 09:10
    await store.begin("ip:10.0.0.1|b", "fp", T0 + 50 * minutes)  # 09:50
    await store.begin("ip:10.0.0.1|c", "fp", T0 + 2 * HOUR)  # 11:00
    # Made by the version before the hour buckets: filed at start-up.
    await store.collection.insert_one({"_id": "ip:10.0.0.1|old", "created_at": T0 + 30 * minutes})
    await store.prepare(now=T0 + 2 * HOUR)
    legacy = await store.collection.find_one({"_id": "ip:10.0.0.1|old"})
    assert legacy is not None
    assert legacy["created_hour"] == "2026-01-05T09"

    retention = job(repo, db)
    later = T0 + 24 * HOUR

    async def deleted(at: timedelta) -> int:
        return (await retention.run_once(later + at)).idempotency_deleted

    assert await deleted(20 * minutes) == 1  # 09:10 only
    assert await deleted(55 * minutes) == 2  # 09:30 and 09:50
    assert await deleted(2 * HOUR) == 0  # made at 11:00: 24 hours ago, not more
    assert await deleted(2 * HOUR + minutes) == 1
    assert await store.collection.count_documents({}) == 0
    state = await store.jobs.get(PURGE_JOB)
    assert state is not None
    assert state["next_hour"] == "2026-01-05T11"  # the cutoff's hour stays open
