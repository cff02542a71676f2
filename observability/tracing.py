"""OpenTelemetry for one process: the tracer provider, and the instrumentation of each app.

The provider uses the X-Ray-compatible id generator, so every trace id is also an X-Ray trace id.
Settings come from `observability.settings.TelemetrySettings`; nothing here reads the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import baggage, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.settings import TelemetrySettings

log = logging.getLogger(__name__)

ENDUSER_ID = "enduser.id"
UNTRACED_PATHS = "healthz"


def build_sampler(settings: TelemetrySettings) -> Sampler:
    """The sampler named by `OTEL_TRACES_SAMPLER`; the parent's decision wins for `parentbased_*`.

    Args:
        settings: telemetry settings (sampler name and ratio already validated).
    """
    name = settings.otel_traces_sampler
    ratio = settings.otel_traces_sampler_arg if settings.otel_traces_sampler_arg is not None else 1.0
    root: Sampler
    if name.endswith("always_on"):
        root = ALWAYS_ON
    elif name.endswith("always_off"):
        root = ALWAYS_OFF
    else:
        root = TraceIdRatioBased(ratio)
    return ParentBased(root) if name.startswith("parentbased_") else root


def build_tracer_provider(
    settings: TelemetrySettings,
    *,
    service_name: str,
    exporter: SpanExporter | None = None,
    sampler: Sampler | None = None,
) -> TracerProvider:
    """A tracer provider with the X-Ray id generator, exporting in batches off the request path.

    With no exporter given and no OTLP endpoint configured, spans are made (so trace context is
    propagated and logged) but not sent anywhere.

    Args:
        settings: telemetry settings.
        service_name: used when `OTEL_SERVICE_NAME` is not set.
        exporter: overrides the OTLP/HTTP exporter the settings describe (tests pass an in-memory one).
        sampler: overrides the sampler the settings name (X-Ray's rules, when X-Ray is on).
    """
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name or service_name,
            "service.version": settings.service_version,
            "deployment.environment": settings.environment,
            "deployment.environment.name": settings.environment,
        }
    )
    provider = TracerProvider(
        resource=resource,
        sampler=sampler or build_sampler(settings),
        id_generator=AwsXRayIdGenerator(),
        shutdown_on_exit=False,  # Telemetry.shutdown does it, with a bound; atexit would wait unbounded
    )
    if exporter is None and settings.exporting:
        exporter = OTLPSpanExporter(
            endpoint=settings.otlp_traces_endpoint(),
            headers=settings.otlp_headers(),
            timeout=settings.otel_exporter_otlp_timeout / 1000,
        )
    if exporter is not None:
        provider.add_span_processor(
            BatchSpanProcessor(
                exporter,
                schedule_delay_millis=settings.otel_bsp_schedule_delay,
                max_queue_size=settings.otel_bsp_max_queue_size,
            )
        )
    return provider


def _enduser_from_baggage(span: trace.Span, scope: Mapping[str, Any]) -> None:
    user = baggage.get_baggage(ENDUSER_ID)
    if isinstance(user, str) and user and span.is_recording():
        span.set_attribute(ENDUSER_ID, user)


def instrument_app(app: FastAPI, tracer_provider: TracerProvider, *, trust_incoming_baggage: bool) -> None:
    """Server spans for every route but `/healthz`, without ASGI send/receive spans.

    Args:
        app: the app, built with FastAPI's own telemetry off (see `fastapi_telemetry_off`).
        tracer_provider: the process's provider.
        trust_incoming_baggage: record the caller's `enduser.id` baggage on the server span. Only
            internal services trust it; the public gateway sets the user from the verified token.
    """
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=UNTRACED_PATHS,
        exclude_spans=["send", "receive"],
        server_request_hook=_enduser_from_baggage if trust_incoming_baggage else None,
    )


def fastapi_telemetry_off() -> TelemetryConfig:
    """FastAPI's native telemetry switched off: the contrib instrumentation owns the server spans."""
    return {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def traceparent_of(span_context: trace.SpanContext) -> str:
    """The W3C `traceparent` form of a span context (`00-<trace>-<span>-<flags>`)."""
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


class TraceResponseMiddleware:
    """Adds a W3C `traceresponse` header naming the server span, so any response leads to its trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span_context = trace.get_current_span().get_span_context()

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start" and span_context.is_valid:
                headers = list(message.get("headers", []))
                headers.append((b"traceresponse", traceparent_of(span_context).encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)
