"""What every service's app factory starts from: FastAPI's own telemetry off, and `/healthz`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

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
    app = FastAPI(title=name, lifespan=lifespan, telemetry=fastapi_telemetry_off())
    active = telemetry.active()

    async def _healthz() -> dict[str, Any]:
        return {"status": "ok", "telemetry": active}

    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    # Middleware order, outermost first: OTel server span (added by instrument_app, always outermost),
    # then X-Ray segment, then error reporting, then the access log, then the app's own middleware.
    # add_middleware puts the last added outermost, so add them innermost first.
    # [access log]
    # [error reporting]
    # [x-ray]
    if telemetry.tracer_provider is not None:
        instrument_app(app, telemetry.tracer_provider, trust_incoming_baggage=not edge)
    return app
