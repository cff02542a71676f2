"""The typed client of the public API, for tools that call the gateway (load generator, tests)."""

from __future__ import annotations

import httpx

from services.common.downstream import call, parse
from services.gateway.schemas import Activity, CreateActivity, ProfilePage

SERVICE = "gateway"


class GatewayClient:
    """The public API; failures raise `DownstreamError` or `NotFoundError`."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None):
        self.http = http
        self.token = token

    async def home(self) -> list[Activity]:
        posts: list[Activity] = parse(
            await call(self.http, SERVICE, "GET", "/api/activities/home"), SERVICE, list[Activity]
        )
        return posts

    async def profile(self, handle: str) -> ProfilePage:
        page: ProfilePage = parse(
            await call(self.http, SERVICE, "GET", f"/api/activities/@{handle}"), SERVICE, ProfilePage
        )
        return page

    async def create(self, message: str) -> Activity:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = CreateActivity(message=message).model_dump()
        response = await call(self.http, SERVICE, "POST", "/api/activities", json=body, headers=headers)
        post: Activity = parse(response, SERVICE, Activity)
        return post
