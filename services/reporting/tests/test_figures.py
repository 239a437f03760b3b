"""Every figure of every report from a known history (reporting_history.py), worked out by hand;
then the same figures whatever the order, with every event delivered twice."""

from __future__ import annotations

import random
from datetime import date

import pytest
from reporting_history import HISTORY, at, outcome
from reporting_kit import facts_of

from indgang_reporting.domain import figures as f
from indgang_reporting.domain.facts import (
    FactBook,
)
from indgang_reporting.domain.figures import Facts, Selection
from indgang_reporting.domain.periods import Span

TODAY = date(2026, 12, 2)
MONTHS = Selection(Span(date(2026, 11, 1), date(2026, 12, 31), "month"), TODAY)


def book_of(events: list) -> FactBook:  # type: ignore[type-arg]
    book = FactBook()
    for event in events:
        book.record(event)
    return book


@pytest.fixture(scope="module")
def facts() -> Facts:
    return facts_of(book_of(HISTORY), MONTHS.span)


def rows(report: object, attr: str = "periods") -> dict[str, dict[str, object]]:
    return {r.key: r.model_dump(exclude={"key"}) for r in getattr(report, attr)}


def test_inquiries_by_period_door_need_stage_and_consultant(facts: Facts) -> None:
    report = f.inquiries(facts, MONTHS)
    assert rows(report) == {
        "2026-11": dict(total=4, web=2, phone=1, email=0, walk_in=0, forwarded=1, follow_ups=1),
        "2026-12": dict(total=1, web=0, phone=0, email=1, walk_in=0, forwarded=0, follow_ups=0),
    }
    assert report.total.total == 5
    assert report.total.follow_ups == 1
    assert [(c.key, c.count) for c in report.by_door] == [
        ("web", 2),
        ("email", 1),
        ("forwarded:job_centre", 1),
        ("phone", 1),
    ]
    assert {c.key: c.count for c in report.by_need} == {
        "hiring_vulnerable_unemployed": 1,
        "rsv_registration": 1,
        "business_development": 1,
        "funding_and_support": 1,
        "other": 1,
        "selling_to_municipality": 1,
    }
    assert {c.key: c.count for c in report.by_stage} == {
        "start_up": 3,
        "idea": 1,
        "established_social_economy": 1,
    }
    assert [(c.key, c.count) for c in report.by_consultant] == [
        ("ane-kjaer", 3),
        ("bjarne-holm", 1),
        ("camilla-dahl", 1),
    ]


def test_inquiries_per_week_and_by_door() -> None:
    weeks = Selection(Span(date(2026, 11, 2), date(2026, 12, 6), "week"), TODAY)
    report = f.inquiries(facts_of(book_of(HISTORY), weeks.span), weeks)
    assert {k: v["total"] for k, v in rows(report).items()} == {
        "2026-W45": 1,
        "2026-W46": 1,
        "2026-W47": 1,
        "2026-W48": 1,
        "2026-W49": 1,
    }
    web = Selection(MONTHS.span, TODAY, door="web")
    assert f.inquiries(facts_of(book_of(HISTORY), web.span), web).total.total == 2


def test_first_contact_against_the_deadline(facts: Facts) -> None:
    report = f.first_contact(facts, MONTHS)
    november = rows(report)["2026-11"]
    # C1 on time after 1.96 days, C2 a day late after 4.0 days, C3 past its deadline.
    assert november == dict(
        cases=3,
        contacted=2,
        on_time=1,
        late=2,
        waiting=0,
        share_on_time=0.333,
        median_days=3.0,
        p90_days=4.0,
    )
    assert rows(report)["2026-12"] == dict(
        cases=1,
        contacted=0,
        on_time=0,
        late=0,
        waiting=1,
        share_on_time=None,
        median_days=None,
        p90_days=None,
    )
    assert report.total.cases == 4
    assert report.total.waiting == 1
    assert [(c.key, c.count) for c in report.overdue_now] == [("ane-kjaer", 1)]
    assert report.overdue_now_total == 1
    by = rows(report, "by_consultant")
    assert by["ane-kjaer"]["on_time"] == 1
    assert by["ane-kjaer"]["late"] == 1
    assert by["bjarne-holm"]["late"] == 1
    assert by["camilla-dahl"]["waiting"] == 1
    # The door of a case is its opening inquiry's: only C3 came forwarded.
    forwarded = Selection(MONTHS.span, TODAY, door="forwarded")
    assert f.first_contact(facts, forwarded).total.cases == 1


def test_referrals_per_target_with_answers_and_reasons(facts: Facts) -> None:
    report = f.referrals(facts, MONTHS)
    assert rows(report, "by_target") == {
        "business_service": dict(
            made=1,
            answered=0,
            accepted=0,
            declined=0,
            completed=0,
            overdue=1,
            median_days_to_answer=None,
        ),
        "job_centre": dict(
            made=1,
            answered=1,
            accepted=1,
            declined=0,
            completed=1,
            overdue=0,
            median_days_to_answer=2.0,
        ),
        "outside_provider:mentorhuset": dict(
            made=1,
            answered=1,
            accepted=0,
            declined=1,
            completed=0,
            overdue=0,
            median_days_to_answer=0.8,
        ),
    }
    assert rows(report)["2026-11"]["median_days_to_answer"] == 1.4  # (2.0 + 0.75) / 2
    assert report.total.made == 3
    assert [(r.key, r.period, r.reason) for r in report.declined_reasons] == [
        ("outside_provider:mentorhuset", "2026-11", "Ingen kapacitet før januar")
    ]
    only = Selection(MONTHS.span, TODAY, department="job_centre")
    assert f.referrals(facts, only).total.made == 1
    bjarne = Selection(MONTHS.span, TODAY, consultant="bjarne-holm")
    assert f.referrals(facts, bjarne).total.declined == 1


def test_closings_count_each_case_once_a_period_with_its_social_value(facts: Facts) -> None:
    report = f.closed(facts, MONTHS)
    # C2 (last closed 19 Nov): O2 (18 Nov) counts; O3 withdrawn; O6 (25 Nov) is after.
    c2 = dict(
        closed=1,
        reopened=1,
        with_outcomes=1,
        people_employed=0,
        rsv_registrations_helped=1,
        supplier_agreements=0,
        social_clauses=1,
    )
    # C1 (closed 1 Dec 15:00): O1 as corrected (2 + 1) and O4 (1 Dec, entered at 16:00).
    c1 = dict(
        closed=1,
        reopened=0,
        with_outcomes=1,
        people_employed=4,
        rsv_registrations_helped=0,
        supplier_agreements=1,
        social_clauses=0,
    )
    assert rows(report) == {"2026-11": c2, "2026-12": c1}
    assert report.total.model_dump(exclude={"key"}) == dict(
        closed=2,
        reopened=1,
        with_outcomes=2,
        people_employed=4,
        rsv_registrations_helped=1,
        supplier_agreements=1,
        social_clauses=1,
    )
    assert rows(report, "by_consultant") == {"ane-kjaer": c1, "bjarne-holm": c2}
    # Only December: C1's closing, its value the same.
    december = Selection(Span(date(2026, 12, 1), date(2026, 12, 31), "month"), TODAY)
    assert f.closed(facts_of(book_of(HISTORY), december.span), december).total.people_employed == 4


def test_social_value_from_completed_referrals(facts: Facts) -> None:
    report = f.social_value(facts, MONTHS)
    hires = dict(
        completed_referrals=1,
        wage_subsidy_hires=2,
        flex_jobs=1,
        work_placements=0,
        other_hires=1,
        total_hires=4,
    )
    assert rows(report)["2026-11"] == hires
    assert rows(report)["2026-12"]["completed_referrals"] == 0
    assert rows(report, "by_target") == {"job_centre": hires}
    assert rows(report, "by_consultant") == {"ane-kjaer": hires}


def _value(**counts: int) -> dict[str, int]:
    names = (
        "recordings",
        "cases",
        "wage_subsidy_hires",
        "flex_jobs",
        "work_placements",
        "ordinary_hires",
        "people_employed",
        "rsv_registrations_helped",
        "supplier_agreements",
        "social_clauses",
    )
    return {name: counts.get(name, 0) for name in names}


def test_social_value_recorded_by_the_consultants_by_its_day(facts: Facts) -> None:
    report = f.social_value(facts, MONTHS)
    # November: O1 as corrected (its day moved to 24 Nov), O2, O6; O3 withdrawn.
    november = _value(
        recordings=3,
        cases=2,
        wage_subsidy_hires=2,
        flex_jobs=1,
        ordinary_hires=1,
        people_employed=4,
        rsv_registrations_helped=1,
        supplier_agreements=1,
        social_clauses=1,
    )
    december = _value(
        recordings=2,
        cases=2,
        work_placements=2,
        ordinary_hires=1,
        people_employed=3,
        rsv_registrations_helped=1,
    )
    assert rows(report, "recorded_periods") == {"2026-11": november, "2026-12": december}
    assert report.recorded_total.model_dump(exclude={"key"}) == _value(
        recordings=5,
        cases=3,
        wage_subsidy_hires=2,
        flex_jobs=1,
        work_placements=2,
        ordinary_hires=2,
        people_employed=7,
        rsv_registrations_helped=2,
        supplier_agreements=1,
        social_clauses=1,
    )
    assert rows(report, "recorded_by_consultant") == {
        "ane-kjaer": _value(
            recordings=2,
            cases=1,
            wage_subsidy_hires=2,
            flex_jobs=1,
            ordinary_hires=1,
            people_employed=4,
            supplier_agreements=1,
        ),
        "bjarne-holm": _value(
            recordings=2,
            cases=1,
            ordinary_hires=1,
            people_employed=1,
            rsv_registrations_helped=1,
            social_clauses=1,
        ),
        "camilla-dahl": _value(
            recordings=1,
            cases=1,
            work_placements=2,
            people_employed=2,
            rsv_registrations_helped=1,
        ),
    }
    # Not added to the referrals' figures (the same person can be in both).
    assert report.total.total_hires == 4
    # Per consultant; the department filter leaves the recordings alone.
    bjarne = Selection(MONTHS.span, TODAY, consultant="bjarne-holm")
    assert f.social_value(facts, bjarne).recorded_total.people_employed == 1
    assert f.social_value(facts, bjarne).total.total_hires == 0
    business = Selection(MONTHS.span, TODAY, department="business_service")
    assert f.social_value(facts, business).recorded_total.people_employed == 7
    # A span from 25 November: O6 (25 Nov) and December's; O1's day (24 Nov) is before.
    late = Selection(Span(date(2026, 11, 25), date(2026, 12, 31), "month"), TODAY)
    assert f.social_value(facts, late).recorded_total.people_employed == 4
    weeks = Selection(Span(date(2026, 11, 16), date(2026, 12, 6), "week"), TODAY)
    by_week = f.social_value(facts_of(book_of(HISTORY), weeks.span), weeks)
    assert {r.key: r.people_employed for r in by_week.recorded_periods} == {
        "2026-W47": 0,  # O2: RSV and a clause, nobody employed
        "2026-W48": 4,  # O1 (24 Nov), O6 (25 Nov)
        "2026-W49": 3,  # O4, O5
    }


def test_rsv_readiness_by_the_latest_checklist(facts: Facts) -> None:
    report = f.rsv_readiness(facts, MONTHS)
    # C1's latest checklist (1 Dec: ready and registered) counts in December only.
    assert rows(report) == {
        "2026-11": dict(cases=2, ready=1, registered=0, ready_not_registered=1),
        "2026-12": dict(cases=1, ready=1, registered=1, ready_not_registered=0),
    }
    assert report.total.model_dump(exclude={"key"}) == dict(
        cases=3, ready=2, registered=1, ready_not_registered=1
    )
    assert rows(report, "by_criterion") == {
        "social_purpose": dict(met=3, not_yet=0, unknown=0),
        "commercial_activity": dict(met=3, not_yet=0, unknown=0),
        "independence": dict(met=2, not_yet=1, unknown=0),
        "inclusive_governance": dict(met=2, not_yet=0, unknown=1),
        "social_profit_handling": dict(met=2, not_yet=0, unknown=1),
    }
    assert rows(report, "by_consultant") == {
        "ane-kjaer": dict(cases=2, ready=2, registered=1, ready_not_registered=1),
        "bjarne-holm": dict(cases=1, ready=0, registered=0, ready_not_registered=0),
    }
    bjarne = Selection(MONTHS.span, TODAY, consultant="bjarne-holm")
    assert f.rsv_readiness(facts, bjarne).by_criterion[2].not_yet == 1
    november = Selection(Span(date(2026, 11, 1), date(2026, 11, 30), "month"), TODAY)
    only = f.rsv_readiness(facts_of(book_of(HISTORY), november.span), november)
    assert only.total.cases == 2  # C1's November checklists are superseded


def test_messages_count_a_delivery_by_its_last_outcome(facts: Facts) -> None:
    report = f.messages(facts, MONTHS)
    assert rows(report)["2026-11"] == dict(delivered=2, failed=1)
    assert rows(report, "by_kind") == {
        "introduction": dict(delivered=1, failed=0),
        "receipt": dict(delivered=1, failed=0),
        "referral": dict(delivered=0, failed=1),
    }


def test_a_recording_is_its_latest_version_whatever_arrives_when() -> None:
    first = outcome("o9", "c9", "ane-kjaer", date(2026, 11, 3), at(11, 3), flex_jobs=2)
    corrected = outcome("o9", "c9", "ane-kjaer", date(2026, 12, 1), at(11, 4), flex_jobs=1)
    withdrawn = outcome("o9", "c9", "ane-kjaer", date(2026, 12, 1), at(11, 5), withdrawn=True)

    def value(*events: object) -> tuple[int, int]:
        facts = facts_of(book_of(list(events)), MONTHS.span)
        report = f.social_value(facts, MONTHS)
        return report.recorded_total.recordings, report.recorded_total.people_employed

    # The correction moved its day to December and changed its count; a stale version
    # arriving after it (a redelivery) changes nothing.
    assert value(first, corrected) == value(corrected, first) == (1, 1)
    facts = facts_of(book_of([corrected, first, corrected]), MONTHS.span)
    assert [r.key for r in f.social_value(facts, MONTHS).recorded_periods if r.recordings] == [
        "2026-12"
    ]
    # Withdrawn counts nothing, whether it comes first, last or twice.
    assert value(withdrawn, first, corrected) == value(first, withdrawn, corrected, withdrawn)
    assert value(first, corrected, withdrawn) == (0, 0)


def _all_figures(book: FactBook) -> dict[str, object]:
    facts = facts_of(book, MONTHS.span)
    return {name: report(facts, MONTHS).model_dump() for name, report in f.REPORTS.items()}


@pytest.mark.parametrize("seed", range(40))
def test_any_order_with_every_event_twice_gives_the_same_facts_and_figures(seed: int) -> None:
    in_order = book_of(HISTORY)
    shuffled = [*HISTORY, *HISTORY]
    random.Random(seed).shuffle(shuffled)
    again = book_of(shuffled)
    assert again.docs == in_order.docs
    assert _all_figures(again) == _all_figures(in_order)


def test_a_replay_from_scratch_gives_the_same_figures() -> None:
    first = _all_figures(book_of(HISTORY))
    # A rebuild: a new, empty read model fed the whole history again.
    assert _all_figures(book_of(HISTORY)) == first
    # And replaying on top of the built one changes nothing (redelivery after a crash).
    book = book_of(HISTORY)
    for event in HISTORY:
        book.record(event)
    assert _all_figures(book) == first


def test_statistics() -> None:
    assert f.middle([]) is None
    assert f.nearest_rank([], 90) is None
    assert f.middle([1.0, 2.0, 10.0]) == 2.0
    assert f.nearest_rank([float(n) for n in range(1, 11)], 90) == 9.0
    assert f.nearest_rank([1.0], 90) == 1.0


def test_no_personal_data_of_the_enterprises_is_kept() -> None:
    text = repr(book_of(HISTORY).docs)
    for personal in ("Åse", "aase@", "+4520304050", "35954716", "Kaffe", "café", "H-7K3M9Q2P"):
        assert personal not in text


def test_each_report_needs_only_the_facts_it_names(facts: Facts) -> None:
    """The store loads only `NEEDS[report]`: those alone give the same figures."""
    for name, report in f.REPORTS.items():
        only = Facts(**{part: getattr(facts, part) for part in f.NEEDS[name]})
        only.openers = facts.openers
        assert report(only, MONTHS) == report(facts, MONTHS), name
