"""What every service's app factory starts from: its lifespan, `/healthz`, and its telemetry."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from observability import NATIVE_TELEMETRY_OFF, Identify, Telemetry

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def new_app(
    name: str,
    telemetry: Telemetry,
    lifespan: Lifespan,
    *,
    edge: bool = False,
    identify: Identify | None = None,
) -> FastAPI:
    """A FastAPI app with `/healthz` (untraced; names the active integrations), instrumented.

    Args:
        name: the service's name, also the OpenAPI title.
        telemetry: the process's telemetry.
        lifespan: opens and closes the service's resources.
        edge: whether the app is the public edge (it then distrusts incoming `enduser.id` baggage).
        identify: at the edge, who sent a request (the verified user, or None).
    """
    app = FastAPI(title=name, lifespan=lifespan, telemetry=NATIVE_TELEMETRY_OFF)
    active = telemetry.active()

    async def _healthz() -> dict[str, Any]:
        return {"status": "ok", "telemetry": active}

    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    telemetry.instrument_app(app, edge=edge, identify=identify)
    return app
