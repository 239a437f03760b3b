"""The read model's facts: what the reports need of each inquiry, case, referral and
delivery, merged from the events that mention it.

Pure: `touches` names the documents an event changes, `merge` returns them changed.
Every merge is idempotent (an event applied twice leaves what it left once) and,
where the order could differ (events of different topics, a redelivery after later
events), order-independent: a value that several events set is kept by a rule that
does not depend on arrival — the earliest time (`_earliest`), the latest by its own
timestamp (`_latest`), or "either" for flags. So a rebuild from the topics, in any
interleaving, ends in the same documents.

No personal data of the enterprises: no names, e-mail addresses, phone numbers, CVR
numbers or free text of theirs; only codes, times, ids, staff ids and counts, and the
consultants' names (staff data, to name the rows of the reports). The one text
kept is a department's reason for declining a referral (its own words to the
municipality, shown to the team lead as the report asks), cut to 300 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from indgang_contracts.events import (
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    Event,
    FirstContactOverdue,
    InquiryReceived,
    NotificationDelivered,
    NotificationFailed,
    ReferralMade,
    ReferralOverdue,
    ReferralStatus,
    ReferralUpdated,
    RsvCriterion,
    RsvReadinessChanged,
)
from indgang_reporting.domain.periods import day_keys, keys_of, local_date, month_key

Doc = dict[str, Any]
Key = tuple[str, str]  # (collection, _id)

INQUIRIES = "inquiries"
CASES = "cases"
CASE_CHANGES = "case_changes"
REFERRALS = "referrals"
DELIVERIES = "deliveries"
CONSULTANTS = "consultants"  # a staff id's name, to show in the reports (staff data)
OUTCOMES = "outcomes"  # a consultant's recording of social value (case-outcome-recorded)
RSV = "rsv"  # a case's RSV readiness checklist, its latest state (rsv-readiness-changed)
COLLECTIONS = (
    INQUIRIES,
    CASES,
    CASE_CHANGES,
    REFERRALS,
    DELIVERIES,
    CONSULTANTS,
    OUTCOMES,
    RSV,
)
REASON_LENGTH = 300
# A department's reason for declining is kept this many years after the answer (the
# privacy notice's longest deadline), then removed (`reason_purge_month`).
REASON_YEARS = 3
HIRES = ("wage_subsidy_hires", "flex_jobs", "work_placements", "other_hires")
# What a consultant's recording counts (case-outcome-recorded), as in the contract.
EMPLOYED = ("wage_subsidy_hires", "flex_jobs", "work_placements", "ordinary_hires")
WON = ("supplier_agreements", "social_clauses")
CRITERIA = tuple(c.value for c in RsvCriterion)
# When two answers carry the same time, the later step wins.
_STEP = {"accepted": 1, "declined": 2, "completed": 3}


def touches(event: Event) -> list[Key]:
    """The documents `event` changes (each by `_id`)."""
    match event:
        case InquiryReceived():
            return [(INQUIRIES, event.inquiry_id)]
        case CaseRouted():
            return [
                (INQUIRIES, event.inquiry_id),
                (CASES, event.case_id),
                (CONSULTANTS, event.consultant.id),
            ]
        case CaseStatusChanged():
            keys = [(CASES, event.case_id)]
            change = _change_kind(event)
            if change is not None:
                keys.append((CASE_CHANGES, _change_id(event, change)))
            return keys
        case FirstContactOverdue():
            return [(CASES, event.case_id)]
        case ReferralMade():
            return [(REFERRALS, event.referral_id), (CONSULTANTS, event.consultant.id)]
        case ReferralUpdated() | ReferralOverdue():
            return [(REFERRALS, event.referral_id)]
        case NotificationDelivered() | NotificationFailed():
            return [(DELIVERIES, event.delivery_id)]
        case CaseOutcomeRecorded():
            return [(OUTCOMES, event.outcome_id)]
        case RsvReadinessChanged():
            return [(RSV, event.case_id)]
    return []


def merge(event: Event, current: Mapping[Key, Doc | None]) -> dict[Key, Doc]:
    """The documents of `touches(event)` with `event` applied (new dicts; `current`
    holds what is stored, None for a document not yet there)."""
    out: dict[Key, Doc] = {}
    for key in touches(event):
        doc = dict(current.get(key) or {"_id": key[1]})
        doc.pop("rev", None)
        _apply(event, key[0], doc)
        out[key] = _stored(doc)
    return out


def _stored(value: Any) -> Any:
    """As the store gives it back: times in UTC to the millisecond (BSON's precision), so
    what was merged compares equal to what is read again, and a merge that changes
    nothing writes nothing."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        aware = aware.astimezone(UTC)
        return aware.replace(microsecond=aware.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def _apply(event: Event, collection: str, doc: Doc) -> None:
    match event, collection:
        case InquiryReceived(), _:
            _inquiry(event, doc)
        case CaseRouted(), "inquiries":
            _inquiry_routed(event, doc)
        case CaseRouted(), "consultants":
            _named(doc, event.consultant.name, event.routed_at)
        case CaseRouted(), _:
            _case_routed(event, doc)
        case CaseStatusChanged(), "cases":
            _case_status(event, doc)
        case CaseStatusChanged(), _:
            _case_change(event, doc)
        case FirstContactOverdue(), _:
            _earliest(doc, "overdue_detected_at", event.detected_at)
        case ReferralMade(), "consultants":
            _named(doc, event.consultant.name, event.made_at)
        case ReferralMade(), _:
            _referral_made(event, doc)
        case ReferralUpdated(), _:
            _referral_answered(event, doc)
        case ReferralOverdue(), _:
            _earliest(doc, "overdue_at", event.detected_at)
            doc.setdefault("case_id", event.case_id)
        case NotificationDelivered(), _:
            _delivery(event, doc, "delivered", event.delivered_at)
        case NotificationFailed(), _:
            _delivery(event, doc, "failed", event.failed_at)
        case CaseOutcomeRecorded(), _:
            _outcome(event, doc)
        case RsvReadinessChanged(), _:
            _rsv(event, doc)


# --- the rules that make a merge order-independent -----------------------------------


def _earliest(doc: Doc, field: str, value: datetime | None) -> bool:
    """Keep the earliest of the stored value and `value`; True if `value` is kept."""
    if value is None:
        return False
    stored = doc.get(field)
    if stored is None or value < stored:
        doc[field] = value
        return True
    return bool(value == stored)


def _latest(doc: Doc, field: str, value: datetime, rank: int = 0) -> bool:
    """Whether `value` (with `rank` to break a tie) is at least as late as the stored
    `field` (and its rank in `field + '_rank'`): then the caller writes its fields."""
    stored = doc.get(field)
    stored_rank = doc.get(field + "_rank", 0)
    if stored is None or (value, rank) >= (stored, stored_rank):
        doc[field] = value
        doc[field + "_rank"] = rank
        return True
    return False


def _named(doc: Doc, name: str, at: datetime) -> None:
    """A consultant's name: the one in the latest event that names them."""
    if _latest(doc, "named_at", at):
        doc["name"] = name


# --- inquiries ------------------------------------------------------------------------


def _inquiry(event: InquiryReceived, doc: Doc) -> None:
    doc.update(
        received_at=event.received_at,
        **keys_of(event.received_at),
        channel=event.channel.value,
        forwarded_by=event.forwarded_by.value if event.forwarded_by else None,
        needs=sorted(need.value for need in event.needs),
        stage=event.organisation.stage.value,
        registered_by_staff=event.received_by is not None,
    )
    doc["follow_up"] = bool(doc.get("follow_up")) or event.follow_up_of is not None


def _inquiry_routed(event: CaseRouted, doc: Doc) -> None:
    doc["follow_up"] = bool(doc.get("follow_up")) or event.follow_up
    if _latest(doc, "routed_at", event.routed_at):
        doc.update(case_id=event.case_id, consultant_id=event.consultant.id)


# --- cases ------------------------------------------------------------------------------


def _case_routed(event: CaseRouted, doc: Doc) -> None:
    if _latest(doc, "routed_at", event.routed_at):
        doc["consultant_id"] = event.consultant.id
    if not event.follow_up and _earliest(doc, "first_routed_at", event.routed_at):
        doc.update(
            **keys_of(event.routed_at),
            opening_inquiry_id=event.inquiry_id,
            first_contact_due=event.first_contact_due.isoformat(),
        )
    _derive_case(doc)


def _case_status(event: CaseStatusChanged, doc: Doc) -> None:
    if _latest(doc, "status_at", event.changed_at):
        doc["status"] = event.status.value
    doc.setdefault("consultant_id", event.consultant_id)
    if event.first_contact_at is not None and _earliest(
        doc, "first_contact_at", event.first_contact_at
    ):
        channel = event.first_contact_channel
        doc["first_contact_channel"] = channel.value if channel else None
    _derive_case(doc)


def _derive_case(doc: Doc) -> None:
    """Fields computed from the others (so the order of the events does not matter)."""
    doc["awaiting_first_contact"] = bool(
        doc.get("first_routed_at") is not None
        and doc.get("first_contact_at") is None
        and doc.get("status") != CaseStatus.CLOSED.value
    )


def _change_kind(event: CaseStatusChanged) -> str | None:
    if event.status is CaseStatus.CLOSED:
        return "closed"
    if event.reopened:
        return "reopened"
    return None


def _change_id(event: CaseStatusChanged, kind: str) -> str:
    # The same closing redelivered (even re-published with a new CloudEvent id) is one.
    return f"{event.case_id}|{kind}|{event.changed_at.isoformat()}"


def _case_change(event: CaseStatusChanged, doc: Doc) -> None:
    doc.update(
        case_id=event.case_id,
        kind=_change_kind(event),
        at=event.changed_at,
        **keys_of(event.changed_at),
        consultant_id=event.consultant_id,
    )


# --- referrals ------------------------------------------------------------------------


def _referral_made(event: ReferralMade, doc: Doc) -> None:
    doc.update(
        case_id=event.case_id,
        made_at=event.made_at,
        **keys_of(event.made_at),
        department=event.target.department.value,
        provider_id=event.target.provider_id,
        consultant_id=event.consultant.id,
        response_due=event.response_due.isoformat() if event.response_due else None,
        needs=sorted(need.value for need in event.needs),
    )


def _referral_answered(event: ReferralUpdated, doc: Doc) -> None:
    doc.setdefault("case_id", event.case_id)
    if "consultant_id" not in doc and event.consultant is not None:
        doc["consultant_id"] = event.consultant.id
    doc.setdefault("department", event.answered_by.value)
    doc.setdefault("provider_id", event.answered_by_provider_id)
    _earliest(doc, "first_answer_at", event.answered_at)
    status = event.status.value
    if _latest(doc, "status_at", event.answered_at, _STEP.get(status, 0)):
        doc["status"] = status
    answers: dict[str, Any] = dict(doc.get("answers") or {})
    previous = answers.get(status)
    if previous is None or event.answered_at >= previous["at"]:
        answer: Doc = {"at": event.answered_at}
        if event.status is ReferralStatus.DECLINED and event.reason:
            answer["reason"] = event.reason.strip()[:REASON_LENGTH]
            doc["reason_purge_month"] = purge_month(event.answered_at)
        if event.status is ReferralStatus.COMPLETED and event.outcome is not None:
            answer["hires"] = {field: getattr(event.outcome, field) for field in HIRES}
        answers[status] = answer
    doc["answers"] = answers
    completed = answers.get("completed")
    if completed is not None:
        keys = keys_of(completed["at"])
        doc.update(completed_month=keys["month"], completed_week=keys["week"])


def purge_month(answered_at: datetime) -> str:
    """The month in which a decline's reason is removed: REASON_YEARS after the answer."""
    day = local_date(answered_at)
    return month_key(day.replace(year=day.year + REASON_YEARS, day=1))


# --- deliveries -----------------------------------------------------------------------


def _delivery(
    event: NotificationDelivered | NotificationFailed, doc: Doc, outcome: str, at: datetime
) -> None:
    # A delivery given up and then resent and delivered: the later outcome is its state.
    if _latest(doc, "at", at, 1 if outcome == "delivered" else 0):
        doc.update(
            outcome=outcome,
            **keys_of(at),
            kind=event.message_kind,
            channel=event.channel.value,
            recipient_role=event.recipient_role,
        )


# --- social value recorded by the consultant; RSV readiness ---------------------------


def _outcome(event: CaseOutcomeRecorded, doc: Doc) -> None:
    """One document per recording (`outcome_id`): the version with the latest
    `recorded_at` replaces the whole recording (its counts, its day and so its period);
    a withdrawn one stays, counting nothing (and wins a tie). `first_recorded_at` (the
    earliest version) says when it was first put on the case."""
    _earliest(doc, "first_recorded_at", event.recorded_at)
    if _latest(doc, "recorded_at", event.recorded_at, int(event.withdrawn)):
        doc.update(
            case_id=event.case_id,
            consultant_id=event.consultant_id,
            occurred_on=event.occurred_on.isoformat(),
            **day_keys(event.occurred_on),
            **{name: int(getattr(event, name)) for name in (*EMPLOYED, *WON)},
            rsv_registration_helped=event.rsv_registration_helped,
            withdrawn=event.withdrawn,
        )


def _rsv(event: RsvReadinessChanged, doc: Doc) -> None:
    """One document per case: the whole checklist of the latest `changed_at`, in the
    period of that change (ties: registered over not, ready over not)."""
    rank = 2 * int(event.registered) + int(event.ready)
    if _latest(doc, "changed_at", event.changed_at, rank):
        doc.update(
            consultant_id=event.consultant_id,
            **keys_of(event.changed_at),
            criteria={c.value: s.value for c, s in sorted(event.criteria.items())},
            ready=event.ready,
            registered=event.registered,
            registered_on=event.registered_on.isoformat() if event.registered_on else None,
        )


class FactBook:
    """The facts in memory: the same merges as the store, for the tests and replays."""

    def __init__(self) -> None:
        self.docs: dict[Key, Doc] = {}

    def record(self, event: Event) -> None:
        self.docs.update(merge(event, {key: self.docs.get(key) for key in touches(event)}))

    def of(self, collection: str) -> list[Doc]:
        return [doc for (name, _), doc in self.docs.items() if name == collection]
