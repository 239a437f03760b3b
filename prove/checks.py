"""The checks, made after the drain on what was read from outside: plain functions of what
the load sent, the records on the topics, the mails the SMTP server took, the requests the
webhook receiver answered and what the HTTP APIs said. Each returns a `Check`: held or
fell short, with counts and a few examples."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from observe import Record
from workload import Inquiry, Referral

INQUIRY_RECEIVED = "indgang.inquiry-received.v1"
CASE_ROUTED = "indgang.case-routed.v1"
REFERRAL_MADE = "indgang.referral-made.v1"
REFERRAL_UPDATED = "indgang.referral-updated.v1"
OPEN_STATUSES = {"new", "assigned", "in_progress", "waiting"}


@dataclass
class Check:
    name: str
    held: bool
    counts: dict[str, int | float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    note: str = ""


def _examples(items: Iterable[Any], n: int = 5) -> list[str]:
    return [str(x) for x in list(items)[:n]]


def by_key(records: Iterable[Record], topic: str, key: str) -> dict[str, list[Record]]:
    """The records of `topic` grouped by a body field."""
    found: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.topic == topic and r.body is not None and r.body.get(key):
            found[str(r.body[key])].append(r)
    return found


def _once(name: str, wanted: Iterable[str], seen: dict[str, list[Record]], what: str) -> Check:
    """Each wanted key has exactly one distinct CloudEvent id; repeats of the same id
    (redeliveries, allowed) are counted."""
    wanted = list(wanted)
    missing = [k for k in wanted if k not in seen]
    twice = [k for k in wanted if len({r.ce_id for r in seen.get(k, [])}) > 1]
    repeats = sum(len(seen[k]) - len({r.ce_id for r in seen[k]}) for k in wanted if k in seen)
    extra = [k for k in seen if k not in set(wanted)]
    return Check(
        name,
        held=not missing and not twice,
        counts={
            "expected": len(wanted),
            "missing": len(missing),
            f"two different {what}": len(twice),
            "same event repeated on the topic": repeats,
            "not sent by the prove": len(extra),
        },
        examples=_examples([f"missing {k}" for k in missing] + [f"twice {k}" for k in twice]),
    )


def accepted(inquiries: list[Inquiry]) -> Check:
    statuses = Counter(i.status for i in inquiries)
    retried = sum(1 for i in inquiries if i.tries > 1)
    ids = Counter(i.inquiry_id for i in inquiries if i.inquiry_id)
    reused = sum(1 for c in ids.values() if c > 1)
    return Check(
        "every inquiry sent was answered 202 (retried with its Idempotency-Key through kills)",
        held=statuses.get("202", 0) == len(inquiries) and reused == 0,
        counts={
            "sent": len(inquiries),
            "202": statuses.get("202", 0),
            "needed a retry": retried,
            "one inquiry id for two keys": reused,
        },
        examples=_examples(f"{s}: {n}" for s, n in statuses.items() if s != "202"),
    )


def inquiry_received(inquiries: list[Inquiry], records: list[Record]) -> Check:
    ids = [i.inquiry_id for i in inquiries if i.inquiry_id]
    check = _once(
        "every 202 has exactly one inquiry-received",
        ids,
        by_key(records, INQUIRY_RECEIVED, "inquiry_id"),
        "events",
    )
    # An inquiry-received for an id no 202 gave: a retried POST made a second inquiry.
    check.held = check.held and check.counts["not sent by the prove"] == 0
    return check


def case_routed(inquiries: list[Inquiry], records: list[Record]) -> Check:
    ids = [i.inquiry_id for i in inquiries if i.inquiry_id]
    return _once(
        "every inquiry has exactly one case-routed effect (no two different routings)",
        ids,
        by_key(records, CASE_ROUTED, "inquiry_id"),
        "routings",
    )


def cases_by_api(
    inquiries: list[Inquiry], records: list[Record], answers: dict[str, list[dict[str, Any]]]
) -> Check:
    """`answers`: inquiry id -> what GET /api/v1/cases?inquiry_id= returned."""
    routed = {k: v[-1].body for k, v in by_key(records, CASE_ROUTED, "inquiry_id").items()}
    not_one, no_owner, other_case = [], [], []
    for inq in inquiries:
        if not inq.inquiry_id:
            continue
        cases = answers.get(inq.inquiry_id, [])
        if len(cases) != 1:
            not_one.append(f"{inq.inquiry_id}: {len(cases)} cases")
            continue
        case = cases[0]
        if not (case.get("consultant") or {}).get("id"):
            no_owner.append(case.get("id"))
        event = routed.get(inq.inquiry_id)
        if event is not None and event.get("case_id") != case.get("id"):
            other_case.append(
                f"{inq.inquiry_id}: API {case.get('id')}, event {event.get('case_id')}"
            )
    return Check(
        "every inquiry sits on exactly one case, which has one owner (routing's API)",
        held=not not_one and not no_owner and not other_case,
        counts={
            "asked": len(answers),
            "not on exactly one case": len(not_one),
            "case without owner": len(no_owner),
            "API and case-routed disagree": len(other_case),
        },
        examples=_examples(not_one + no_owner + other_case),
    )


def open_cases(records: list[Record], answers: dict[str, list[dict[str, Any]]]) -> Check:
    """`answers`: organisation key -> GET /api/v1/cases?organisation_key= (open cases)."""
    routed_cases: dict[str, set[str]] = defaultdict(set)
    for key, events in by_key(records, CASE_ROUTED, "organisation_key").items():
        routed_cases[key] |= {str(r.body["case_id"]) for r in events if r.body}
    more = [
        k
        for k, cases in answers.items()
        if sum(1 for c in cases if c.get("status") in OPEN_STATUSES) > 1
    ]
    # Nothing is closed during the run, so an organisation's inquiries all join one case.
    split = [k for k, cases in routed_cases.items() if len(cases) > 1]
    return Check(
        "at most one open case per organisation",
        held=not more and not split,
        counts={
            "organisations": len(answers),
            "with two open cases (API)": len(more),
            "inquiries routed to two cases": len(split),
        },
        examples=_examples(more + split),
    )


def message_id(event_id: str, kind: str, recipient: str) -> str:
    """notifications' stable Message-ID (domain/messages.py): the same on every attempt,
    so a repeat after a crash can be recognised and dropped by the receiving side."""
    key = f"{event_id}|{kind}|email|{recipient.lower()}"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@indgang>"


def expected_mails(records: list[Record]) -> dict[str, str]:
    """Message-ID -> what it is, for the receipts, introductions (or follow-up
    acknowledgements) and consultant notices the events on the topics call for."""
    wanted: dict[str, str] = {}
    for r in records:
        if r.body is None or not r.ce_id:
            continue
        if r.topic == INQUIRY_RECEIVED:
            email = (r.body.get("contact") or {}).get("email")
            if email:
                wanted[message_id(r.ce_id, "receipt", email)] = f"receipt {r.body['inquiry_id']}"
        elif r.topic == CASE_ROUTED:
            email = (r.body.get("contact") or {}).get("email")
            case = r.body.get("case_id")
            # A later inquiry on an open case calls for the follow-up mails instead of an
            # introduction and "Ny sag til dig" (issue 13, point 4).
            follow_up = bool(r.body.get("follow_up"))
            to_inquirer = "follow_up_received" if follow_up else "introduction"
            to_consultant = "case_follow_up" if follow_up else "case_assigned"
            if email:
                wanted[message_id(r.ce_id, to_inquirer, email)] = f"{to_inquirer} {case}"
            consultant = (r.body.get("consultant") or {}).get("email")
            if consultant:
                wanted[message_id(r.ce_id, to_consultant, consultant)] = f"{to_consultant} {case}"
    return wanted


def mails(records: list[Record], smtp: list[dict[str, Any]]) -> Check:
    wanted = expected_mails(records)
    took = Counter(str(m.get("message_id", "")).strip() for m in smtp if m.get("accepted", True))
    refused = sum(1 for m in smtp if m.get("accepted") is False)
    missing = [f"{wanted[mid]} {mid}" for mid in wanted if mid not in took]
    repeats = sum(took[mid] - 1 for mid in wanted if took[mid] > 1)
    kinds = Counter(v.split()[0] for v in wanted.values())
    return Check(
        "every receipt, introduction and consultant notice arrives, once by Message-ID",
        held=not missing,
        counts={
            **{f"expected {k}": n for k, n in kinds.items()},
            "missing": len(missing),
            "arrived again with the same Message-ID (after a crash)": repeats,
            "refused by the SMTP server (then retried)": refused,
            "mails taken in all": sum(took.values()),
        },
        examples=_examples(missing),
        note="A repeat carries the Message-ID of the first: a mail system drops it.",
    )


def webhooks(records: list[Record], hooks: list[dict[str, Any]]) -> Check:
    events = {
        r.ce_id: r.topic
        for r in records
        if r.topic in (REFERRAL_MADE, REFERRAL_UPDATED) and r.ce_id
    }
    ok: dict[str, int] = Counter()
    deliveries: dict[str, set[str]] = defaultdict(set)
    failed = bad_signature = 0
    for h in hooks:
        event = str(h.get("event_id") or "")
        deliveries[event].add(str(h.get("delivery_id") or ""))
        if 200 <= int(h.get("status") or 0) < 300:
            ok[event] += 1
        else:
            failed += 1
        if h.get("signature_ok") is False:
            bad_signature += 1
    missing = [e for e in events if not ok.get(e)]
    two_ids = [e for e in events if len(deliveries.get(e, ())) > 1]
    repeats = sum(n - 1 for e, n in ok.items() if e in events and n > 1)
    return Check(
        "every webhook event reaches the receiver at least once, repeats with the same delivery id",
        held=not missing and not two_ids and bad_signature == 0,
        counts={
            "events": len(events),
            "missing": len(missing),
            "answered 2xx again (repeats)": repeats,
            "requests answered 500 or timed out (then retried)": failed,
            "events with two delivery ids": len(two_ids),
            "bad signatures": bad_signature,
        },
        examples=_examples(missing + two_ids),
    )


def causal_order(records: list[Record]) -> Check:
    """Per case: an inquiry's inquiry-received before its case-routed; a referral's
    referral-made after its case was routed, and before its referral-updated."""
    first: dict[tuple[str, str], int] = {}
    for r in records:
        if r.body is None:
            continue
        for field_ in ("inquiry_id", "referral_id", "case_id"):
            value = r.body.get(field_)
            if value:
                key = (r.topic + "|" + field_, str(value))
                first[key] = min(first.get(key, r.timestamp_ms), r.timestamp_ms)
    # Each referral's case, once (not a scan of every record per referral).
    case_of = {
        k: str(v[0].body["case_id"])
        for k, v in by_key(records, REFERRAL_MADE, "referral_id").items()
        if v[0].body
    }
    wrong = []
    pairs = 0
    for (kind, value), t in first.items():
        if kind == CASE_ROUTED + "|inquiry_id":
            before = first.get((INQUIRY_RECEIVED + "|inquiry_id", value))
            pairs += 1
            if before is None or before > t:
                wrong.append(f"inquiry {value}: case-routed before inquiry-received")
        elif kind == REFERRAL_MADE + "|referral_id":
            case = case_of.get(value)
            routed = first.get((CASE_ROUTED + "|case_id", str(case)))
            updated = first.get((REFERRAL_UPDATED + "|referral_id", value))
            pairs += 2
            if routed is None or routed > t:
                wrong.append(f"referral {value}: made before its case was routed")
            if updated is not None and updated < t:
                wrong.append(f"referral {value}: answered before it was made")
    return Check(
        "per case, events appear in causal order",
        held=not wrong,
        counts={"pairs checked": pairs, "out of order": len(wrong)},
        examples=_examples(wrong),
        note="Kafka record timestamps (set by each producer when the event is published).",
    )


def referrals(refs: list[Referral], records: list[Record]) -> Check:
    made = by_key(records, REFERRAL_MADE, "referral_id")
    updated = by_key(records, REFERRAL_UPDATED, "referral_id")
    created = [r for r in refs if r.created and r.referral_id]
    not_made = [r.referral_id for r in created if r.referral_id not in made]
    twice = [
        r.referral_id
        for r in created
        if len({x.ce_id for x in made.get(r.referral_id or "", [])}) > 1
    ]
    answers = [r for r in created if r.answered]
    not_updated = [r.referral_id for r in answers if r.referral_id not in updated]
    twice_updated = [
        r.referral_id
        for r in answers
        if len({x.ce_id for x in updated.get(r.referral_id or "", [])}) > 1
    ]
    failed = [
        f"{r.case_id}: {r.errors[-1]}"
        for r in refs
        if not r.created or (r.created and not r.answered)
    ]
    return Check(
        "every referral made has one referral-made; every answer one referral-updated",
        held=not not_made and not twice and not not_updated and not twice_updated and not failed,
        counts={
            "referrals asked": len(refs),
            "made": len(created),
            "answered": len(answers),
            "without referral-made": len(not_made),
            "referral-made twice": len(twice),
            "without referral-updated": len(not_updated),
            "referral-updated twice": len(twice_updated),
            "could not be made or answered": len(failed),
        },
        examples=_examples([*not_made, *twice, *not_updated, *twice_updated, *failed]),
    )


def poison(
    injected: list[Any], found: dict[str, Any], groups_of: dict[str, set[str]], max_tries: int = 5
) -> Check:
    """Every poison record dead-lettered, with its reason, by every consumer group that
    reads its topic (`groups_of`: topic -> groups), each after at most `max_tries` tries
    (a try is a dead-letter record of that group for it)."""
    markers = {p.marker: p.topic for p in injected}
    missing = [m for m in markers if m not in found]
    no_reason = [
        m for m in markers if m in found and not all(found[m].reasons or [found[m].reason])
    ]
    groups_missing = [
        f"{m}: {sorted(groups_of.get(t, set()) - set(found[m].groups))}"
        for m, t in markers.items()
        if m in found and not groups_of.get(t, set()) <= set(found[m].groups)
    ]
    too_many = [
        m
        for m in markers
        if m in found and max(found[m].tries_by_group.values(), default=0) > max_tries
    ]
    return Check(
        f"every poison record is dead-lettered with its reason after at most {max_tries} tries",
        held=not missing and not no_reason and not too_many and not groups_missing,
        counts={
            "injected": len(markers),
            "dead-lettered": len(markers) - len(missing),
            "not by every group that reads it": len(groups_missing),
            "without a reason": len(no_reason),
            f"more than {max_tries} tries": len(too_many),
            "most tries by one group": max(
                (max(d.tries_by_group.values(), default=0) for d in found.values()), default=0
            ),
        },
        examples=_examples(missing + groups_missing + no_reason + too_many),
    )


def lag(
    longest_stall: float,
    where: str,
    final: dict[str, int],
    with_outage: float,
    outage_s: float = 0.0,
    limit_s: float = 30,
) -> Check:
    left = {g: n for g, n in final.items() if n}
    return Check(
        f"no partition stalled more than {limit_s:g} s; no lag left at the end",
        held=longest_stall <= limit_s and not left,
        counts={
            "longest stall s": round(longest_stall, 1),
            "the same, counting the time the cluster took no writes": round(with_outage, 1),
            "seconds the cluster took no writes": round(outage_s, 1),
            "lag left": sum(left.values()),
        },
        examples=_examples([f"longest stall at {where}"] + [f"{g}: {n}" for g, n in left.items()]),
        note="A partition stalls while it has lag and its group's committed offset does not "
        "move (sampled every second). While the cluster takes no writes (its only broker "
        "down, two of three down — min.insync.replicas is 2 — or a failover under way; "
        "measured by a probe writing to every partition of a topic of its own each second) "
        "no group can even commit; that time is not counted.",
    )
