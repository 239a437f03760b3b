"""Every query reporting runs on a hot path, in one place.

Hot path: per consumed event (the projector: documents by `_id`) and per report
request (the facts of one period by an indexed equality on `month` or `week`,
once per period of the chosen span, at most `periods.MAX_PERIODS`; a consultant's
name by `_id` for each consultant row shown; the cases
still waiting for first contact; a case's opening inquiry by `_id`; the recordings of
social value of each case closed in the chosen periods, by `case_id`). What one
request reads grows with the chosen periods' activity, never with history.
`tests/test_hot_paths.py` proves with `explain` on the real store that each is
answered through an index.

Per purge tick (hourly): the declines whose reason is due, by month.
Not here, because it is not hot: `rebuild` (drops the collections).
"""

from __future__ import annotations

from indgang_runtime.hot_paths import HotQuery

FACT = HotQuery("*", "projector: one fact document by id (load, compare-and-set)", _id="x-1")
INQUIRIES_OF_MONTH = HotQuery("inquiries", "reports: inquiries of a month", month="2026-11")
INQUIRIES_OF_WEEK = HotQuery("inquiries", "reports: inquiries of a week", week="2026-W47")
CASES_OF_MONTH = HotQuery("cases", "reports: cases opened in a month", month="2026-11")
CASES_OF_WEEK = HotQuery("cases", "reports: cases opened in a week", week="2026-W47")
CASES_AWAITING = HotQuery(
    "cases",
    "reports: open cases not yet contacted (overdue now; bounded by the work in flight)",
    awaiting_first_contact=True,
)
CHANGES_OF_MONTH = HotQuery("case_changes", "reports: closings of a month", month="2026-11")
CHANGES_OF_WEEK = HotQuery("case_changes", "reports: closings of a week", week="2026-W47")
REFERRALS_OF_MONTH = HotQuery("referrals", "reports: referrals made in a month", month="2026-11")
REFERRALS_OF_WEEK = HotQuery("referrals", "reports: referrals made in a week", week="2026-W47")
COMPLETED_IN_MONTH = HotQuery(
    "referrals", "reports: referrals completed in a month", completed_month="2026-11"
)
COMPLETED_IN_WEEK = HotQuery(
    "referrals", "reports: referrals completed in a week", completed_week="2026-W47"
)
REASONS_TO_PURGE = HotQuery(
    "referrals",
    "purge: declines whose reason is removed in a month (one query per recent month)",
    reason_purge_month="2029-11",
)
DELIVERIES_OF_MONTH = HotQuery("deliveries", "reports: messages of a month", month="2026-11")
DELIVERIES_OF_WEEK = HotQuery("deliveries", "reports: messages of a week", week="2026-W47")
OUTCOMES_OF_MONTH = HotQuery(
    "outcomes", "reports: social value recorded for a day in a month", month="2026-11"
)
OUTCOMES_OF_WEEK = HotQuery(
    "outcomes", "reports: social value recorded for a day in a week", week="2026-W47"
)
OUTCOMES_OF_CASE = HotQuery(
    "outcomes",
    "reports: the social value recorded on a case closed in the chosen periods (per case)",
    case_id="c-1",
)
RSV_OF_MONTH = HotQuery("rsv", "reports: RSV checklists last changed in a month", month="2026-11")
RSV_OF_WEEK = HotQuery("rsv", "reports: RSV checklists last changed in a week", week="2026-W47")

# The collections every `_id` lookup (FACT) runs on.
FACT_COLLECTIONS = (
    "inquiries",
    "cases",
    "case_changes",
    "referrals",
    "deliveries",
    "consultants",
    "outcomes",
    "rsv",
)

HOT_PATHS: tuple[HotQuery, ...] = (
    FACT,
    INQUIRIES_OF_MONTH,
    INQUIRIES_OF_WEEK,
    CASES_OF_MONTH,
    CASES_OF_WEEK,
    CASES_AWAITING,
    CHANGES_OF_MONTH,
    CHANGES_OF_WEEK,
    REFERRALS_OF_MONTH,
    REFERRALS_OF_WEEK,
    COMPLETED_IN_MONTH,
    COMPLETED_IN_WEEK,
    REASONS_TO_PURGE,
    DELIVERIES_OF_MONTH,
    DELIVERIES_OF_WEEK,
    OUTCOMES_OF_MONTH,
    OUTCOMES_OF_WEEK,
    OUTCOMES_OF_CASE,
    RSV_OF_MONTH,
    RSV_OF_WEEK,
)
