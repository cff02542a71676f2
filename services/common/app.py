"""What every service's app factory starts from: FastAPI's own telemetry off, and `/healthz`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from observability import xray
from observability.access import AccessLogMiddleware
from observability.errors import ErrorReportingMiddleware
from observability.reporting import with_reporting
from observability.telemetry import Telemetry
from observability.tracing import fastapi_telemetry_off, instrument_app

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def new_app(name: str, telemetry: Telemetry, lifespan: Lifespan, *, edge: bool = False) -> FastAPI:
    """A FastAPI app with `/healthz` (untraced; names the active integrations) and server spans when on.

    Args:
        name: the service's name, also the OpenAPI title.
        telemetry: the process's telemetry.
        lifespan: opens and closes the service's resources.
        edge: whether the app is the public edge (it then distrusts incoming `enduser.id` baggage).
    """
    lifespan = _flushing(telemetry, lifespan)
    if telemetry.reporting is not None:
        lifespan = with_reporting(telemetry.reporting, lifespan)
    app = FastAPI(title=name, lifespan=lifespan, telemetry=fastapi_telemetry_off())
    active = telemetry.active()

    async def _healthz() -> dict[str, Any]:
        return {"status": "ok", "telemetry": active}

    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    # Middleware order, outermost first: the OTel server span (instrument_app keeps it outermost),
    # then what the service's own factory adds after this (the gateway: traceresponse, end user),
    # then error reporting, the X-Ray segment, the access log. add_middleware puts the last added
    # outermost, so they are added innermost first. X-Ray sits inside error reporting so that it
    # sees the exception before error reporting turns it into a 500.
    # [access log]
    app.add_middleware(AccessLogMiddleware)
    # [x-ray]
    if telemetry.xray is not None:
        xray.instrument_app(app, telemetry.xray, edge=edge)
    # [error reporting]
    reporter = telemetry.reporting.errors if telemetry.reporting is not None else None
    app.add_middleware(ErrorReportingMiddleware, reporter=reporter)
    if telemetry.tracer_provider is not None:
        instrument_app(app, telemetry.tracer_provider, trust_incoming_baggage=not edge)
    return app


def _flushing(telemetry: Telemetry, lifespan: Lifespan) -> Lifespan:
    """`lifespan`, then the spans buffered so far are sent (off the event loop) before the process ends."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with lifespan(app):
                yield
        finally:
            await asyncio.to_thread(telemetry.force_flush)

    return run
