"""Every query intake runs on a hot path, in one place.

Hot path = per public request (form, API, staff form, status), per consumed
`case-status-changed`, per outbox-relay tick and per tick of the deletion job.
Each is `_id` or top-level equality on an indexed field, so its cost does not
grow with the data (FerretDB v1 pushes nothing else down). Updates and deletes
by `_id` may add conditions on that one document (compare-and-set); they cost
nothing more. `tests/test_hot_paths.py` explains each on the real store and
fails when one is not answered through an index. The outbox relay's own query
are `indgang_runtime.outbox.RELAY_QUERIES` on `inquiries`.
"""

from __future__ import annotations

from indgang_runtime.hot_paths import HotQuery

INQUIRIES = "inquiries"
ORGANISATIONS = "organisations"
IDEMPOTENCY = "idempotency"
JOB_STATE = "job_state"

INQUIRY = HotQuery(
    INQUIRIES,
    "an inquiry by id: status endpoint, the organisation's latest inquiry, retried "
    "submissions, and every conditional update of one inquiry",
    _id="inquiry-id",
)
INQUIRY_BY_REFERENCE = HotQuery(
    INQUIRIES, "case-status-changed: the inquiry the case was opened for", reference="H-2345ABCD"
)
FOLLOW_UPS = HotQuery(
    INQUIRIES, "case-status-changed: an inquiry's follow-ups (a handful)", follow_up_of="inquiry-id"
)
DUE_ON = HotQuery(
    INQUIRIES, "deletion job: inquiries whose deadline falls on one day", anonymise_on="2027-11-30"
)
ORGANISATION = HotQuery(
    ORGANISATIONS,
    "repeat contact: the organisation's latest inquiry (and its conditional update/delete)",
    _id="cvr:35954716",
)
IDEMPOTENCY_RECORD = HotQuery(
    IDEMPOTENCY, "the first answer to an Idempotency-Key (or form token)", _id="ip:10.0.0.1|key"
)
IDEMPOTENCY_MADE_IN = HotQuery(
    IDEMPOTENCY, "deletion job: idempotency records made in one hour", created_hour="2026-11-30T22"
)
JOB = HotQuery(JOB_STATE, "deletion job: how far it has got", _id="anonymise-inquiries")

HOT_PATHS: tuple[HotQuery, ...] = (
    INQUIRY,
    INQUIRY_BY_REFERENCE,
    FOLLOW_UPS,
    DUE_ON,
    ORGANISATION,
    IDEMPOTENCY_RECORD,
    IDEMPOTENCY_MADE_IN,
    JOB,
)
