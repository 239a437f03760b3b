"""`--preload N`: a year's history written before the services start, so the bench shows
whether cost grows with the data (the issue's target: within 1.5x of the empty run).

N historic inquiries, and for each its case, a delivery and the case's recommendations,
one writer per service taking that service's database. The writers must go through the
service's own repository (its indexes, its document shapes, its keyed counter and
index documents) and must leave nothing for the outbox relay to publish: this is
history, its events went out long ago. They run in the bench process before the
service starts, so the service meets the data as it would after a restart. How they
write quickly and still through the repositories: `staged`.

Each writer first does, on its still empty database, the one-time work a service does
on its first start on a store (schema upgrades, the outbox's upgrade marker, the
deletion schedule, the periodic jobs' progress): a store with this history has had it
done long ago. Left undone, the service's first start would do it over 100,000
documents (the outbox's upgrade alone scans the collection twice: 90-150 s here).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from indgang_runtime.mongo import connect

# The tests' in-memory store (tests/ is not a package); see `staged`.
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))
from fake_store import FakeDatabase

Database = AsyncDatabase[dict[str, Any]]
_INFRA = Path(__file__).resolve().parents[1] / "deploy" / "infra.sh"
_NAMESPACE = uuid.UUID("5d1b0c52-6f0b-4a53-9a51-2d6b8f3c0a11")  # stable ids across runs


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
    organisation_key: str
    needs: tuple[str, ...]
    stage: str
    received_at: datetime
    status_at: datetime  # when its case last changed: closed then, or assigned then
    closed: bool  # all but the last few days' cases are closed


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
            # Only the last few days' cases are still open: a team's current work, not a
            # tenth of the year's (that would make every open-case list huge).
            closed = self.until - received > timedelta(days=3)
            later = timedelta(days=rng.uniform(1, 60)) if closed else timedelta(hours=1)
            yield Past(
                number=i,
                inquiry_id=ids[0],
                case_id=ids[1],
                reference=_reference(i),
                email=f"history-{i}@example.dk",
                organisation_key=f"email:history-{i}@example.dk",  # as intake derives it
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


async def staged(
    db: Database, history: History, write: Callable[[Any, list[Past]], Awaitable[None]]
) -> None:
    """write(staging, slice) for every slice of the history, where `staging` is an empty
    in-memory database (the tests' fake store, `tests/fake_store.py`) that the writer
    hands to its service's repository; then every document the repository wrote goes to
    the real database with one insert_many per collection.

    Why: through the repositories one document at a time, each write is a PostgreSQL
    commit of its own under FerretDB (100,000 of each took about 20 minutes here); the
    same documents inserted 500 at a time take seconds, and they are still the
    repository's own documents. The repositories' own indexes exist by then (the writer
    prepares the real database first), so the inserts are checked by them too."""
    for batch in history.batches():
        staging = FakeDatabase(db.name)
        await write(staging, batch)
        for name, collection in staging.collections.items():
            if collection.docs:
                await db[name].insert_many(list(collection.docs.values()), ordered=False)


async def intake(db: Database, history: History) -> None:
    """Each inquiry through `InquiryRepository.add` (with no events: they went out long
    ago), which also notes it as its organisation's latest. Their cases' statuses are
    not applied, so every historic inquiry stays filed under its longest deletion
    deadline. `prepare()` first, on the real store while it is empty, so the service's
    own start finds the deletion schedule in place instead of filing every inquiry."""
    from indgang_intake.adapters.inquiries import InquiryRepository
    from indgang_intake.domain.inquiry import Inquiry, InquirySubmission

    repository = InquiryRepository(db, clock=lambda: history.until)
    await repository.prepare()
    await repository.outbox.ensure_indexes()  # the relay's, recording its upgrade done
    await repository.schedule.reschedule(history.until)  # the retention job's first round

    async def write(staging: Any, batch: list[Past]) -> None:
        repository = InquiryRepository(staging, clock=lambda: history.until)
        for past in batch:
            await repository.add(inquiry(past), [])

    def inquiry(past: Past) -> Inquiry:
        submission = InquirySubmission.model_validate(
            {
                "organisation": {"name": f"Historic {past.number} ApS", "stage": past.stage},
                "contact": {"name": "Historic Person", "email": past.email},
                "needs": list(past.needs),
                "description": "An inquiry from the year before the bench.",
                "privacy_notice_accepted": True,
            }
        )
        return Inquiry.receive(
            submission,
            municipality_code=MUNICIPALITY,
            privacy_notice_version="2026-11",
            inquiry_id=past.inquiry_id,
            reference=past.reference,
            received_at=past.received_at,
        )

    await staged(db, history, write)


async def routing(db: Database, history: History) -> None:
    """Each inquiry's case through `CaseRepository.create` (no events), shaped as routing
    opens one and, unless it is recent, already closed; each organisation's latest
    consultant through `OrganisationStore.record`. The
    consultants are the packaged team's, in turn. Per-consultant loads are not written:
    routing reconciles them from the open cases at every start. `StoreUpgrade` first, on
    the empty store, so the service's start finds every migration done. Each case is filed
    under its deletion deadline as routing files a new one, and the deletion job's policy
    is recorded, so the job's first round does not read 100,000 cases to file them again
    (in the background, while the bench measures); the overdue jobs' progress likewise."""
    from indgang_routing.adapters.cases import CaseRepository, closed_slot
    from indgang_routing.adapters.jobs import JobState
    from indgang_routing.adapters.organisations import OrganisationStore, Owner
    from indgang_routing.adapters.seed_files import load_team
    from indgang_routing.adapters.upgrade import StoreUpgrade
    from indgang_routing.domain.calendar import add_working_days, local_day, month_of
    from indgang_routing.domain.case import Case
    from indgang_routing.domain.retention import RetentionPolicy
    from indgang_routing.handlers import overdue
    from indgang_routing.handlers.retention import JOB, NEXT_DAY, POLICY
    from indgang_routing.settings import RoutingSettings
    from indgang_runtime.deadline_days import day_before, day_of

    await StoreUpgrade(db).run()
    repository = CaseRepository(db)
    await repository.ensure_indexes()
    await repository.outbox.ensure_indexes()  # the relay's, recording its upgrade done
    policy = RetentionPolicy.of()  # routing's defaults, as the bench's services run
    jobs = JobState(db)
    await jobs.start(JOB, NEXT_DAY, day_before(day_of(history.until)))
    await jobs.set(JOB, POLICY, policy.describe())
    # The overdue job's progress, as a store with this history has it: its first day is
    # the day before the earliest open case's first-contact deadline (reading every case
    # for it, as a fresh store's first start does, takes minutes at 100,000).
    open_days = [local_day(p.received_at) for p in history if not p.closed]
    earliest = min((add_working_days(d, 3) for d in open_days), default=local_day(history.until))
    await jobs.start(overdue.JOB, overdue.FINISHED, (earliest - overdue.DAY).isoformat())
    # The overdue-referral job's, likewise: no historic case has a referral, so its first
    # round would start from yesterday, after reading every case to find that out.
    until = local_day(history.until)
    await jobs.start(overdue.REFERRAL_JOB, overdue.FINISHED, (until - 2 * overdue.DAY).isoformat())
    team = load_team(RoutingSettings.model_fields["team_file"].default)
    consultants = [c.reference().model_dump(mode="json") for c in team.consultants]

    def case(p: Past) -> dict[str, Any]:
        consultant = consultants[p.number % len(consultants)]
        opened, closed_day = local_day(p.received_at), local_day(p.status_at)
        contact = {"name": "Historic Person", "email": p.email, "phone": None,
                   "preferred_language": "da"}  # fmt: skip
        return {
            "_id": p.case_id,
            # Closed: the organisation's slot is free again, as routing leaves it.
            "open_slot": closed_slot(p.case_id) if p.closed else p.organisation_key,
            "inquiry_ids": [p.inquiry_id],
            "inquiries": [  # as routing's _inquiry_summary
                {
                    "id": p.inquiry_id,
                    "reference": p.reference,
                    "received_at": p.received_at,
                    "channel": "web",
                    "forwarded_by": None,
                    "needs": list(p.needs),
                    "description": "An inquiry from the year before the bench.",
                    "contact": contact,
                    "follow_up_of": None,
                }
            ],
            "reference": p.reference,
            "municipality_code": MUNICIPALITY,
            "organisation_key": p.organisation_key,
            "organisation": {"name": f"Historic {p.number} ApS", "cvr": None, "stage": p.stage},
            "contact": contact,
            "channel": "web",
            "forwarded_by": None,
            "needs": list(p.needs),
            "description": "An inquiry from the year before the bench.",
            "consultant": consultant,
            "status": "closed" if p.closed else "assigned",
            "routing": {
                "reason": "least_loaded",
                "explanation": "History written by the bench.",
                "previous_consultant_id": None,
            },
            "first_contact_due": add_working_days(opened, 3).isoformat(),
            "first_contact": None,
            "overdue_reported_at": None,
            # Watched under its deadline day while open, as routing opens a case.
            "overdue_watch": False if p.closed else add_working_days(opened, 3).isoformat(),
            "outcome": "Historic case, closed." if p.closed else None,
            "closed_at": p.status_at if p.closed else None,
            "closed_month": month_of(closed_day) if p.closed else None,
            "referrals": [],
            "notes": [],
            "applied_event_ids": [],
            "timeline": [],
            "created_at": p.received_at,
            "updated_at": p.status_at,
            "personal_since": p.received_at,
            "anonymised_at": None,
            **policy.schedule(
                p.received_at, p.status_at if p.closed else None, history.until
            ).fields(),
        }

    async def write(staging: Any, batch: list[Past]) -> None:
        cases = CaseRepository(staging)
        for p in batch:
            # Written as the service writes it: the same fields, built here as a dict.
            await cases.create(cast("Case", case(p)), [])
        owners = {
            p.organisation_key: Owner(consultants[p.number % len(consultants)]["id"], p.case_id)
            for p in batch
        }
        await OrganisationStore(staging).record(owners, history.until)

    await staged(db, history, write)


async def notifications(db: Database, history: History) -> None:
    """Each inquiry's receipt as a delivery, stored by `DeliveryRepository.store_all` and
    then marked sent at its historic time. The sent mark is written here, not with
    `sent()`: that would put a notification-delivered event in the outbox for the relay
    to publish at start, and this is history. `migrate` first, on the real store while it
    is empty, so the service's start finds the current schema instead of reading it all."""
    from pymongo import UpdateOne

    from indgang_notifications.adapters.deliveries import DeliveryRepository, PlannedDelivery
    from indgang_notifications.adapters.migrations import migrate
    from indgang_notifications.domain.delivery_log import created_hour
    from indgang_notifications.domain.messages import OutgoingMessage

    await migrate(db)
    deliveries = DeliveryRepository(db)
    await deliveries.ensure_indexes()
    await deliveries.outbox.ensure_indexes()  # the relay's, recording its upgrade done

    async def write(staging: Any, batch: list[Past]) -> None:
        repository = DeliveryRepository(staging)
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

    await staged(db, history, write)


async def guide(db: Database, history: History) -> None:
    """Every case's recommendations through `GuideStore.save_recommendations`, computed
    from the packaged guide content as the service would."""
    from indgang_contracts.events import Need, OrganisationStage
    from indgang_guide.adapters.content_files import load_content
    from indgang_guide.adapters.store import CaseRecommendations, GuideStore
    from indgang_guide.domain.recommendations import Recommendation, recommend
    from indgang_guide.settings import GuideSettings

    await GuideStore(db).ensure_indexes()
    content_dir = GuideSettings.model_fields["content_dir"].default
    published = [e for e in load_content(content_dir).entries if e.status == "published"]
    ranked: dict[tuple[tuple[str, ...], str], list[Recommendation]] = {}

    async def write(staging: Any, batch: list[Past]) -> None:
        saved = []
        for p in batch:
            key = (p.needs, p.stage)
            if key not in ranked:  # a few dozen combinations; ranking is the same for each
                needs = [Need(n) for n in p.needs]
                ranked[key] = recommend(published, needs, OrganisationStage(p.stage), 5)
            saved.append(CaseRecommendations(p.case_id, list(p.needs), p.stage, ranked[key]))
        await GuideStore(staging).save_recommendations(saved)

    await staged(db, history, write)


WRITERS: dict[str, Callable[[Database, History], Awaitable[None]]] = {
    "intake": intake,
    "routing": routing,
    "notifications": notifications,
    "guide": guide,
}


async def settle_store() -> str:
    """Let the store digest the preload before anything is measured (`infra.sh settle`:
    on this instance's PostgreSQL, vacuum, analyse and checkpoint now). Otherwise its
    autovacuum, analyze and checkpoint of 400,000 new rows come in bursts during the first
    steps (seen: a 5.5 s analyze of the inquiries and a checkpoint beside one 25/s step,
    whose p50 went 2-4x). A store holding a year's data has had that done long ago.
    Returns what it did, for the report; a failure is reported, not raised."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        "bash", str(_INFRA), "settle",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    said = (out.decode(errors="replace").strip().splitlines() or [""])[-1].removeprefix("[infra] ")
    took = time.monotonic() - started
    if process.returncode != 0:
        return f"store not settled ({took:.0f} s): {said}"
    return f"{said} ({took:.0f} s in all)"


async def preload(mongodb_uri: str, databases: dict[str, str], n: int) -> dict[str, float]:
    """Run every writer on its service's database at once; seconds each took."""
    history = History(n, until=datetime.now(UTC))
    client = connect(mongodb_uri)  # the services' client: time-zone aware, as they read
    took: dict[str, float] = {}

    async def one(service: str) -> None:
        t0 = time.monotonic()
        await WRITERS[service](client[databases[service]], history)
        took[service] = time.monotonic() - t0

    try:
        await asyncio.gather(*(one(s) for s in WRITERS))
    finally:
        await client.close()
    return took
