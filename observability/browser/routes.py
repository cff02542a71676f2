"""What the public app serves browsers: the page's telemetry config, the relay, CORS for trace headers.

Everything under `PREFIX` is left untraced (see `otel.server.UNTRACED_PATHS`): the page's own exports
must not make traces of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from observability.browser.relay import OtlpRelay
from observability.browser.settings import BrowserSettings
from observability.lifecycle import Lifespan

PREFIX = "/telemetry"
RELAY_PATH = f"{PREFIX}/v1/traces"
BROWSER_SERVICE = "cruddur-web"
# What a cross-origin page may send (trace context, a token, JSON) and read (the trace id).
TRACE_REQUEST_HEADERS = ["traceparent", "tracestate", "baggage", "authorization", "content-type"]
TRACE_RESPONSE_HEADERS = ["traceresponse", "x-amzn-trace-id"]


def browser_config(settings: BrowserSettings, *, relay_max_bytes: int | None) -> dict[str, Any]:
    """The page's telemetry config: public by design (an address, link templates), never a key.

    Args:
        settings: the gateway's settings.
        relay_max_bytes: with a relay, its bound, which each of the page's exports must fit in.
    """
    relay = relay_max_bytes is not None
    endpoint = settings.browser_traces_endpoint or (RELAY_PATH if relay else None)
    return {
        "service_name": BROWSER_SERVICE,
        "traces_endpoint": endpoint if settings.tracing_enabled else None,
        "max_export_bytes": relay_max_bytes if endpoint == RELAY_PATH else None,
        "resource": {
            "deployment.environment": settings.environment,
            "service.version": settings.service_version,
        },
        "links": settings.trace_links(),
    }


def serve_browser(
    app: FastAPI,
    settings: BrowserSettings,
    relay_transport: httpx.AsyncBaseTransport | None = None,
    *,
    max_body_bytes: int,
) -> None:
    """Add the config route, the relay (when the page exports through the gateway) and CORS to `app`.

    Args:
        app: the public app, already instrumented.
        settings: the gateway's settings.
        relay_transport: the relay client's transport (tests route it to a stand-in).
        max_body_bytes: the app's body limit (`MAX_BODY_BYTES`): the relay's bound too.
    """
    endpoint = settings.otlp_traces_endpoint() if settings.exporting else None
    relay = None
    if settings.browser_traces_endpoint is None and endpoint is not None:
        timeout = settings.otel_exporter_otlp_timeout / 1000
        relay = OtlpRelay(
            endpoint, settings.otlp_headers(), timeout, max_bytes=max_body_bytes, transport=relay_transport
        )
    config = browser_config(settings, relay_max_bytes=None if relay is None else relay.max_bytes)

    async def telemetry_config(_: Any) -> JSONResponse:
        return JSONResponse(config, headers={"Cache-Control": "no-store"})

    app.router.routes.append(Route(f"{PREFIX}/browser", telemetry_config, methods=["GET"]))
    if relay is not None:
        app.router.routes.append(Route(RELAY_PATH, relay.handle, methods=["POST"]))
        app.router.lifespan_context = _with_relay(relay, app.router.lifespan_context)  # type: ignore[arg-type]
    origins = settings.allowed_origins()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=TRACE_REQUEST_HEADERS,
            expose_headers=TRACE_RESPONSE_HEADERS,
        )


def _with_relay(relay: OtlpRelay, lifespan: Lifespan[FastAPI]) -> Lifespan[FastAPI]:
    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with relay.open(), lifespan(app):
            yield

    return run
