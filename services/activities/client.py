"""The typed client that callers of activities use."""

from __future__ import annotations

import httpx

from services.activities.schemas import Activity, NewActivity
from services.common.downstream import call, parse

SERVICE = "activities"


class ActivitiesClient:
    """Posts from the activities service; failures raise `DownstreamError` or `NotFoundError`."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    async def home(self) -> list[Activity]:
        response = await call(self.http, SERVICE, "GET", "/activities/home")
        posts: list[Activity] = parse(response, SERVICE, list[Activity])
        return posts

    async def by_handle(self, handle: str) -> list[Activity]:
        response = await call(self.http, SERVICE, "GET", "/activities", params={"handle": handle})
        posts: list[Activity] = parse(response, SERVICE, list[Activity])
        return posts

    async def create(self, handle: str, message: str) -> Activity:
        body = NewActivity(handle=handle, message=message).model_dump()
        response = await call(self.http, SERVICE, "POST", "/activities", json=body)
        post: Activity = parse(response, SERVICE, Activity)
        return post

    async def debug_error(self) -> None:
        """Make the service raise its deliberate error: a `DownstreamError` here (404 in production)."""
        await call(self.http, SERVICE, "GET", "/debug/error")
