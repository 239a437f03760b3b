"""Bulk updates in commands of at most 20 statements.

FerretDB v1.24.2 on PostgreSQL keeps each statement's query iterator open
until the whole `update` command returns (`defer closer.Close()` inside the
loop over the statements in `internal/handler/msg_update.go`); an iterator not
read to its end holds one of the 50 pooled PostgreSQL connections
(`pool_max_conns`). Seen here: an `update` command holding 52 connections and
waiting for one more, so every other command waited too and the store hung
for good. PyMongo sends a whole `bulk_write` as one command, so routing cuts
its bulk updates into small commands and sends them one after the other: in
order when `ordered`, one round trip per 20.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

STATEMENTS_PER_COMMAND = 20


async def bulk_update(
    collection: AsyncCollection[Any], updates: Iterable[UpdateOne], *, ordered: bool
) -> int:
    """Send the updates, at most `STATEMENTS_PER_COMMAND` per command; returns how many
    matched a document or inserted one."""
    pending: list[UpdateOne] = []
    applied = 0
    for update in updates:
        pending.append(update)
        if len(pending) == STATEMENTS_PER_COMMAND:
            result = await collection.bulk_write(pending, ordered=ordered)
            applied += result.matched_count + result.upserted_count
            pending = []
    if pending:
        result = await collection.bulk_write(pending, ordered=ordered)
        applied += result.matched_count + result.upserted_count
    return applied
