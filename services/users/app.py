"""users' app factory: its database opens and closes in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from observability import Telemetry
from services.common.app import new_app
from services.common.debug import debug_router
from services.common.resources import open_database
from services.users import routes, store
from services.users.settings import UsersSettings


def create_app(settings: UsersSettings, telemetry: Telemetry) -> FastAPI:
    """The users service.

    Args:
        settings: its settings.
        telemetry: the process's telemetry.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_database(settings, telemetry, store.users, store.demo_rows) as database:
            app.state.store = store.UserStore(database)
            yield

    app = new_app(telemetry.service_name, telemetry, lifespan, max_body_bytes=settings.max_body_bytes)
    app.include_router(routes.router)
    if settings.is_development:  # debug routes exist in development only
        app.include_router(debug_router(telemetry.service_name))
    return app
