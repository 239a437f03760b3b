"""Composition root: builds routing from its settings. Nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from indgang_routing.adapters.cases import CaseRepository
from indgang_routing.adapters.guide import GuideClient
from indgang_routing.adapters.jobs import JobState
from indgang_routing.adapters.organisations import OrganisationStore
from indgang_routing.adapters.seed_files import load_providers, load_team
from indgang_routing.adapters.team import ProviderStore, TeamStore
from indgang_routing.adapters.upgrade import StoreUpgrade
from indgang_routing.entrypoints.kafka import build_router
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.casework import Casework
from indgang_routing.handlers.context import Context
from indgang_routing.handlers.loads import Loads
from indgang_routing.handlers.referrals import Referrals
from indgang_routing.handlers.retention import CaseRetention
from indgang_routing.handlers.social_value import SocialValue
from indgang_routing.handlers.team import TeamAdmin
from indgang_routing.settings import RoutingSettings
from indgang_routing.web import api
from indgang_routing.web.console import Console, install_console
from indgang_runtime.auth import DepartmentKeys
from indgang_runtime.http_security import guide_reader_key
from indgang_runtime.messaging import EventConsumer, outbox_relay
from indgang_runtime.service import Runtime, build_app, serve
from indgang_runtime.settings import settings_or_exit


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    settings.check_production()  # ENVIRONMENT=production: refuse unsafe settings first
    seed_team = load_team(settings.team_file)
    seed_providers = load_providers(settings.providers_file)
    runtime = Runtime.connect(settings)
    broker, db = runtime.broker, runtime.db
    cases = CaseRepository(db)
    relay = outbox_relay(settings, broker, [cases.outbox])
    ctx = Context(
        cases=cases,
        team=TeamStore(db, seed_team.team_lead_email),
        providers=ProviderStore(db),
        organisations=OrganisationStore(db),
        jobs=JobState(db),
        settings=settings,
    )
    routing = CaseRouting(ctx)
    referrals = Referrals(ctx)
    guide = GuideClient(
        settings.guide_url,
        settings.guide_timeout_seconds,
        guide_reader_key(settings),
        public_url=settings.guide_public_url,
    )
    casework = Casework(ctx, guide)
    team_admin = TeamAdmin(ctx, routing)
    loads = Loads(ctx)
    retention = CaseRetention(ctx)  # deletion deadlines (slettefrister)
    broker.include_router(
        build_router(settings, routing, referrals, EventConsumer(broker, settings))
    )

    async def upgrade_store() -> None:
        await StoreUpgrade(db).run()

    async def ensure_indexes() -> None:
        await cases.ensure_indexes()
        await ctx.team.ensure_indexes()
        await ctx.providers.ensure_indexes()

    async def seed() -> None:
        await ctx.team.seed(seed_team, ctx.now())
        await ctx.providers.seed(seed_providers, ctx.now())

    async def reconcile_loads() -> None:
        await loads.reconcile()

    async def first_contact_overdue() -> None:
        await casework.overdue.job()

    async def referral_overdue() -> None:
        await casework.overdue_referrals.job()

    async def loads_reconciliation() -> None:
        await loads.reconcile_job()

    async def deletion_deadlines() -> None:
        await retention.job()

    runtime.configure(
        relay=relay,
        # In this order: a legacy store is upgraded before the unique index is built,
        # and loads are reconciled once the team exists.
        on_startup=[upgrade_store, ensure_indexes, seed, reconcile_loads],
        # Each job's one-time work on a store (the overdue jobs' first day, filing every
        # case under its deletion deadline) is its first round's, not a start-up hook's:
        # it can read every case, minutes at 100,000, and routing serves meanwhile.
        background=[
            first_contact_overdue,
            referral_overdue,
            loads_reconciliation,
            deletion_deadlines,
        ],
    )
    console = Console(ctx, routing, casework, referrals, team_admin, SocialValue(ctx))
    app = build_app(
        runtime,
        title="indgang routing",
        description="The single point of contact: cases, their one consultant, referrals, "
        "and the consultants' console.",
        routers=[api.router],
    )
    app.state.department_keys = DepartmentKeys(settings.api_keys_file)  # what web/api.py reads
    install_console(app, settings, console)  # also app.state.console: the use cases
    # The console's nav links to the guide's staff search (issue 13, point 7).
    app.state.pages.templates.env.globals["guide_url"] = settings.guide_url.rstrip("/")
    app.state.retention = retention  # the deletion job (tests move its clock)
    return app


def main() -> None:
    settings = settings_or_exit(RoutingSettings)  # invalid or unsafe: exit 2, what to fix
    serve(create_app(settings), settings)
