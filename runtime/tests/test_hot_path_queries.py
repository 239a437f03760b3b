"""Hot-path queries without a store (test_hot_paths.py explains them on the real one):
what a `HotQuery` accepts, the filters it builds, and how each store's `explain` answer
is read."""

from __future__ import annotations

from typing import Any

import pytest

from indgang_runtime.hot_paths import Explained, HotQuery, uses_index


def test_a_hot_query_is_top_level_scalar_equalities() -> None:
    query = HotQuery("cases", "open case of an organisation", open_slot="cvr:1", closed=False)
    assert query.fields == ("open_slot", "closed")
    assert query.filter(open_slot="cvr:2", closed=True) == {"open_slot": "cvr:2", "closed": True}


@pytest.mark.parametrize(
    "example",
    [
        {},  # nothing to find it by
        {"contact.email": "a@b.dk"},  # nested: not pushed down on FerretDB v1
        {"$or": "x"},
        {"needs": ["a", "b"]},  # not a scalar
        {"due": {"$lt": 5}},
    ],
)
def test_what_the_store_cannot_push_down_is_refused(example: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        HotQuery("cases", "bad", **example)


def test_a_filter_must_name_the_declared_fields_with_scalars() -> None:
    query = HotQuery("cases", "by consultant", consultant_id="x")
    with pytest.raises(ValueError, match="by consultant"):
        query.filter(consultant_id="ane", status="open")
    with pytest.raises(ValueError):  # noqa: PT011
        query.filter()
    with pytest.raises(TypeError):
        query.filter(consultant_id={"$ne": None})


MONGODB_INDEXED = {
    "queryPlanner": {
        "winningPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "keyPattern": {}}}
    }
}
MONGODB_BY_ID = {"queryPlanner": {"winningPlan": {"stage": "EXPRESS_IXSCAN"}}}
MONGODB_SCAN = {"queryPlanner": {"winningPlan": {"stage": "COLLSCAN"}}}
POSTGRES_INDEXED = {
    "ferretdbVersion": "1.24.0",
    "filterPushdown": True,
    "queryPlanner": {
        "Plan": {
            "Node Type": "Bitmap Heap Scan",
            "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "cases_open_slot"}],
        }
    },
}
POSTGRES_SCAN = {
    "ferretdbVersion": "1.24.0",
    "filterPushdown": True,
    "queryPlanner": {"Plan": {"Node Type": "Seq Scan", "Relation Name": "cases"}},
}
SQLITE_INDEXED = {
    "filterPushdown": True,
    "queryPlanner": {"plan": ["SEARCH cases USING INDEX cases_open_slot (open_slot=?)"]},
}
SQLITE_BY_KEY = {
    "filterPushdown": True,
    "queryPlanner": {"plan": ["SEARCH cases USING PRIMARY KEY (_id=?)"]},
}
SQLITE_SCAN = {"filterPushdown": True, "queryPlanner": {"plan": ["SCAN cases"]}}


@pytest.mark.parametrize(
    ("answer", "indexed", "store"),
    [
        (MONGODB_INDEXED, True, "MongoDB"),
        (MONGODB_BY_ID, True, "MongoDB"),
        (MONGODB_SCAN, False, "MongoDB"),
        (POSTGRES_INDEXED, True, "FerretDB/PostgreSQL"),
        (POSTGRES_SCAN, False, "FerretDB/PostgreSQL"),
        (SQLITE_INDEXED, True, "FerretDB/SQLite"),
        (SQLITE_BY_KEY, True, "FerretDB/SQLite"),
        (SQLITE_SCAN, False, "FerretDB/SQLite"),
    ],
)
def test_each_stores_explain_answer_is_read(
    answer: dict[str, Any], indexed: bool, store: str
) -> None:
    assert uses_index(answer) == (indexed, store)


def test_an_index_next_to_a_scan_is_still_a_scan() -> None:
    inputs = [{"stage": "IXSCAN"}, {"stage": "COLLSCAN"}]
    both = {"queryPlanner": {"winningPlan": {"stage": "OR", "inputStages": inputs}}}
    assert uses_index(both) == (False, "MongoDB")
    postgres = {
        "ferretdbVersion": "1.24.0",
        "queryPlanner": {"Plans": [{"Node Type": "Index Scan"}, {"Node Type": "Seq Scan"}]},
    }
    assert uses_index(postgres)[0] is False


def test_a_result_describes_itself_for_the_failure_message() -> None:
    query = HotQuery("cases", "open case", open_slot="x")
    assert Explained(query, "cases", False, "MongoDB", "{}").describe() == (
        'cases {"open_slot": "x"} (open case): SCAN on MongoDB'
    )
    assert (
        Explained(query, "cases", True, "FerretDB/SQLite", "{}")
        .describe()
        .endswith("index on FerretDB/SQLite")
    )
