"""The W3C Trace Context suite's test service, built as a service is: `python -m tests.w3c_service`.

The suite POSTs a JSON list of `{"url", "arguments"}`; for each, this POSTs `arguments` to `url` (only
loopback) from inside the request with the project's client, so the suite sees what a hop carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

from observability import Telemetry
from services.common.app import new_app
from services.common.server import run
from services.common.settings import ServiceSettings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Call(BaseModel):
    url: str
    arguments: list[Any]


def create_app(settings: ServiceSettings, telemetry: Telemetry) -> FastAPI:
    """The test service: `/healthz` and `POST /test`, with the project's middleware and client."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.downstream_timeout, connect=2.0)
        async with telemetry.http_client(
            "", timeout=timeout, transport=settings.http_client_transport
        ) as client:
            app.state.client = client
            yield

    app = new_app(telemetry.service_name, telemetry, lifespan)

    @app.post("/test")
    async def relay(calls: list[Call], request: Request) -> dict[str, int]:
        """Make each call the suite asks for, in order, from inside this request."""
        if any(httpx.URL(call.url).host not in LOOPBACK for call in calls):
            raise HTTPException(422, "callbacks go to loopback only")
        client: httpx.AsyncClient = request.app.state.client
        for call in calls:
            await client.post(call.url, json=call.arguments)
        return {"calls": len(calls)}

    return app


if __name__ == "__main__":
    run(ServiceSettings, "w3c-test-service", create_app)
