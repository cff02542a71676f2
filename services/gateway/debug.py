"""gateway's deliberate error: raised here, or by users or activities (the gateway then answers 502)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from services.activities.client import ActivitiesClient
from services.common.debug import DeliberateError
from services.users.client import UsersClient

router = APIRouter(prefix="/api", include_in_schema=False)

Service = Literal["gateway", "users", "activities"]


@router.get("/debug/error")
async def debug_error(
    request: Request, service: Literal["gateway", "users", "activities"] = "gateway"
) -> None:
    """Raise a deliberate error in the gateway, or in the named service through its client."""
    if service == "users":
        users: UsersClient = request.app.state.users
        await users.debug_error()
    elif service == "activities":
        activities: ActivitiesClient = request.app.state.activities
        await activities.debug_error()
    raise DeliberateError("deliberate error in gateway (GET /api/debug/error)")
