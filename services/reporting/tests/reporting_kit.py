"""Reporting's test helpers (a module with a name of its own: with
`--import-mode=importlib` and a conftest.py in every test directory, `import conftest`
would find whichever came first on sys.path)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from indgang_reporting.app import create_app
from indgang_reporting.domain.facts import (
    CASE_CHANGES,
    CASES,
    DELIVERIES,
    INQUIRIES,
    OUTCOMES,
    REFERRALS,
    RSV,
    FactBook,
)
from indgang_reporting.domain.figures import Facts
from indgang_reporting.domain.periods import Span
from indgang_reporting.settings import ReportingSettings

from harness import KAFKA_BOOTSTRAP, MONGODB_URI, ROOT

REPORTS_KEY = "test-reports-key-0123456789abcdef"


def settings_for(run_id: str, name: str, **overrides: object) -> ReportingSettings:
    """An app of its own: its database, consumer groups and topics (`test-<run>.<name>.`,
    so the other tests' events, e.g. the demo's, never reach it; dropped with the run)."""
    return ReportingSettings(
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
        kafka_topic_prefix=f"test-{run_id}.{name}.",
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"t_{run_id}_{name}",
        users_file=ROOT / "deploy" / "dev" / "users.toml",
        reports_api_key=REPORTS_KEY,
        consumer_group=f"indgang-reporting-{name}",
        **overrides,  # type: ignore[arg-type]
    )


class RunningApp:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://reporting.test"
        )


async def run_app(settings: ReportingSettings) -> AsyncIterator[RunningApp]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningApp(app)


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert response.status_code == 303, response.text


def facts_of(book: FactBook, span: Span) -> Facts:
    """What the store returns for `span` (its buckets), from the book."""
    by = span.granularity
    keys = set(span.keys())
    return Facts(
        inquiries=[d for d in book.of(INQUIRIES) if d.get(by) in keys],
        cases=[d for d in book.of(CASES) if d.get(by) in keys],
        case_changes=[d for d in book.of(CASE_CHANGES) if d.get(by) in keys],
        referrals_made=[d for d in book.of(REFERRALS) if d.get(by) in keys],
        referrals_completed=[d for d in book.of(REFERRALS) if d.get(f"completed_{by}") in keys],
        deliveries=[d for d in book.of(DELIVERIES) if d.get(by) in keys],
        awaiting=[d for d in book.of(CASES) if d.get("awaiting_first_contact")],
        openers={str(d["_id"]): d for d in book.of(INQUIRIES)},
        outcomes=[d for d in book.of(OUTCOMES) if d.get(by) in keys],
        case_outcomes={
            case: [d for d in book.of(OUTCOMES) if d.get("case_id") == case]
            for case in {
                str(d["case_id"])
                for d in book.of(CASE_CHANGES)
                if d.get(by) in keys and d.get("kind") == "closed"
            }
        },
        rsv=[d for d in book.of(RSV) if d.get(by) in keys],
    )
