"""The transport stack of every outgoing client (`Telemetry.http_client`): layers around the real one.

Tracing (`client_span.ClientSpanTransport`) wraps the innermost transport, so every call is a client
span that carries W3C `traceparent`/`tracestate`/`baggage`, whatever the innermost transport is
(tests plug in `httpx.ASGITransport` or `httpx.MockTransport` there); the propagator writes
`X-Amzn-Trace-Id` when X-Ray is on, and the SDK path adds its subsegments inside the client span.
"""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider

from observability.otel.client_span import ClientSpanTransport
from observability.otel.transports import TransportName, real_transport
from observability.xray.sdk import XRay, wrap_transport

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
DEFAULT_KEEPALIVE_EXPIRY = 2.0  # seconds; below the servers' keep-alive (uvicorn's 5 s by default)


def limits(keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY, max_connections: int = 100) -> httpx.Limits:
    """The pool's limits: idle connections dropped before the server would drop them."""
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max(1, max_connections // 2),
        keepalive_expiry=keepalive_expiry,
    )


def build_transport(
    *,
    tracer_provider: TracerProvider | None,
    inner: httpx.AsyncBaseTransport | None = None,
    xray: XRay | None = None,
    transport_name: TransportName = "aiohttp",
    pool: httpx.Limits | None = None,
) -> httpx.AsyncBaseTransport:
    """The transport stack: OTel client spans around X-Ray subsegments around `inner`.

    Args:
        tracer_provider: the process's provider; None leaves the stack untraced.
        inner: the innermost transport (a pooled HTTP transport by default).
        xray: the process's X-Ray handle; None leaves calls out of X-Ray.
        transport_name: which pooled HTTP transport to use when `inner` is None
            (`HTTP_CLIENT_TRANSPORT`; see `observability.otel.transports`).
        pool: its limits (`limits()` by default).
    """
    transport = inner if inner is not None else real_transport(transport_name, pool or limits())
    if xray is not None:
        transport = wrap_transport(transport, xray)
    if tracer_provider is not None:
        transport = ClientSpanTransport(transport, tracer_provider)
    return transport
