"""The prove's checks on made-up observations: each one must be able to fall short."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import checks
from observe import Record
from workload import Inquiry, Organisation, Referral, valid_cvr

ORG = Organisation(1, "Prove ApS", "a@prove.example", None)


def rec(topic: str, ce_id: str, ts: int = 0, **body: Any) -> Record:
    return Record(topic, 0, 0, ts, {"ce_id": ce_id}, body)


def inquiry(n: int) -> Inquiry:
    inq = Inquiry(n, f"key-{n}", ORG, 0.0, status="202", inquiry_id=f"inq-{n}")
    return inq


def received(n: int, ce: str | None = None, ts: int = 0) -> Record:
    return rec(checks.INQUIRY_RECEIVED, ce or f"ir-{n}", ts, inquiry_id=f"inq-{n}",
               contact={"email": "a@prove.example"}, organisation_key="org-1")  # fmt: skip


def routed(n: int, ce: str | None = None, ts: int = 1, case: str = "case-1") -> Record:
    return rec(checks.CASE_ROUTED, ce or f"cr-{n}", ts, inquiry_id=f"inq-{n}", case_id=case,
               organisation_key="org-1", contact={"email": "a@prove.example"},
               consultant={"id": "ane", "email": "ane@kommune.example"})  # fmt: skip


def test_a_valid_cvr_passes_the_modulus_11_check() -> None:
    from stdnum.dk import cvr

    assert all(cvr.is_valid(valid_cvr(n)) for n in range(50))


def test_inquiry_received_holds_once_and_tolerates_a_redelivery() -> None:
    inqs = [inquiry(1), inquiry(2)]
    held = checks.inquiry_received(inqs, [received(1), received(1), received(2)])
    assert held.held
    assert held.counts["same event repeated on the topic"] == 1


def test_inquiry_received_falls_short_when_lost_doubled_or_made_by_a_retry() -> None:
    inqs = [inquiry(1), inquiry(2)]
    assert not checks.inquiry_received(inqs, [received(1)]).held  # 2 lost
    assert not checks.inquiry_received(inqs, [received(1), received(2), received(2, "x")]).held
    assert not checks.inquiry_received(inqs, [received(1), received(2), received(3)]).held


def test_two_different_routings_fall_short() -> None:
    inqs = [inquiry(1)]
    assert checks.case_routed(inqs, [routed(1)]).held
    assert not checks.case_routed(inqs, [routed(1), routed(1, "other")]).held


def test_mails_are_expected_by_their_stable_message_id() -> None:
    records = [received(1), routed(1)]
    wanted = checks.expected_mails(records)
    assert sorted(v.split()[0] for v in wanted.values()) == [
        "case_assigned",
        "introduction",
        "receipt",
    ]
    smtp = [{"message_id": m, "accepted": True} for m in wanted]
    assert checks.mails(records, smtp).held
    repeat = checks.mails(records, [*smtp, smtp[0], {"message_id": "x", "accepted": False}])
    assert repeat.held
    assert repeat.counts["arrived again with the same Message-ID (after a crash)"] == 1
    assert not checks.mails(records, smtp[1:]).held


def test_a_follow_up_calls_for_the_follow_up_mails_not_a_new_introduction() -> None:
    first = routed(1)
    later = rec(checks.CASE_ROUTED, "cr-2", 2, inquiry_id="inq-2", case_id="case-1",
                organisation_key="org-1", contact={"email": "a@prove.example"},
                consultant={"id": "ane", "email": "ane@kommune.example"},
                follow_up=True)  # fmt: skip
    kinds = sorted(v.split()[0] for v in checks.expected_mails([first, later]).values())
    assert kinds == ["case_assigned", "case_follow_up", "follow_up_received", "introduction"]


def test_a_webhook_repeat_must_carry_the_same_delivery_id() -> None:
    records = [rec(checks.REFERRAL_MADE, "rm-1", referral_id="r1", case_id="case-1")]
    ok = {"event_id": "rm-1", "delivery_id": "d1", "status": 200, "signature_ok": True}
    failed = {**ok, "status": 500}
    assert checks.webhooks(records, [failed, ok, ok]).held
    assert not checks.webhooks(records, [failed]).held
    assert not checks.webhooks(records, [ok, {**ok, "delivery_id": "d2"}]).held
    assert not checks.webhooks(records, [{**ok, "signature_ok": False}]).held


def test_causal_order() -> None:
    good = [received(1, ts=1), routed(1, ts=2),
            rec(checks.REFERRAL_MADE, "rm", 3, referral_id="r1", case_id="case-1"),
            rec(checks.REFERRAL_UPDATED, "ru", 4, referral_id="r1", case_id="case-1")]  # fmt: skip
    assert checks.causal_order(good).held
    assert not checks.causal_order([received(1, ts=5), routed(1, ts=2)]).held
    answered_first = [
        *good[:3],
        rec(checks.REFERRAL_UPDATED, "ru", 2, referral_id="r1", case_id="case-1"),
    ]
    assert not checks.causal_order(answered_first).held


def test_one_open_case_per_organisation() -> None:
    records = [routed(1), routed(2, case="case-1")]
    assert checks.open_cases(records, {"org-1": [{"status": "assigned"}]}).held
    two = {"org-1": [{"status": "assigned"}, {"status": "new"}]}
    assert not checks.open_cases(records, two).held
    assert not checks.open_cases([routed(1), routed(2, case="case-2")], {}).held


def test_cases_by_api_need_one_case_with_an_owner_matching_the_event() -> None:
    inqs = [inquiry(1)]
    case = {"id": "case-1", "consultant": {"id": "ane"}}
    assert checks.cases_by_api(inqs, [routed(1)], {"inq-1": [case]}).held
    assert not checks.cases_by_api(inqs, [routed(1)], {"inq-1": []}).held
    assert not checks.cases_by_api(inqs, [routed(1)], {"inq-1": [{**case, "consultant": {}}]}).held
    assert not checks.cases_by_api(inqs, [routed(1)], {"inq-1": [{**case, "id": "case-9"}]}).held


def test_referrals_and_lag() -> None:
    ref = Referral("case-1", "m", referral_id="r1", created=True, answered=True)
    made = rec(checks.REFERRAL_MADE, "rm", referral_id="r1", case_id="case-1")
    updated = rec(checks.REFERRAL_UPDATED, "ru", referral_id="r1", case_id="case-1")
    assert checks.referrals([ref], [made, updated]).held
    assert not checks.referrals([ref], [made]).held
    assert checks.lag(12.0, "", {"g": 0}, 40.0).held
    assert not checks.lag(31.0, "g t[0]", {"g": 0}, 31.0).held
    assert not checks.lag(1.0, "", {"g": 3}, 1.0).held


def test_a_stall_does_not_count_the_time_the_only_broker_was_down() -> None:
    from lag import Tracker

    tracker = Tracker(stalls={100.0: 140.0, 200.0: 210.0})
    assert tracker.stalled_for([]) == 40.0
    assert tracker.stalled_for([(110.0, 130.0)]) == 20.0  # 40 s, 20 of them the outage
    assert tracker.stalled_for([(0.0, 1000.0)]) == 0.0


def test_the_cluster_takes_no_writes_while_too_few_brokers_are_up() -> None:
    from chaos import Moment, broker_outages

    one = [Moment(10, "kill", "kafka"), Moment(25, "start", "kafka"), Moment(30, "kill", "intake")]
    assert broker_outages(one, 1) == [(10, 25)]
    three = [
        Moment(5, "kill", "kafka-2"),  # for good: two left, still min.insync.replicas
        Moment(12, "kill", "kafka-3"),
        Moment(30, "start", "kafka-3"),
    ]
    assert broker_outages(three, 3) == [(12, 30)]


def test_outages_are_merged_so_no_second_counts_twice() -> None:
    from chaos import merged

    assert merged([(5, 9), (1, 3), (2, 4), (9, 10)]) == [(1, 4), (5, 10)]


def test_a_services_kills_are_spaced_so_each_is_an_outage_of_its_own() -> None:
    import itertools
    import random

    from chaos import schedule

    for seed in range(20):
        faults = schedule(random.Random(seed), 833, 3, 3, True)
        for name in ("intake", "routing", "notifications", "guide"):
            times = sorted(f.at for f in faults if f.target == name)
            assert len(times) == 3
            assert all(b - a >= 60 for a, b in itertools.pairwise(times))
