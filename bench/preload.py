"""`--preload N`: a year's history written before the services start, so the bench shows
whether cost grows with the data (the issue's target: within 1.5x of the empty run).

N historic inquiries, and for each its case, a delivery and the case's recommendations,
one writer per service taking that service's database. The writers must go through the
service's own repository (its indexes, its document shapes, its keyed counter and
index documents) and must leave nothing for the outbox relay to publish: this is
history, its events went out long ago. They run in the bench process before the
service starts, so the service meets the data as it would after a restart.

A writer whose service's repository is still being rewritten (for the store's hot-path
rules, issue 9) raises `NotWritten`, and the bench then says that the preloaded stack
cannot run yet instead of measuring a store filled in some other shape.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_runtime.mongo import connect

Database = AsyncDatabase[dict[str, Any]]
_NAMESPACE = uuid.UUID("5d1b0c52-6f0b-4a53-9a51-2d6b8f3c0a11")  # stable ids across runs


class NotWritten(NotImplementedError):
    """A service's writer is still to be filled in (see the module's docstring)."""


NEEDS = ("business_development", "hiring_vulnerable_unemployed", "funding_and_support",
         "selling_to_municipality", "rsv_registration", "courses_and_mentor_training",
         "legislation", "other")  # fmt: skip
STAGES = ("idea", "start_up", "established_social_economy", "ordinary_company")
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as intake's references
MUNICIPALITY = "756"


@dataclass(frozen=True)
class Past:
    """One historic inquiry and the ids the other services know it by."""

    number: int
    inquiry_id: str
    case_id: str
    reference: str
    email: str
    needs: tuple[str, ...]
    stage: str
    received_at: datetime
    status_at: datetime  # when its case last changed: closed then, or assigned then
    closed: bool  # most of a year's cases are closed; the rest are still open


def _reference(i: int) -> str:
    """H- and 8 characters of intake's alphabet, unique per i ("H-Z…" keeps them apart from
    the random ones new inquiries get, in practice)."""
    digits = []
    for _ in range(7):
        i, digit = divmod(i, len(REFERENCE_ALPHABET))
        digits.append(REFERENCE_ALPHABET[digit])
    return "H-Z" + "".join(reversed(digits))


@dataclass(frozen=True)
class History:
    """N inquiries spread over the year before `until`, the same for all four writers."""

    n: int
    until: datetime
    seed: int = 9

    def __iter__(self) -> Iterator[Past]:
        rng = random.Random(self.seed)
        for i in range(self.n):
            ids = [str(uuid.uuid5(_NAMESPACE, f"{kind}-{i}")) for kind in ("inquiry", "case")]
            received = self.until - timedelta(seconds=rng.uniform(86400, 365 * 86400))
            closed = rng.random() < 0.9
            later = timedelta(days=rng.uniform(1, 60)) if closed else timedelta(hours=1)
            yield Past(
                number=i,
                inquiry_id=ids[0],
                case_id=ids[1],
                reference=_reference(i),
                email=f"history-{i}@example.dk",
                needs=tuple(rng.sample(NEEDS, rng.choice((1, 1, 2, 3)))),
                stage=rng.choice(STAGES),
                received_at=received,
                status_at=min(received + later, self.until - timedelta(minutes=1)),
                closed=closed,
            )

    def batches(self, size: int = 500) -> Iterator[list[Past]]:
        """In slices, so a writer can use one bulk write per slice (one round trip each)."""
        batch: list[Past] = []
        for past in self:
            batch.append(past)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


async def each(history: History, work: Callable[[Past], Awaitable[None]], at_once: int) -> None:
    """work(past) for every inquiry, `at_once` at a time: writers whose repository has no
    bulk call keep the store busy without a task per inquiry. The first inquiry goes
    alone, so the collections it creates exist before the others write: FerretDB v1 on
    PostgreSQL creates a collection under a registry-wide lock, using its connection
    pool, and under concurrent writes that has been seen to deadlock the store."""
    items = iter(history)
    for past in items:
        await work(past)
        break

    async def worker() -> None:
        for past in items:  # one shared iterator: each inquiry goes to one worker
            await work(past)

    await asyncio.gather(*(worker() for _ in range(at_once)))


async def intake(db: Database, history: History) -> None:
    """Each inquiry through `InquiryRepository.add` (with no events: they went out long
    ago), which also notes it as its organisation's latest. Their cases' statuses are
    not applied (`record_case_status` costs three more round trips each), so every
    historic inquiry stays filed under its longest deletion deadline. `prepare()` first,
    on the empty store, so the service's own start finds the deletion schedule in place
    instead of filing 100,000 inquiries."""
    from indgang_intake.adapters.inquiries import InquiryRepository
    from indgang_intake.domain.inquiry import Inquiry, InquirySubmission

    repository = InquiryRepository(db, clock=lambda: history.until)
    await repository.prepare()

    async def one(past: Past) -> None:
        submission = InquirySubmission.model_validate(
            {
                "organisation": {"name": f"Historic {past.number} ApS", "stage": past.stage},
                "contact": {"name": "Historic Person", "email": past.email},
                "needs": list(past.needs),
                "description": "An inquiry from the year before the bench.",
                "privacy_notice_accepted": True,
            }
        )
        inquiry = Inquiry.receive(
            submission,
            municipality_code=MUNICIPALITY,
            privacy_notice_version="2026-11",
            inquiry_id=past.inquiry_id,
            reference=past.reference,
            received_at=past.received_at,
        )
        await repository.add(inquiry, [])

    await each(history, one, at_once=8)


async def routing(db: Database, history: History) -> None:
    """Cases (mostly closed) with their consultants, and the keyed documents routing keeps
    beside them (per-consultant loads, the last consultant of each organisation)."""
    raise NotWritten("routing")


async def notifications(db: Database, history: History) -> None:
    """Each inquiry's receipt as a delivery, stored by `DeliveryRepository.store_all` (a
    bulk write per slice) and then marked sent at its historic time. The sent mark is
    written here, not with `sent()`: that would put a notification-delivered event in the
    outbox for the relay to publish at start, and this is history. `migrate` first, so
    the service's start finds the store at the current schema instead of reading it all."""
    from pymongo import UpdateOne

    from indgang_notifications.adapters.deliveries import DeliveryRepository, PlannedDelivery
    from indgang_notifications.adapters.migrations import migrate
    from indgang_notifications.domain.delivery_log import created_hour
    from indgang_notifications.domain.messages import OutgoingMessage

    await migrate(db)
    repository = DeliveryRepository(db)
    await repository.ensure_indexes()
    for batch in history.batches():
        planned = [
            PlannedDelivery(
                OutgoingMessage(
                    event_id=str(uuid.uuid5(_NAMESPACE, f"inquiry-received-{p.number}")),
                    kind="receipt",
                    channel="email",
                    recipient=p.email,
                    recipient_role="inquirer",
                    language="da",
                    inquiry_id=p.inquiry_id,
                    reference=p.reference,
                ),
                event_type="dk.indgang.inquiry-received.v1",
                municipality_code=MUNICIPALITY,
                subject=f"Vi har modtaget din henvendelse ({p.reference})",
                content={},
            )
            for p in batch
        ]
        await repository.store_all(planned)
        sent = []
        for p, plan in zip(batch, planned, strict=True):
            at = p.received_at + timedelta(seconds=2)
            fields = {"status": "sent", "attempts": 1, "sent_at": at, "created_at": at,
                      "created_hour": created_hour(at), "updated_at": at}  # fmt: skip
            sent.append(UpdateOne({"_id": plan.message.delivery_id}, {"$set": fields}))
        await repository.collection.bulk_write(sent, ordered=False)


async def guide(db: Database, history: History) -> None:
    """Every case's recommendations through `GuideStore.save_recommendations` (one bulk
    write per slice), computed from the packaged guide content as the service would."""
    from indgang_contracts.events import Need, OrganisationStage
    from indgang_guide.adapters.content_files import load_content
    from indgang_guide.adapters.store import CaseRecommendations, GuideStore
    from indgang_guide.domain.recommendations import Recommendation, recommend
    from indgang_guide.settings import GuideSettings

    store = GuideStore(db)
    await store.ensure_indexes()
    content_dir = GuideSettings.model_fields["content_dir"].default
    published = [e for e in load_content(content_dir).entries if e.status == "published"]
    ranked: dict[tuple[tuple[str, ...], str], list[Recommendation]] = {}
    for batch in history.batches():
        saved = []
        for p in batch:
            key = (p.needs, p.stage)
            if key not in ranked:  # a few dozen combinations; ranking is the same for each
                needs = [Need(n) for n in p.needs]
                ranked[key] = recommend(published, needs, OrganisationStage(p.stage), 5)
            saved.append(CaseRecommendations(p.case_id, list(p.needs), p.stage, ranked[key]))
        await store.save_recommendations(saved)


WRITERS: dict[str, Callable[[Database, History], Awaitable[None]]] = {
    "intake": intake,
    "routing": routing,
    "notifications": notifications,
    "guide": guide,
}


async def preload(mongodb_uri: str, databases: dict[str, str], n: int) -> dict[str, float]:
    """Run every writer on its service's database, one after the other (so one writer's
    collection and index creation never meets another's concurrent writes; see `each`);
    seconds each took. Raises NotWritten naming every writer not filled in yet."""
    history = History(n, until=datetime.now(UTC))
    client = connect(mongodb_uri)  # the services' client: time-zone aware, as they read
    missing: list[str] = []
    took: dict[str, float] = {}

    async def one(service: str) -> None:
        t0 = time.monotonic()
        try:
            await WRITERS[service](client[databases[service]], history)
        except NotWritten:
            missing.append(service)
        took[service] = time.monotonic() - t0

    try:
        for service in WRITERS:
            await one(service)
    finally:
        await client.close()
    if missing:
        raise NotWritten(", ".join(sorted(missing)))
    return took
