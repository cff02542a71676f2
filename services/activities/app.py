"""activities' app factory: its database and its users client live in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from observability import Telemetry
from services.activities import routes, store
from services.activities.settings import ActivitiesSettings
from services.common.app import new_app
from services.common.debug import debug_router
from services.common.downstream import install_error_handlers
from services.common.resources import downstream_client, open_database
from services.users.client import UsersClient


def create_app(
    settings: ActivitiesSettings,
    telemetry: Telemetry,
    *,
    users_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The activities service.

    Args:
        settings: its settings.
        telemetry: the process's telemetry.
        users_transport: the innermost transport to users (tests route it to an in-process app).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_database(settings, telemetry, store.activities, store.demo_rows) as database,
            downstream_client(settings, telemetry, settings.users_url, users_transport) as http,
        ):
            app.state.store = store.ActivityStore(database)
            app.state.users = UsersClient(http)
            app.state.span = telemetry.span
            yield

    app = new_app(telemetry.service_name, telemetry, lifespan, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(routes.router)
    if settings.is_development:  # debug routes exist in development only
        app.include_router(debug_router(telemetry.service_name))
    return app
