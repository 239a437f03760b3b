"""Every query the guide runs on a hot path, in one place.

Hot path: per consumed `case-routed` batch, per HTTP request (public page,
staff pages, API, editor saves), per periodic catalogue check and per outbox
relay tick. Each is `_id` or top-level equality, answered through an index at
any data size; `tests/test_hot_paths.py` explains each on the real store.

Not hot (and free to read more): start-up (dropping pre-versioning entries,
loading the content files) and rebuilding the in-memory catalogue, which
happens only when the catalogue's generation says an entry was saved.
Searching, listing, the review list and the public pages read the in-memory
catalogue, not the store.
"""

from __future__ import annotations

from indgang_runtime.hot_paths import HotQuery
from indgang_runtime.outbox import DUE_DOCUMENTS, OWN_DUE_DOCUMENTS

# The id of the one document in `catalogue`.
CATALOGUE_ID = "catalogue"

ENTRY = HotQuery(
    "entries", "one entry with its history (history pages, editor form, a save)", _id="fleksjob"
)
ENTRY_AT_VERSION = HotQuery(
    "entries",
    "save the next version only if nobody saved since (compare-and-set)",
    _id="fleksjob",
    version=3,
)
CATALOGUE_GENERATION = HotQuery(
    "catalogue",
    "periodic check and bump: has any instance saved an entry since the last refresh?",
    _id=CATALOGUE_ID,
)
CASE_RECOMMENDATIONS = HotQuery(
    "recommendations",
    "a case's recommendations: read by the API, replaced per case-routed",
    _id="3f2b9c1e-case",
)

HOT_PATHS: tuple[HotQuery, ...] = (
    ENTRY,
    ENTRY_AT_VERSION,
    CATALOGUE_GENERATION,
    CASE_RECOMMENDATIONS,
    OWN_DUE_DOCUMENTS,  # the outbox relay's queries, on `entries`
    DUE_DOCUMENTS,
)
# The collections whose documents carry an outbox (where the relay's queries run).
OUTBOX_COLLECTIONS = ("entries",)
