"""What the API and the console share: the use cases `create_app` put on `app.state`, who
the signed-in user is on the team, and how routing's errors become HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, status

from indgang_routing.adapters.guide import GuideUnavailable
from indgang_routing.adapters.team import TeamStore
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    RoutingError,
)
from indgang_routing.domain.team import Team
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.casework import Casework
from indgang_routing.handlers.context import Context
from indgang_routing.handlers.referrals import Referrals
from indgang_routing.handlers.social_value import SocialValue
from indgang_routing.handlers.team import TeamAdmin
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.web import from_state

# Every page and API of the console needs one of these roles (admin always passes).
staff = require_roles("consultant", "team_lead")
team_lead = require_roles("team_lead")


@dataclass
class Console:
    """The use cases the web entrypoints call (`app.state.console`)."""

    ctx: Context
    routing: CaseRouting
    casework: Casework
    referrals: Referrals
    team_admin: TeamAdmin
    social_value: SocialValue


# A dependency: the use cases `create_app` put on `app.state`.
use_cases = from_state("console", Console)


def actor_in(team: Team, user: StaffUser) -> Actor:
    """The staff user as an actor: the team member with their id (or e-mail, for OIDC)."""
    member = team.get(user.id) or next(
        (c for c in team.consultants if user.email and c.email.lower() == user.email.lower()),
        None,
    )
    return Actor(
        id=user.id,
        name=user.name,
        consultant_id=member.id if member else None,
        team_lead=user.has_any("team_lead"),
    )


async def actor_for(team_store: TeamStore, user: StaffUser) -> Actor:
    return actor_in(await team_store.load(), user)


def status_of(error: RoutingError) -> int:
    if isinstance(error, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, Conflict):
        return status.HTTP_409_CONFLICT
    if isinstance(error, InvalidInput):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(error, NotAllowed):
        return status.HTTP_403_FORBIDDEN
    if isinstance(error, GuideUnavailable):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return status.HTTP_400_BAD_REQUEST


def http_error(error: RoutingError) -> HTTPException:
    return HTTPException(status_of(error), error.message)
