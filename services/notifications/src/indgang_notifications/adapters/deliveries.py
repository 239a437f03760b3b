"""The deliveries: one document per message, stored before anything is sent.

Life of a delivery: `pending` (stored by the planner) → claimed by a sender
(one compare-and-set on the delivery that also counts the attempt) → `sent`,
or `pending` again with a later `next_attempt_at`, or `dead` after the last
attempt. The outcome event (`notification-delivered`/`-failed`) is written
through the deliveries' outbox in the same write as the status change.

Every query here is declared in `queries.py`: `_id`, or `status: "pending"`
(what is in flight; the due-time check and the order are done in Python).

A delivery's recipient, subject and body are personal data, kept only until
its deadline (`anonymise_after`, filed under the day `anonymise_on`; see
`domain.retention`): three years after it was made, or 365 days after its case
closed if that is sooner. Then `anonymise_expired` removes them and keeps what
the statistics need (ids, kind, channel, role, status, counters, times).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from pymongo.results import UpdateResult

from indgang_contracts.envelope import Record
from indgang_notifications.adapters.queries import (
    DELIVERIES_FOUND_BY,
    DELIVERIES_TO_ANONYMISE,
    DELIVERY,
    PENDING_DELIVERIES,
    STATE,
)
from indgang_notifications.domain.delivery_log import (
    consultant_hour,
    created_hour,
    search_term,
    search_terms,
)
from indgang_notifications.domain.messages import OutgoingMessage
from indgang_notifications.domain.retention import (
    DELIVERY_MAX_RETENTION_DAYS,
    DELIVERY_RETENTION_DAYS,
    anonymise_after,
    days_to_visit,
    finished_through,
)
from indgang_runtime import outbox
from indgang_runtime.deadline_days import scheduled_day
from indgang_runtime.outbox import OutboxCollection

Document = dict[str, Any]

FREE = ""  # the claim of a delivery no sender holds
ANONYMISE_STATE = "deliveries_anonymise"  # the purge's progress in service_state
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Fields the delivery log shows; content, outbox and claim bookkeeping stay inside.
PUBLIC_FIELDS = (
    "kind",
    "channel",
    "recipient",
    "recipient_role",
    "language",
    "case_id",
    "inquiry_id",
    "reference",
    "event_id",
    "event_type",
    "message_id",
    "status",
    "attempts",
    "cycle",
    "next_attempt_at",
    "last_error",
    "errors",
    "subject",
    "created_at",
    "sent_at",
    "dead_at",
    "anonymised_at",
)
# What the sender needs to decide whether a pending delivery is due (not its body).
SCHEDULING_FIELDS = ("status", "claim", "claim_until", "attempts", "cycle", "next_attempt_at")


@dataclass(frozen=True)
class Claim:
    """A sender's claim on the first `count` new deliveries, taken in the write that
    stores them (the sender in this process sends them at once, without looking for
    them or claiming them in a write of their own; the attempt is counted there too)."""

    token: str
    until: datetime
    count: int


@dataclass(frozen=True)
class PlannedDelivery:
    """A rendered message, ready to be stored as a pending delivery."""

    message: OutgoingMessage
    event_type: str
    municipality_code: str
    subject: str | None
    content: dict[str, Any]
    # The consultant who owns the case the message is about (who may see it in the log).
    consultant_id: str | None = None


class DeliveryRepository:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        retention: timedelta = timedelta(days=DELIVERY_RETENTION_DAYS),
        longest: timedelta = timedelta(days=DELIVERY_MAX_RETENTION_DAYS),
    ) -> None:
        self.outbox = OutboxCollection(db["deliveries"])
        self.collection: AsyncCollection[Document] = self.outbox.collection
        self.state: AsyncCollection[Document] = db["service_state"]
        # How long after its case closed, and at most, a delivery keeps its personal data.
        self.retention = retention
        self.longest = longest

    async def ensure_indexes(self) -> None:
        # status: the sender's pending set and the log's dead ones; search_terms,
        # created_hour and consultant_hour: the delivery log. The relay creates its own
        # (outbox_due).
        for field in ("status", "search_terms", "created_hour", "consultant_hour", "anonymise_on"):
            await self.collection.create_index(field)

    async def store_all(
        self, planned: Sequence[PlannedDelivery], claim: Claim | None = None
    ) -> list[Document]:
        """Store each delivery as pending unless it exists (one unordered insert of all,
        by its id, derived from event, kind, channel and recipient); returns the new ones
        as stored. A redelivered event stores nothing new: its inserts are refused as
        duplicates. With `claim`, the first `claim.count` are stored claimed by it, their
        first attempt counted.

        An insert rather than upserts: the store serialises its read-modify-write
        commands (per document by `_id`, per collection otherwise), and an insert needs
        no read, so it runs beside them."""
        if not planned:
            return []
        now = _now()
        docs = [
            _new_delivery(p, now, claim if claim and i < claim.count else None, self.longest)
            for i, p in enumerate(planned)
        ]
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            existing = {e["index"] for e in errors}
            return [doc for i, doc in enumerate(docs) if i not in existing]
        return docs

    async def store(
        self,
        message: OutgoingMessage,
        *,
        event_type: str,
        municipality_code: str,
        subject: str | None,
        content: dict[str, Any],
    ) -> bool:
        """Store one delivery as pending unless it exists; True if it is new."""
        planned = PlannedDelivery(message, event_type, municipality_code, subject, content)
        return len(await self.store_all([planned])) == 1

    async def due(self, now: datetime, limit: int) -> tuple[list[Document], datetime | None]:
        """Pending deliveries a sender may claim now, oldest due first (at most `limit`),
        and when the next of the others becomes claimable (None if there are none).

        Reads the pending set (bounded by the work in flight) without the bodies."""
        pending = await self.collection.find(
            PENDING_DELIVERIES.filter(status="pending"), projection=list(SCHEDULING_FIELDS)
        ).to_list(None)
        ready = [d for d in pending if claimable_at(d) <= now]
        ready.sort(key=lambda d: d["next_attempt_at"])
        later = [claimable_at(d) for d in pending if claimable_at(d) > now]
        return ready[:limit], min(later, default=None)

    async def claim(
        self, seen: Mapping[str, Any], token: str, lease_seconds: float
    ) -> Document | None:
        """Claim a delivery as it was `seen` (by `due`) for one attempt, or None if it
        changed meanwhile (another sender claimed or finished it).

        One compare-and-set on the delivery: its claim, attempts and cycle must still be
        what was seen (attempts grow with every claim, so a delivery claimed and put back
        meanwhile is not taken twice), and the attempt is counted in the same write, before
        sending, so a message that crashes the sender every time still runs out of attempts.
        A claim left by a crashed sender is taken over the same way once it has expired.

        Of several senders that saw the same delivery exactly one wins: a findAndModify is
        atomic per document on MongoDB, and the project's FerretDB build serialises update,
        findAndModify and delete per document they name by `_id`
        (deploy/ferretdb/serialized_writes.go), so it is atomic there too."""
        now = _now()
        return await self.outbox.find_one_and_update(
            {
                **DELIVERY.filter(_id=seen["_id"]),
                "status": "pending",
                "claim": seen["claim"],
                "attempts": seen["attempts"],
                "cycle": seen["cycle"],
            },
            {
                "$set": {
                    "claim": token,
                    "claim_until": now + timedelta(seconds=lease_seconds),
                    "updated_at": now,
                },
                "$inc": {"attempts": 1},
            },
        )

    async def renew(self, doc: Mapping[str, Any], lease_seconds: float) -> Document | None:
        """Extend a claim this sender holds (a delivery that waited in its queue); None if
        it was lost meanwhile."""
        return await self.outbox.find_one_and_update(
            {
                **DELIVERY.filter(_id=doc["_id"]),
                "status": "pending",
                "claim": doc["claim"],
                "attempts": doc["attempts"],
                "cycle": doc["cycle"],
            },
            {"$set": {"claim_until": _now() + timedelta(seconds=lease_seconds)}},
        )

    async def release(self, docs: Sequence[Mapping[str, Any]]) -> int:
        """Give back claims on deliveries this sender will not attempt after all (it is
        stopping), uncounting the attempt, so another sender need not wait for the lease."""
        if not docs:
            return 0
        result = await self.collection.bulk_write(
            [
                UpdateOne(
                    {
                        **DELIVERY.filter(_id=doc["_id"]),
                        "claim": doc["claim"],
                        "attempts": doc["attempts"],
                    },
                    {"$set": {"claim": FREE, "claim_until": EPOCH}, "$inc": {"attempts": -1}},
                )
                for doc in docs
            ],
            ordered=False,
        )
        return result.modified_count

    async def sent(self, doc: Document, outcome: Sequence[Record]) -> bool:
        """Sent: status, dropping the body and, unless it was published already, the
        outcome event, in one write. False if the claim was lost (taken over after it
        expired): that sender records the outcome."""
        return await self._finish(doc, _sent_ops(), outcome)

    async def sent_many(self, docs: Sequence[Document]) -> int:
        """Several deliveries sent whose outcome events were published already: their
        statuses in one bulk write (one store command instead of one each). Returns how
        many were recorded; the rest had lost their claim to another sender."""
        if not docs:
            return 0
        result = await self.collection.bulk_write(
            [
                UpdateOne({**DELIVERY.filter(_id=d["_id"]), "claim": d["claim"]}, _sent_ops())
                for d in docs
            ],
            ordered=False,
        )
        return result.modified_count

    async def retry_later(self, doc: Document, error: str, delay_seconds: float) -> bool:
        now = _now()
        return await self._finish(
            doc,
            {
                "$set": {
                    "next_attempt_at": now + timedelta(seconds=delay_seconds),
                    "last_error": error[:2000],
                    "updated_at": now,
                },
                "$push": {"errors": _error(doc, error, now)},
            },
            [],
        )

    async def dead(self, doc: Document, error: str, outcome: Record) -> bool:
        now = _now()
        return await self._finish(
            doc,
            {
                "$set": {
                    "status": "dead",
                    "dead_at": now,
                    "last_error": error[:2000],
                    "updated_at": now,
                    "next_attempt_at": None,
                },
                "$push": {"errors": _error(doc, error, now)},
            },
            [outcome],
        )

    async def _finish(self, doc: Document, ops: Document, events: Sequence[Record]) -> bool:
        # Only while this sender still holds the claim; the claim is given back in the
        # same write as the outcome.
        ops["$set"].update({"claim": FREE, "claim_until": EPOCH})
        result: UpdateResult = await self.outbox.update(
            {**DELIVERY.filter(_id=doc["_id"]), "claim": doc["claim"]}, ops, events
        )
        return result.modified_count == 1

    async def resend(self, delivery_id: str) -> Document | None:
        """A dead delivery gets a new cycle of attempts; None if it is not dead."""
        now = _now()
        return await self.outbox.find_one_and_update(
            # An anonymised delivery has nothing left to send.
            {**DELIVERY.filter(_id=delivery_id), "status": "dead", "anonymised_at": None},
            {
                "$set": {
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "claim": FREE,
                    "claim_until": EPOCH,
                    "updated_at": now,
                },
                "$inc": {"cycle": 1},
            },
        )

    async def get(self, delivery_id: str) -> Document | None:
        return await self.collection.find_one(DELIVERY.filter(_id=delivery_id))

    async def of_case(self, case_id: str, fields: Sequence[str]) -> list[Document]:
        """The case's deliveries (these `fields`): found by its search term, an indexed
        equality, then by the case id itself among those few."""
        term = search_term(case_id)
        query = {**DELIVERIES_FOUND_BY.filter(search_terms=term), "case_id": case_id}
        return await self.collection.find(query, projection=list(fields)).to_list(None)

    async def reassign(self, case_id: str, consultant_id: str) -> int:
        """The case has a new consultant: its deliveries show in their log, no longer in
        the former one's. Returns how many changed."""
        docs = await self.of_case(case_id, ("created_hour", "consultant_id"))
        moved = [d for d in docs if d.get("consultant_id") != consultant_id]
        if not moved:
            return 0
        result = await self.collection.bulk_write(
            [
                UpdateOne(
                    DELIVERY.filter(_id=d["_id"]),
                    {
                        "$set": {
                            "consultant_id": consultant_id,
                            "consultant_hour": consultant_hour(consultant_id, d["created_hour"]),
                        }
                    },
                )
                for d in moved
            ],
            ordered=False,
        )
        return result.modified_count

    async def case_closed(self, case_id: str, closed_at: datetime, now: datetime) -> None:
        """The case closed: its deliveries' deadlines come forward (to `retention` after
        the closing, unless their three years end sooner)."""
        await self._deadlines(case_id, closed_at, now)

    async def case_reopened(self, case_id: str, now: datetime) -> None:
        """The case is open again: back to the longest deadline."""
        await self._deadlines(case_id, None, now)

    async def _deadlines(self, case_id: str, closed_at: datetime | None, now: datetime) -> None:
        docs = await self.of_case(case_id, ("created_at", "anonymised_at"))
        updates = []
        for doc in docs:
            if doc.get("anonymised_at"):
                continue
            deadline = anonymise_after(doc["created_at"], closed_at, self.retention, self.longest)
            updates.append(
                UpdateOne(
                    DELIVERY.filter(_id=doc["_id"]),
                    {
                        "$set": {
                            "anonymise_after": deadline,
                            "anonymise_on": scheduled_day(deadline, now),
                        }
                    },
                )
            )
        if updates:
            await self.collection.bulk_write(updates, ordered=False)

    async def anonymise_expired(self, now: datetime) -> int:
        """Remove recipient, subject and body of the deliveries whose deadline has passed,
        day by day (an indexed equality on the day); returns how many."""
        state = await self.state.find_one(STATE.filter(_id=ANONYMISE_STATE))
        done = date.fromisoformat(state["done_through"]) if state else None
        anonymised = 0
        for day in days_to_visit(done, now):
            anonymised += await self._anonymise_day(day, now)
        finished_day = finished_through(now)
        if done is None or finished_day > done:
            # $max: an instance with an older view never moves it back.
            await self.state.update_one(
                STATE.filter(_id=ANONYMISE_STATE),
                {"$max": {"done_through": finished_day.isoformat()}},
                upsert=True,
            )
        return anonymised

    async def _anonymise_day(self, day: str, now: datetime) -> int:
        # The deadline is checked only among the day's own deliveries.
        due = await self.collection.find(
            {**DELIVERIES_TO_ANONYMISE.filter(anonymise_on=day), "anonymise_after": {"$lte": now}},
            projection=["case_id", "inquiry_id", "reference", "status"],
        ).to_list(None)
        updates = [
            # One still being sent keeps what it needs, filed under tomorrow (the days
            # before today may be finished) to be visited again.
            UpdateOne(DELIVERY.filter(_id=d["_id"]), {"$set": {"anonymise_on": _tomorrow(now)}})
            if d.get("status") == "pending"
            else UpdateOne(DELIVERY.filter(_id=d["_id"]), _anonymised(d, now))
            for d in due
        ]
        if not updates:
            return 0
        await self.collection.bulk_write(updates, ordered=False)
        return sum(1 for d in due if d.get("status") != "pending")


def _tomorrow(now: datetime) -> str:
    return (now + timedelta(days=1)).astimezone(UTC).date().isoformat()


def _anonymised(doc: Mapping[str, Any], now: datetime) -> Document:
    """What stays of a delivery after its deadline: no recipient, subject, body or error
    history (an SMTP error could quote the address); ids, counters and times stay."""
    return {
        "$set": {
            "recipient": None,
            "key": None,
            "subject": None,
            "errors": [],
            "search_terms": search_terms(
                doc.get("case_id"),
                doc.get("inquiry_id"),
                doc.get("reference"),
                doc.get("case_reference"),
            ),
            "anonymised_at": now,
            "anonymise_after": None,
            "anonymise_on": None,
        },
        "$unset": {"content": ""},
    }


def claimable_at(doc: Mapping[str, Any]) -> datetime:
    """When a pending delivery may be claimed: at its next attempt, or when the claim a
    sender holds on it expires (the sender crashed), whichever is later."""
    at: datetime = doc["next_attempt_at"]
    if doc.get("claim", FREE) != FREE:
        at = max(at, doc["claim_until"])
    return at


def public(doc: Mapping[str, Any]) -> Document:
    shown = {"id": doc["_id"], **{name: doc.get(name) for name in PUBLIC_FIELDS}}
    # FerretDB v1 does not store the empty list of a new delivery (`$setOnInsert`).
    shown["errors"] = shown["errors"] or []
    return shown


def _new_delivery(
    p: PlannedDelivery, now: datetime, claim: Claim | None, longest: timedelta
) -> Document:
    m = p.message
    deadline = anonymise_after(now, None, timedelta(0), longest)
    return {
        "_id": m.delivery_id,
        "key": m.key,
        "event_id": m.event_id,
        "event_type": p.event_type,
        "municipality_code": p.municipality_code,
        "kind": m.kind,
        "channel": m.channel,
        "recipient": m.recipient,
        "recipient_role": m.recipient_role,
        "language": m.language,
        "case_id": m.case_id,
        "inquiry_id": m.inquiry_id,
        "reference": m.reference,
        "case_reference": m.case_reference,
        "search_terms": search_terms(
            m.case_id, m.inquiry_id, m.reference, m.case_reference, m.recipient
        ),
        "consultant_id": p.consultant_id,
        "consultant_hour": consultant_hour(p.consultant_id, created_hour(now)),
        "message_id": m.message_id,
        "subject": p.subject,
        "content": p.content,
        "status": "pending",
        "attempts": 1 if claim else 0,
        "cycle": 1,
        "errors": [],
        "next_attempt_at": now,
        "claim": claim.token if claim else FREE,
        "claim_until": _stored_time(claim.until) if claim else EPOCH,
        "created_at": now,
        "created_hour": created_hour(now),
        "anonymise_after": deadline,
        "anonymise_on": scheduled_day(deadline, now),
        "updated_at": now,
        # The relay's bookkeeping for a document with no events yet, from the runtime
        # (a bulk insert has no OutboxCollection call of its own).
        **outbox.new_outbox(()),
    }


def _error(doc: Mapping[str, Any], error: str, now: datetime) -> Document:
    return {"at": now, "cycle": doc.get("cycle", 1), "attempt": doc["attempts"], "error": error}


def _now() -> datetime:
    return _stored_time(datetime.now(UTC))


def _stored_time(at: datetime) -> datetime:
    # As the store keeps it (BSON dates hold milliseconds), so a delivery handed over in
    # memory equals the stored one.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _sent_ops() -> Document:
    now = _now()
    return {
        "$set": {
            "status": "sent",
            "sent_at": now,
            "updated_at": now,
            "last_error": None,
            # The claim is given back in the same write as the outcome.
            "claim": FREE,
            "claim_until": EPOCH,
        },
        # The message body is personal data we no longer need once it is delivered.
        "$unset": {"content": ""},
    }
