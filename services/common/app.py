"""What every service's app factory starts from: its lifespan, `/healthz`, and its telemetry."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from observability import NATIVE_TELEMETRY_OFF, Identify, Telemetry
from services.common.limits import BodyLimitMiddleware
from services.common.validation import install_validation_handler

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def new_app(
    name: str,
    telemetry: Telemetry,
    lifespan: Lifespan,
    *,
    edge: bool = False,
    identify: Identify | None = None,
    max_body_bytes: int = 65_536,
) -> FastAPI:
    """A FastAPI app with `/healthz` (untraced; names the active integrations), instrumented.

    Args:
        name: the service's name, also the OpenAPI title.
        telemetry: the process's telemetry.
        lifespan: opens and closes the service's resources.
        edge: whether the app is the public edge (it then distrusts incoming `enduser.id` baggage).
        identify: at the edge, who sent a request (the verified user, or None).
        max_body_bytes: a larger request body is a 413, refused before it is read past the limit
            and before authentication (`services.common.limits`).
    """
    # No trailing-slash redirects: Starlette builds their `Location` from the client's `Host` header.
    app = FastAPI(
        title=name,
        lifespan=lifespan,
        telemetry=NATIVE_TELEMETRY_OFF,
        redirect_slashes=False,
    )
    install_validation_handler(app)
    active = telemetry.active()

    async def _healthz() -> dict[str, Any]:
        return {"status": "ok", "telemetry": active}

    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    telemetry.instrument_app(app, edge=edge, identify=identify)
    # Added last, so outermost of the app's middleware: ahead of the edge's authentication.
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    return app
