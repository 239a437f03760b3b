"""The delivery log for staff (read-only for now)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from indgang_notifications.adapters.deliveries import DeliveryRepository


def api_router(deliveries: DeliveryRepository) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["deliveries"])

    @router.get("/deliveries", summary="Deliveries by case/inquiry id or recipient")
    async def list_deliveries(
        subject: str | None = None, recipient: str | None = None
    ) -> list[dict[str, Any]]:
        rows = await deliveries.find(subject, recipient)
        return [{"id": row.pop("_id"), **row} for row in rows]

    return router
