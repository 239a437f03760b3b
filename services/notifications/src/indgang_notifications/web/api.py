"""The delivery log API (staff or admin key) and the subscriptions API (admin key)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from indgang_notifications.adapters.deliveries import public
from indgang_notifications.domain.subscriptions import Subscription
from indgang_notifications.web.access import admin, delivery_scope, visible
from indgang_notifications.web.registration import registration_problems
from indgang_notifications.web.state import Deliveries, Log, SenderDep, Settings, Subscriptions

Status = Literal["pending", "sent", "dead"]

router = APIRouter(prefix="/api/v1")
# None: every delivery; a consultant's id: only deliveries about their cases.
Scope = Annotated[str | None, Depends(delivery_scope)]
ADMIN = Depends(admin)

_EXAMPLE = {
    "name": "Jobcentrets fagsystem",
    "event_types": ["referral-made"],
    "channel": "webhook",
    "url": "https://jobcenter.kommune.example/indgang/events",
    "secret": "a-long-random-shared-secret",
    "filters": [{"field": "target.department", "values": ["job_centre"]}],
}


@router.get(
    "/deliveries",
    tags=["delivery log"],
    summary="Deliveries by exact case id, inquiry id, reference or recipient",
    description="With `q`: the deliveries whose case id, inquiry id, reference or "
    "recipient (e-mail address or subscription id) is exactly `q`, in any letter case. "
    "Without: the newest deliveries of the last 48 hours, or with `status` pending or "
    "dead all deliveries in that state. Newest first, at most 200. A consultant gets "
    "only the deliveries about their own cases; team leads and the admin key get all.",
)
async def list_deliveries(
    delivery_log: Log,
    scope: Scope,
    q: Annotated[str | None, Query(max_length=320)] = None,
    status: Status | None = None,
) -> list[dict[str, Any]]:
    return [public(doc) for doc in await delivery_log.search(q, status, consultant=scope)]


@router.get("/deliveries/{delivery_id}", tags=["delivery log"])
async def get_delivery(delivery_id: str, deliveries: Deliveries, scope: Scope) -> dict[str, Any]:
    doc = await deliveries.get(delivery_id)
    if doc is None or not visible(doc, scope):
        raise HTTPException(404, "no such delivery")
    return public(doc)


@router.post(
    "/deliveries/{delivery_id}/resend",
    tags=["delivery log"],
    summary="Give a dead delivery a new cycle of attempts",
    status_code=status.HTTP_202_ACCEPTED,
)
async def resend(
    delivery_id: str, deliveries: Deliveries, sender: SenderDep, scope: Scope
) -> dict[str, Any]:
    if scope is not None and not visible(await deliveries.get(delivery_id), scope):
        raise HTTPException(404, "no such delivery")
    doc = await deliveries.resend(delivery_id)
    if doc is None:
        if await deliveries.get(delivery_id) is None:
            raise HTTPException(404, "no such delivery")
        raise HTTPException(409, "only a dead delivery can be resent")
    sender.kick()
    return public(doc)


@router.get(
    "/subscriptions",
    tags=["subscriptions"],
    dependencies=[ADMIN],
    summary="Subscriptions (secrets are never shown)",
)
async def list_subscriptions(subscriptions: Subscriptions) -> list[dict[str, Any]]:
    return [s.public() for s in await subscriptions.all()]


@router.get("/subscriptions/{subscription_id}", tags=["subscriptions"], dependencies=[ADMIN])
async def get_subscription(subscription_id: str, subscriptions: Subscriptions) -> dict[str, Any]:
    found = await subscriptions.get(subscription_id)
    if found is None:
        raise HTTPException(404, "no such subscription")
    return found.public()


@router.put(
    "/subscriptions/{subscription_id}",
    tags=["subscriptions"],
    dependencies=[ADMIN],
    summary="Create or replace a subscription; leave out 'secret' to keep the current one",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}},
)
async def put_subscription(
    subscription_id: str,
    response: Response,
    body: Annotated[dict[str, Any], Body(examples=[_EXAMPLE])],
    subscriptions: Subscriptions,
    settings: Settings,
) -> dict[str, Any]:
    current = await subscriptions.get(subscription_id)
    raw = {**body, "id": subscription_id}
    if raw.get("secret") is None and current is not None and current.secret:
        raw["secret"] = current.secret
    try:
        subscription = Subscription.model_validate(raw)
    except ValidationError as exc:
        # The same per-field 422 body as FastAPI's own validation, without the input:
        # a whole-body error's input is the body, secret and all.
        raise RequestValidationError(
            [
                {k: v for k, v in e.items() if k != "input"} | {"loc": ("body", *e["loc"])}
                for e in exc.errors(include_url=False, include_input=False)
            ]
        ) from exc
    problems = await registration_problems(subscription, settings)
    if problems:
        raise RequestValidationError(
            [
                {"loc": ("body", field), "msg": message, "type": "value_error"}
                for field, message in problems
            ]
        )
    if await subscriptions.put(subscription):
        response.status_code = status.HTTP_201_CREATED
    return subscription.public()


@router.delete(
    "/subscriptions/{subscription_id}",
    tags=["subscriptions"],
    dependencies=[ADMIN],
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_subscription(subscription_id: str, subscriptions: Subscriptions) -> Response:
    if not await subscriptions.delete(subscription_id):
        raise HTTPException(404, "no such subscription")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
