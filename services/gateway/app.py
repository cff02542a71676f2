"""gateway's app factory: one client per downstream, opened and closed in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from observability.http_client import build_client
from observability.telemetry import Telemetry
from observability.tracing import TraceResponseMiddleware
from services.activities.client import ActivitiesClient
from services.common.app import new_app
from services.common.downstream import install_error_handlers
from services.gateway import debug, routes
from services.gateway.auth import EndUserMiddleware
from services.gateway.settings import GatewaySettings
from services.users.client import UsersClient


def create_app(
    settings: GatewaySettings,
    telemetry: Telemetry,
    *,
    users_transport: httpx.AsyncBaseTransport | None = None,
    activities_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The gateway.

    Args:
        settings: its settings.
        telemetry: the process's telemetry.
        users_transport: the innermost transport to users (tests route it to an in-process app).
        activities_transport: the same for activities.
    """
    timeout = httpx.Timeout(settings.downstream_timeout, connect=min(2.0, settings.downstream_timeout))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            provider, xray = telemetry.tracer_provider, telemetry.xray
            real = settings.http_client_transport
            users = build_client(
                settings.users_url,
                tracer_provider=provider,
                timeout=timeout,
                inner=users_transport,
                xray=xray,
                transport_name=real,
            )
            activities = build_client(
                settings.activities_url,
                tracer_provider=provider,
                timeout=timeout,
                inner=activities_transport,
                xray=xray,
                transport_name=real,
            )
            app.state.users = UsersClient(await stack.enter_async_context(users))
            app.state.activities = ActivitiesClient(await stack.enter_async_context(activities))
            stack.callback(telemetry.force_flush)
            yield

    app = new_app(telemetry.service_name, telemetry, lifespan, edge=True)
    app.add_middleware(EndUserMiddleware, secret=settings.secret)
    app.add_middleware(TraceResponseMiddleware)
    install_error_handlers(app)
    app.include_router(routes.router)
    if not settings.is_production:
        app.include_router(debug.router)
    return app
