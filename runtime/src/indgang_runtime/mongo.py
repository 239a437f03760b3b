"""The MongoDB-compatible store (MongoDB or FerretDB v1) through PyMongo's async API.

Only what both servers do is used: single-document atomic updates, unique
indexes, simple aggregation. No transactions, change streams or TTL indexes.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

Document = dict[str, Any]

STORE_COMMANDS = Counter(
    "indgang_store_commands_total",
    "Commands sent to the store, by command and collection",
    ["service", "command", "collection"],
)


class StoreCommands(monitoring.CommandListener):
    """Counts every command the client sends. What an event or a request costs the store
    is mostly how many commands it takes (each a PostgreSQL transaction under FerretDB),
    and unlike time that does not change with the machine's speed: `make bench` reports
    it per inquiry. Only the command's name and its collection are read."""

    def __init__(self, service: str) -> None:
        self.service = service

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        # A command names its collection as its first value; getMore names it apart.
        target = event.command.get("collection") if name == "getMore" else event.command.get(name)
        STORE_COMMANDS.labels(self.service, name, target if isinstance(target, str) else "").inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def as_duplicate_key(exc: OperationFailure) -> DuplicateKeyError | None:
    """The DuplicateKeyError an update that broke a unique index really is, on any store.

    MongoDB says so (code 11000); FerretDB v1 answers such an *update* with a generic
    error: "UNIQUE constraint failed" on SQLite, "duplicate key value violates unique
    constraint … (SQLSTATE 23505)" on PostgreSQL.
    """
    if isinstance(exc, DuplicateKeyError):
        return exc
    text = str(exc)
    if exc.code == 11000 or "UNIQUE constraint failed" in text or "SQLSTATE 23505" in text:
        return DuplicateKeyError(text, 11000, exc.details)
    return None


def connect(
    uri: str,
    *,
    w: int | str = "majority",
    journal: bool = True,
    wtimeout_ms: int = 10_000,
    service: str = "",
) -> AsyncMongoClient[Document]:
    """A client whose every write is acknowledged as `w`/`journal` ask.

    The default (majority, journaled) is what survives a replica-set primary
    failover: a write acknowledged by the old primary alone can be rolled back, and
    an outbox entry or an idempotency record rolled back is an event lost or
    applied twice. `wtimeout_ms` turns a majority that cannot be reached into an
    error the caller retries, not a write that waits forever. Every command is counted
    in `indgang_store_commands_total` under `service`.
    """
    # Short server selection so that a store outage surfaces as an error the
    # caller can retry instead of a request hanging for 30 s.
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=5000,
        w=w,
        journal=journal,
        wTimeoutMS=wtimeout_ms,
        event_listeners=[StoreCommands(service)],
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True
