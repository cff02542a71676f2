"""gateway's app factory: one client per downstream, opened and closed in the lifespan; the page at `/`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from observability import Telemetry
from services.activities.client import ActivitiesClient
from services.common.app import new_app
from services.common.downstream import install_error_handlers
from services.common.resources import downstream_client
from services.gateway import debug, page, routes
from services.gateway.auth import Authenticator
from services.gateway.settings import GatewaySettings
from services.users.client import UsersClient


def create_app(
    settings: GatewaySettings,
    telemetry: Telemetry,
    *,
    users_transport: httpx.AsyncBaseTransport | None = None,
    activities_transport: httpx.AsyncBaseTransport | None = None,
    relay_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The gateway.

    Args:
        settings: its settings.
        telemetry: the process's telemetry.
        users_transport: the innermost transport to users (tests route it to an in-process app).
        activities_transport: the same for activities.
        relay_transport: the same for the browser's OTLP relay.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            downstream_client(settings, telemetry, settings.users_url, users_transport) as users,
            downstream_client(
                settings, telemetry, settings.activities_url, activities_transport
            ) as activities,
        ):
            app.state.users = UsersClient(users)
            app.state.activities = ActivitiesClient(activities)
            yield

    app = new_app(
        telemetry.service_name,
        telemetry,
        lifespan,
        edge=True,
        identify=Authenticator(settings.secret, max_lifetime=settings.auth_token_max_ttl),
        max_body_bytes=settings.max_body_bytes,
    )
    install_error_handlers(app)
    app.include_router(routes.router)
    if settings.is_development:  # debug routes exist in development only
        app.include_router(debug.router)
    page.serve_page(app, settings)
    telemetry.serve_browser(
        app, settings, max_body_bytes=settings.max_body_bytes, relay_transport=relay_transport
    )
    return app
