"""Every query notifications runs on a hot path, in one place.

Hot path: per consumed event (the planner), per sender round, per HTTP request
(the delivery log, the APIs), per relay tick and per purge tick. Each is an
`_id` lookup or a top-level equality on an indexed field whose result does not
grow with history; `tests/test_hot_paths.py` proves with `explain` on the real
store that each is answered through an index. The outbox relay's own query
(`indgang_runtime.outbox.OWN_DUE_DOCUMENTS` and `DUE_DOCUMENTS`) run on `deliveries`.

Not here, because they are not hot: the start-up migration and the loading of
`subscriptions.toml`, and the admin's list of subscriptions (`find({})` on a
collection of a handful of configuration documents).
"""

from __future__ import annotations

from indgang_runtime.hot_paths import HotQuery
from indgang_runtime.outbox import DUE_DOCUMENTS, OWN_DUE_DOCUMENTS

# The collections with an outbox (the relay's `DUE_DOCUMENTS` runs on each).
OUTBOX_COLLECTIONS = ("deliveries",)

DELIVERY = HotQuery(
    "deliveries",
    "one delivery: store, claim (compare-and-set), outcome, resend, the log's detail",
    _id="0123abcd",
)
PENDING_DELIVERIES = HotQuery(
    "deliveries",
    "sender: deliveries not yet sent or given up (bounded by the work in flight)",
    status="pending",
)
DEAD_DELIVERIES = HotQuery(
    "deliveries", "delivery log: deliveries given up (they leave when resent)", status="dead"
)
DELIVERIES_FOUND_BY = HotQuery(
    "deliveries",
    "delivery log search: exact case id, inquiry id, reference or recipient",
    search_terms="h-2026-000123",
)
DELIVERIES_CREATED_IN = HotQuery(
    "deliveries", "delivery log listing: the deliveries of one hour", created_hour="2026-11-30T22"
)
DELIVERIES_OF_CONSULTANT_IN = HotQuery(
    "deliveries",
    "delivery log listing for a consultant: their cases' deliveries of one hour",
    consultant_hour="ane-kjaer|2026-11-30T22",
)
DELIVERIES_TO_ANONYMISE = HotQuery(
    "deliveries",
    "purge: deliveries whose recipient, subject and body are due to go on a day",
    anonymise_on="2026-11-30",
)
CASE_CONTACTS = HotQuery("case_contacts", "who a case is between (planner)", _id="case-1")
CONTACTS_TO_DELETE = HotQuery(
    "case_contacts",
    "purge: closed cases' contacts due for deletion on a day",
    delete_on="2026-11-30",
)
SUBSCRIPTION = HotQuery("subscriptions", "one subscription (webhook send, API)", _id="jobcenter")
ACTIVE_SUBSCRIPTIONS = HotQuery(
    "subscriptions", "planner: who subscribes to anything (once per batch)", active=True
)
STATE = HotQuery(
    "service_state", "the purge's progress, the schema version", _id="case_contacts_purge"
)

HOT_PATHS: tuple[HotQuery, ...] = (
    DELIVERY,
    PENDING_DELIVERIES,
    DEAD_DELIVERIES,
    DELIVERIES_FOUND_BY,
    DELIVERIES_CREATED_IN,
    DELIVERIES_OF_CONSULTANT_IN,
    DELIVERIES_TO_ANONYMISE,
    CASE_CONTACTS,
    CONTACTS_TO_DELETE,
    SUBSCRIPTION,
    ACTIVE_SUBSCRIPTIONS,
    STATE,
    OWN_DUE_DOCUMENTS,
    DUE_DOCUMENTS,
)
