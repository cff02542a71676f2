"""The transport stack of every outgoing client (`Telemetry.http_client`): layers around the real one.

Tracing wraps the innermost transport, so every call is a client span that carries W3C
`traceparent`/`tracestate`/`baggage`, whatever the innermost transport is (tests plug in
`httpx.ASGITransport` or `httpx.MockTransport` there); the propagator writes `X-Amzn-Trace-Id`
when X-Ray is on, and the SDK path adds its subsegments inside the client span.
"""

from __future__ import annotations

import httpx
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider

from observability.otel.transports import TransportName, real_transport
from observability.xray.sdk import XRay, wrap_transport

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50)


def build_transport(
    *,
    tracer_provider: TracerProvider | None,
    inner: httpx.AsyncBaseTransport | None = None,
    xray: XRay | None = None,
    transport_name: TransportName = "aiohttp",
) -> httpx.AsyncBaseTransport:
    """The transport stack: OTel client spans around X-Ray subsegments around `inner`.

    Args:
        tracer_provider: the process's provider; None leaves the stack untraced.
        inner: the innermost transport (a pooled HTTP transport by default).
        xray: the process's X-Ray handle; None leaves calls out of X-Ray.
        transport_name: which pooled HTTP transport to use when `inner` is None
            (`HTTP_CLIENT_TRANSPORT`; see `observability.otel.transports`).
    """
    transport = inner if inner is not None else real_transport(transport_name, DEFAULT_LIMITS)
    if xray is not None:
        transport = wrap_transport(transport, xray)
    if tracer_provider is not None:
        transport = AsyncOpenTelemetryTransport(
            transport, tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider()
        )
    return transport
