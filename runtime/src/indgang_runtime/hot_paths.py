"""Hot-path queries: declared in one place per service, proven to use an index.

A hot path runs per consumed event, per public HTTP request, per outbox-relay
tick or per periodic-job tick. Its cost must not grow with the data, and on
FerretDB v1 only `_id` and top-level scalar equality are pushed down to the
backend (anything else decodes the whole collection), so every hot-path query
is declared here as a `HotQuery`: a collection and an example filter of
top-level equalities. Adapters build their filters with `HotQuery.filter`, and
each service's explain test runs `explain` for every declared query on the
real store and fails when one is not answered through an index
(`uses_index`). A query by `_id` may add conditions on that one document
(compare-and-set); they cost nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

SCALARS = (str, bool, int, float)


@dataclass(frozen=True, init=False)
class HotQuery:
    """A hot-path filter: `collection` ("*" = every collection with an outbox) and an
    example of top-level scalar equalities, e.g. `HotQuery("cases", "…", open_slot="x")`."""

    collection: str
    purpose: str
    example: Mapping[str, Any] = field(hash=False)

    def __init__(self, collection: str, purpose: str, **example: Any) -> None:
        if not example:
            raise ValueError("a hot-path query needs at least one equality")
        for name, value in example.items():
            if "." in name or name.startswith("$"):
                raise ValueError(f"{name!r}: only top-level fields are pushed down")
            if not isinstance(value, SCALARS):
                raise ValueError(f"{name!r}: only scalar equality is pushed down")
        object.__setattr__(self, "collection", collection)
        object.__setattr__(self, "purpose", purpose)
        object.__setattr__(self, "example", dict(example))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.example)

    def filter(self, **values: Any) -> dict[str, Any]:
        """The filter for these values (the same fields as the example, scalar values)."""
        if set(values) != set(self.example):
            raise ValueError(f"{self.purpose}: filter by {self.fields}, not {tuple(values)}")
        for name, value in values.items():
            if not isinstance(value, SCALARS):
                raise TypeError(f"{self.purpose}: {name} must be a scalar, not {type(value)}")
        return dict(values)


@dataclass(frozen=True)
class Explained:
    query: HotQuery
    collection: str
    indexed: bool
    store: str
    plan: str

    def describe(self) -> str:
        shape = json.dumps(dict(self.query.example), default=str)
        verdict = "index" if self.indexed else "SCAN"
        return f"{self.collection} {shape} ({self.query.purpose}): {verdict} on {self.store}"


def _plan_text(explained: Mapping[str, Any]) -> str:
    return json.dumps(explained, default=str)


def uses_index(explained: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether an `explain` answer (MongoDB, FerretDB on PostgreSQL or on SQLite) shows
    the query answered through an index; returns (verdict, the store's kind)."""
    text = _plan_text(explained)
    if "ferretdbVersion" in text or "filterPushdown" in explained:
        planner = _plan_text(explained.get("queryPlanner", {}))
        if '"Node Type"' in planner:  # PostgreSQL's plan
            indexed = any(
                f'"Node Type": "{node}"' in planner
                for node in ("Index Scan", "Bitmap Index Scan", "Index Only Scan")
            )
            return indexed and "Seq Scan" not in planner, "FerretDB/PostgreSQL"
        # SQLite's EXPLAIN QUERY PLAN: "SEARCH … USING INDEX" or "SCAN <table>".
        indexed = "USING INDEX" in planner or "USING PRIMARY KEY" in planner
        return indexed and '"SCAN ' not in planner.replace("SCAN USING", ""), "FerretDB/SQLite"
    winning = _plan_text(explained.get("queryPlanner", {}).get("winningPlan", {}))
    indexed = any(stage in winning for stage in ("IXSCAN", "IDHACK", "EXPRESS_"))
    return indexed and "COLLSCAN" not in winning, "MongoDB"


async def explain(db: AsyncDatabase[Any], collection: str, query: HotQuery) -> Explained:
    answer = await db.command(
        "explain",
        {"find": collection, "filter": dict(query.example)},
        verbosity="queryPlanner",
    )
    indexed, store = uses_index(answer)
    return Explained(query, collection, indexed, store, _plan_text(answer)[:4000])


async def explain_all(
    db: AsyncDatabase[Any],
    queries: Iterable[HotQuery],
    outbox_collections: Iterable[str] = (),
    *,
    filler: int = 1000,
) -> list[Explained]:
    """Explain every query on `db` (whose indexes the service has created).

    Each collection first gets `filler` documents whose queried fields hold other
    values than the examples, so the planner sees a collection worth an index
    (on an empty table any plan is cheapest).
    """
    queries = list(queries)
    outbox = list(outbox_collections)
    targets = [
        (name, q) for q in queries for name in (outbox if q.collection == "*" else [q.collection])
    ]
    fields: dict[str, set[str]] = {}
    for name, q in targets:
        fields.setdefault(name, set()).update(q.fields)
    for name, names in fields.items():
        docs = [
            {
                **{f: _other(f, i) for f in names if f != "_id"},
                "_id": f"filler-{i:06d}",
                "filler": "x" * 200,
            }
            for i in range(filler)
        ]
        await db[name].insert_many(docs, ordered=False)
    return [await explain(db, name, q) for name, q in targets]


def _other(name: str, i: int) -> Any:
    # Strings never equal to an example, and distinct (a queried field may be unique).
    return f"filler-{name}-{i}"
