"""Intake's store rules on the real MongoDB-compatible store, with the clock in the test's hand:
deletion deadlines, case closure by reference, repeat contacts and idempotency records.

The repository's own clock (when deadlines are written) stands at T0; each job run
says its own time, as the deletion job's clock would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from pymongo.asynchronous.database import AsyncDatabase
from store_helpers import DAY, MONGODB_URI, T0, add, close, job, submission

from indgang_contracts.envelope import encode
from indgang_contracts.events import CaseStatusChanged, Department
from indgang_contracts.examples import CASE_STATUS_CHANGED
from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.app import create_app
from indgang_intake.domain.inquiry import Door
from indgang_intake.domain.retention import ANONYMISED
from indgang_intake.handlers.idempotent import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    fingerprint,
    submit_once,
)
from indgang_intake.handlers.submit import Receipt, submit_inquiry
from indgang_intake.settings import IntakeSettings


async def test_contact_data_is_anonymised_a_year_after_close_and_at_most_after_three_years(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    closed = await add(repo, T0, email="closed@example.dk")
    open_ = await add(repo, T0, email="open@example.dk", cvr="35954716")
    unpublished = await add(repo, T0, email="waiting@example.dk", published=False)
    later = await add(repo, T0 + 400 * DAY, email="later@example.dk")
    await close(repo, closed, T0 + 10 * DAY)
    await close(repo, unpublished, T0 + 10 * DAY)
    retention = job(repo, db)

    assert (await retention.run_once(T0 + 10 * DAY + 364 * DAY)).anonymised == 0

    assert (await retention.run_once(T0 + 10 * DAY + 366 * DAY)).anonymised == 1
    doc = await repo.collection.find_one({"_id": closed.id})
    assert doc is not None
    assert doc["anonymised_at"] == T0 + 10 * DAY + 366 * DAY
    assert doc["contact"]["name"] == ANONYMISED
    assert doc["contact"]["email"] is None
    assert doc["contact"]["phone"] is None
    assert doc["description"] == ANONYMISED
    assert doc["outbox"] == []  # the event's copy of the contact goes too
    assert doc["organisation_key"] is None  # it was the e-mail
    assert doc["organisation"]["name"] == ANONYMISED  # no CVR: may name a person
    # What statistics need stays.
    assert doc["needs"] == ["rsv_registration"]
    assert doc["channel"] == "web"
    assert doc["received_at"] == T0
    # An event still waiting for Kafka is never lost to a deadline.
    waiting = await repo.collection.find_one({"_id": unpublished.id})
    assert waiting is not None
    assert waiting["contact"]["email"] == "waiting@example.dk"

    # Never closed: at most three years after receipt.
    assert (await retention.run_once(T0 + 3 * 365 * DAY - DAY)).anonymised == 0
    assert (await retention.run_once(T0 + 3 * 365 * DAY + DAY)).anonymised == 1
    kept_org = await repo.collection.find_one({"_id": open_.id})
    assert kept_org is not None
    assert kept_org["contact"]["email"] is None
    assert kept_org["organisation"] == {
        "name": "Grøn Gård",
        "cvr": "35954716",
        "stage": "start_up",
    }
    assert kept_org["organisation_key"] == "cvr:35954716"
    untouched = await repo.collection.find_one({"_id": later.id})
    assert untouched is not None
    assert untouched["anonymised_at"] is None

    # Once published, the waiting one goes too; a second run changes nothing.
    await repo.collection.update_one({"_id": unpublished.id}, {"$set": {"outbox_pending": 0}})
    assert (await retention.run_once(T0 + 3 * 365 * DAY + DAY)).anonymised == 1
    assert (await retention.run_once(T0 + 3 * 365 * DAY + DAY)).anonymised == 0


async def test_idempotency_records_are_deleted_after_24_hours(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    store = IdempotencyStore(db)
    await store.begin("ip:10.0.0.1|a", "fp", T0)
    await store.begin("ip:10.0.0.1|b", "fp", T0 + timedelta(hours=2))
    retention = job(repo, db)
    assert (await retention.run_once(T0 + timedelta(hours=23))).idempotency_deleted == 0
    assert (await retention.run_once(T0 + timedelta(hours=25))).idempotency_deleted == 1
    assert await store.collection.count_documents({}) == 1
    assert (await retention.run_once(T0 + timedelta(hours=27))).idempotency_deleted == 1


async def test_case_closure_is_recorded_by_reference_for_the_inquiry_and_its_follow_ups(
    repo: InquiryRepository,
) -> None:
    first = await add(repo, T0, cvr="35954716")
    follow_up = await add(repo, T0 + DAY, cvr="35954716", follow_up_of=first.id)
    after_close = await add(repo, T0 + 20 * DAY, cvr="35954716", follow_up_of=follow_up.id)

    assert await close(repo, first, T0 + 10 * DAY) == 2
    for inquiry, closed_at in (
        (first, T0 + 10 * DAY),
        (follow_up, T0 + 10 * DAY),
        (after_close, None),
    ):
        doc = await repo.collection.find_one({"_id": inquiry.id})
        assert doc is not None
        assert doc["case_closed_at"] == closed_at, inquiry.reference

    # Reopened: no longer counting down. A late copy of the old close changes nothing.
    await close(repo, first, T0 + 30 * DAY, closed=False)
    await close(repo, first, T0 + 10 * DAY)
    doc = await repo.collection.find_one({"_id": first.id})
    assert doc is not None
    assert doc["case_closed_at"] is None
    assert doc["case_status"] == "in_progress"

    unknown = await repo.record_case_status(
        reference="H-UNKNOWN1", case_id="x", status="closed", closed=True, at=T0
    )
    assert unknown == 0


async def test_repeat_contact_finds_the_latest_earlier_inquiry_still_on_record(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]
) -> None:
    old = await add(repo, T0, cvr="35954716")
    newer = await add(repo, T0 + DAY, cvr="35954716")
    await add(repo, T0 + 2 * DAY, email="other@example.dk")
    assert await repo.latest_for_organisation("cvr:35954716", now=T0 + 2 * DAY) == newer.id
    # Anonymised inquiries no longer identify anyone: no follow-up to them.
    await job(repo, db).run_once(T0 + 3 * 365 * DAY + 2 * DAY)
    assert await repo.latest_for_organisation("cvr:35954716", now=T0 + 3 * 365 * DAY) is None
    assert old.id != newer.id


# --- Idempotency ------------------------------------------------------------------


class Counting:
    """`submit_inquiry` for real, counting calls; can fail once before or after storing."""

    def __init__(self, repo: InquiryRepository, settings: IntakeSettings) -> None:
        self.repo = repo
        self.settings = settings
        self.calls = 0
        self.fail_before_store = False
        self.fail_after_store = False

    async def __call__(self, inquiry_id: str, reference: str) -> Receipt:
        self.calls += 1
        if self.fail_before_store:
            self.fail_before_store = False
            raise ConnectionError("store went away")
        receipt = await submit_inquiry(
            submission("idem@example.dk"),
            door=Door.department_system(Department.JOB_CENTRE),
            repository=self.repo,
            settings=self.settings,
            inquiry_id=inquiry_id,
            reference=reference,
        )
        if self.fail_after_store:
            self.fail_after_store = False
            raise ConnectionError("lost the answer")
        return receipt


@pytest.fixture
def submit(repo: InquiryRepository) -> Counting:
    return Counting(repo, IntakeSettings(mongodb_database="unused"))


async def test_retry_with_the_same_key_gets_the_first_answer(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]], submit: Counting
) -> None:
    store = IdempotencyStore(db)
    body = fingerprint({"a": 1, "b": [1, 2]})
    assert body == fingerprint({"b": [1, 2], "a": 1})  # key order does not matter
    first = await submit_once(
        store, repo, client="department:job_centre", key="k", body_fingerprint=body, submit=submit
    )
    again = await submit_once(
        store, repo, client="department:job_centre", key="k", body_fingerprint=body, submit=submit
    )
    assert not first.replayed
    assert again.replayed
    assert again.receipt == first.receipt
    assert submit.calls == 1
    assert await repo.collection.count_documents({}) == 1

    with pytest.raises(IdempotencyKeyReused):
        await submit_once(
            store,
            repo,
            client="department:job_centre",
            key="k",
            body_fingerprint=fingerprint({"a": 2}),
            submit=submit,
        )
    # The same key from another client is another request.
    other = await submit_once(
        store, repo, client="department:csr", key="k", body_fingerprint=body, submit=submit
    )
    assert other.receipt.inquiry_id != first.receipt.inquiry_id


async def test_concurrent_retry_waits_and_a_crashed_attempt_is_taken_over(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]], submit: Counting
) -> None:
    store = IdempotencyStore(db)
    now = datetime.now(UTC)
    record, _ = await store.begin("ip:10.1.1.1|k", "fp", now)
    # Claimed a moment ago and not finished: the retry is told to wait (409).
    with pytest.raises(IdempotencyInProgress):
        await submit_once(
            store,
            repo,
            client="ip:10.1.1.1",
            key="k",
            body_fingerprint="fp",
            submit=submit,
            now=now,
        )
    # The claimer crashed: a minute later the retry takes over, with the same inquiry id.
    taken = await submit_once(
        store,
        repo,
        client="ip:10.1.1.1",
        key="k",
        body_fingerprint="fp",
        submit=submit,
        now=now + timedelta(minutes=1),
    )
    assert taken.receipt.inquiry_id == record["inquiry_id"]
    assert taken.receipt.reference == record["reference"]


async def test_a_failed_attempt_never_doubles_the_inquiry(
    repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]], submit: Counting
) -> None:
    store = IdempotencyStore(db)
    args: dict[str, Any] = {"client": "ip:10.2.2.2", "body_fingerprint": "fp", "submit": submit}

    submit.fail_before_store = True
    with pytest.raises(ConnectionError):
        await submit_once(store, repo, key="before", **args)
    retried = await submit_once(store, repo, key="before", **args)  # at once, not after 30 s
    assert not retried.replayed

    submit.fail_after_store = True  # stored, but the answer was lost
    with pytest.raises(ConnectionError):
        await submit_once(store, repo, key="after", **args)
    found = await submit_once(store, repo, key="after", **args)
    assert found.replayed
    assert await repo.collection.count_documents({}) == 2


# --- The Kafka subscriber and the background job ------------------------------------


async def test_case_status_changed_subscriber_records_closure(
    db: AsyncDatabase[dict[str, Any]], repo: InquiryRepository
) -> None:
    inquiry = await add(repo, T0)
    settings = IntakeSettings(mongodb_uri=MONGODB_URI, mongodb_database=db.name)
    app = create_app(settings)
    assert app.state.retention.run in app.state.runtime.background
    closed = CaseStatusChanged.model_validate(
        {
            **CASE_STATUS_CHANGED.model_dump(),
            "reference": inquiry.reference,
            "status": "closed",
            "previous_status": "in_progress",
            "changed_at": T0 + 5 * DAY,
            "outcome": "Registreret som RSV.",
        }
    )
    record = encode(closed, source="/indgang/routing")
    async with TestKafkaBroker(app.state.runtime.broker) as broker:
        for _ in range(2):  # redelivered: same result
            await broker.publish(
                record.value, record.topic, key=record.key.encode(), headers=record.headers
            )
    await app.state.runtime.client.close()
    doc = await repo.collection.find_one({"_id": inquiry.id})
    assert doc is not None
    assert doc["case_closed_at"] == T0 + 5 * DAY
    assert doc["case_id"] == closed.case_id
