"""Every query routing runs on a hot path, in one place.

Hot = per consumed event, per HTTP request (console pages, the staff and
department APIs), per outbox-relay tick and per periodic-job tick. Each is `_id`
or top-level scalar equality on an indexed field, and its answer is bounded by
current work (open cases, the team, one organisation, one month), never by
history: FerretDB v1 pushes nothing else down, so anything else decodes the
whole collection. The adapters build their filters from these constants, and
`tests/test_hot_paths.py` explains each one on the real store and fails when
one is not answered through an index.

A compare-and-set update by `_id` adds conditions on that one document (status
still as decided, `$ne`, `$in`, dotted referral paths, a counter still as read);
they cost nothing more. Startup migrations, the load reconciliation's first run
and the overdue job's first-day lookup at startup are not hot.
"""

from __future__ import annotations

from indgang_runtime.hot_paths import HotQuery
from indgang_runtime.outbox import RELAY_QUERIES

CASES = "cases"
CONSULTANTS = "consultants"
PROVIDERS = "providers"
ORGANISATIONS = "organisations"
MIGRATIONS = "migrations"
JOBS = "jobs"

# --- cases ---------------------------------------------------------------------------

CASE = HotQuery(CASES, "one case (its page, every action on it, a referral answer)", _id="c-1")
CASE_OF_INQUIRY = HotQuery(
    CASES, "the case an inquiry is on (per inquiry; API filter)", inquiry_ids="inquiry-1"
)
OPEN_CASE_OF_ORGANISATION = HotQuery(
    CASES, "the organisation's one open case (per inquiry)", open_slot="cvr:12345678"
)
CASE_OF_REFERRAL = HotQuery(
    CASES, "the case holding a referral (department API)", referral_ids="referral-1"
)
CASES_OF_ORGANISATION = HotQuery(
    CASES, "an organisation's cases (API filter)", organisation_key="cvr:12345678"
)
CASES_IN_STATUS = HotQuery(
    CASES,
    "open cases in one status (team lead's lists, team page, API, load reconciliation)",
    status="assigned",
)
CONSULTANT_CASES_IN_STATUS = HotQuery(
    CASES,
    "a consultant's cases in one status (my cases, API, moving all their cases)",
    consultant_id="ane-kjaer",
    status="assigned",
)
CONSULTANT_CLOSED_IN_MONTH = HotQuery(
    CASES,
    "a consultant's cases closed in one month (my recently closed cases)",
    consultant_id="ane-kjaer",
    closed_month="2026-11",
)
AWAITING_FIRST_CONTACT = HotQuery(
    CASES,
    "cases due on one day, still awaiting first contact and not reported (overdue job: "
    "one query per day not yet finished)",
    overdue_watch="2026-11-30",
)
REFERRALS_DUE = HotQuery(
    CASES,
    "cases with a referral unanswered whose answer deadline was one day (overdue-referral "
    "job: one query per day not yet finished; multikey)",
    referral_watch="2026-11-30",
)
DUE_FOR_ANONYMISATION = HotQuery(
    CASES,
    "cases whose deletion deadline falls on one day (deletion job: one query per day not "
    "yet finished)",
    anonymise_on="2027-11-30",
)

CASES_WITH_TERM = HotQuery(
    CASES,
    "cases found by one search term (team lead's search, API `q`; at most 500, the other "
    "filters and the order by deadline in Python)",
    search_terms="grøn",
)
CONSULTANT_CASES_WITH_TERM = HotQuery(
    CASES,
    "a consultant's cases found by one search term (their search, API `q`)",
    consultant_id="ane-kjaer",
    search_terms="grøn",
)

# --- the team, its loads, the providers, the organisations ---------------------------

TEAM = HotQuery(
    CONSULTANTS,
    "the team with each member's number of open cases (per inquiry batch that opens a "
    "case; every page: who is signed in)",
    active=True,
)
CONSULTANT = HotQuery(CONSULTANTS, "one member (edit, remove, their open cases)", _id="ane-kjaer")
FORMER_MEMBERS = HotQuery(
    CONSULTANTS, "members who left (load reconciliation, revival)", active=False
)
DEPUTY_OF = HotQuery(CONSULTANTS, "members whose deputy leaves the team", deputy="ane-kjaer")
PROVIDER_LIST = HotQuery(PROVIDERS, "the outside providers (case page, referrals)", active=True)
PROVIDER = HotQuery(PROVIDERS, "one provider (edit, remove)", _id="mentorhuset")
ORGANISATION = HotQuery(
    ORGANISATIONS, "an organisation's latest consultant (per new case)", _id="cvr:12345678"
)
MIGRATION = HotQuery(MIGRATIONS, "whether a startup migration ran", _id="cases-open-slot")
JOB = HotQuery(
    JOBS,
    "a periodic job's progress (overdue jobs: the last finished day; deletion job: the "
    "first day not finished)",
    _id="first-contact-overdue",
)

HOT_PATHS: tuple[HotQuery, ...] = (
    CASE,
    CASE_OF_INQUIRY,
    OPEN_CASE_OF_ORGANISATION,
    CASE_OF_REFERRAL,
    CASES_OF_ORGANISATION,
    CASES_IN_STATUS,
    CONSULTANT_CASES_IN_STATUS,
    CONSULTANT_CLOSED_IN_MONTH,
    AWAITING_FIRST_CONTACT,
    REFERRALS_DUE,
    DUE_FOR_ANONYMISATION,
    TEAM,
    CONSULTANT,
    FORMER_MEMBERS,
    DEPUTY_OF,
    PROVIDER_LIST,
    PROVIDER,
    ORGANISATION,
    MIGRATION,
    JOB,
)
# The outbox relay's queries (its own due documents; the takeover sweep's all due
# documents), on every collection with an outbox.
OUTBOX_COLLECTIONS: tuple[str, ...] = (CASES,)
RELAY = RELAY_QUERIES
