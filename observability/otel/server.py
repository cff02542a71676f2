"""Server spans for each app, and what the public edge adds to them: the user, and the trace id answered.

`observability.otel.server_span` makes the server span (per app, with the provider passed in, no
ASGI send/receive spans, `/healthz` untraced; the contrib FastAPI instrumentation's span, leaner).
The spans carry what X-Ray shows: `enduser.id` (its `user`), `aws.xray.annotations` naming the
attributes X-Ray indexes, and the exceptions as events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import TracerProvider
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.faults.grammar import is_fault_key
from observability.otel import server_span
from observability.otel.edge import bound_baggage, without_baggage
from observability.otel.propagation import format_traceparent
from observability.redact import scrub_path, scrub_query, scrub_url
from observability.xray.header import HEADER as XRAY_HEADER
from observability.xray.header import xray_trace_id

ENDUSER_ID = "enduser.id"
# `/telemetry/` is the browser's config and OTLP relay (observability/browser): its exports make no traces.
UNTRACED_PATHS = "healthz,/telemetry/"
# X-Ray indexes these as annotations (searchable: `annotation.http_route = "/api/activities/home"`).
# `fault.*` are set only on the span of a hop where an injected fault fired (`observability.faults`).
XRAY_ANNOTATIONS = ("http.route", ENDUSER_ID, "fault.injected", "fault.kind")

# The span attributes the server span makes from the request URL (old and new semantic
# conventions): each is rewritten by the redaction policy in the request hook, before anything exports.
_URL_ATTRIBUTES = {
    "http.url": scrub_url,
    "url.full": scrub_url,
    "http.target": scrub_url,
    "url.path": scrub_path,
    "url.query": scrub_query,
}

# FastAPI's own spans off: `server_span.ServerSpanMiddleware` makes the server spans (both would double them).
NATIVE_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

Identify = Callable[[Scope], str | None]
"""Who sent a request, from its scope (None for nobody); it may note why in the scope."""


def server_spans(
    app: FastAPI, tracer_provider: TracerProvider, *, trust_incoming_baggage: bool, xray: bool
) -> None:
    """Server spans for every route but `/healthz`, without ASGI send/receive spans.

    Args:
        app: the app, built with FastAPI's own telemetry off.
        tracer_provider: the process's provider.
        trust_incoming_baggage: record the caller's `enduser.id` baggage on the server span. Only
            internal services trust it; the public gateway sets the user from the verified token.
        xray: name the attributes X-Ray should index (`aws.xray.annotations`).
    """
    annotations = XRAY_ANNOTATIONS if xray else None

    def on_request(span: trace.Span, scope: Mapping[str, Any]) -> None:
        if not span.is_recording():
            return
        redact_url_attributes(span)
        if annotations is not None:
            span.set_attribute("aws.xray.annotations", annotations)
        user = baggage.get_baggage(ENDUSER_ID) if trust_incoming_baggage else None
        if isinstance(user, str) and user:
            span.set_attribute(ENDUSER_ID, user)

    server_span.instrument(app, tracer_provider, excluded=UNTRACED_PATHS, on_request=on_request)


def redact_url_attributes(span: trace.Span) -> None:
    """Rewrite the span's URL attributes (`http.url`, `http.target`, `url.*`) by the redaction policy."""
    attributes = getattr(span, "attributes", None) or {}
    for key, scrub in _URL_ATTRIBUTES.items():
        value = attributes.get(key)
        if isinstance(value, str):
            scrubbed = scrub(value)
            if scrubbed != value:  # most URLs carry nothing to redact: no second write
                span.set_attribute(key, scrubbed)


def _is_user(key: str) -> bool:
    return key == ENDUSER_ID


def _is_user_or_fault(key: str) -> bool:
    return key == ENDUSER_ID or is_fault_key(key)


class EdgeMiddleware:
    """The public edge: the verified user on the span and in baggage, and the trace id in every answer.

    Internal services trust `enduser.id` baggage, so the edge drops any the client sent and forwards
    only the user `identify` verified; with `drop_faults`, it drops the client's fault entries too
    (faults off here: nothing at the edge would accept them). Every response gets `traceresponse` (W3C)
    and, with X-Ray on, `X-Amzn-Trace-Id`, so any answer, a 500 included, leads to its trace.

    Args:
        app: the ASGI app inside.
        identify: who sent the request (None: nobody is ever identified).
        xray_header: also answer with `X-Amzn-Trace-Id`.
        drop_faults: drop every `fault.*` baggage entry the client sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        identify: Identify | None = None,
        xray_header: bool = False,
        drop_faults: bool = False,
    ) -> None:
        self.app = app
        self.identify = identify
        self.xray_header = xray_header
        self.untrusted = _is_user_or_fault if drop_faults else _is_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span = trace.get_current_span()
        user = self.identify(scope) if self.identify is not None else None
        ctx = bound_baggage(without_baggage(context.get_current(), self.untrusted))
        if user is not None:
            ctx = baggage.set_baggage(ENDUSER_ID, user, ctx)
            if span.is_recording():
                span.set_attribute(ENDUSER_ID, user)
        span_context = span.get_span_context()

        async def send_with_trace_id(message: Message) -> None:
            if message["type"] == "http.response.start" and span_context.is_valid:
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.append("traceresponse", format_traceparent(span_context))
                if self.xray_header:
                    sampled = int(span_context.trace_flags.sampled)
                    headers.append(
                        XRAY_HEADER, f"Root={xray_trace_id(span_context.trace_id)};Sampled={sampled}"
                    )
            await send(message)

        token = context.attach(ctx)
        try:
            await self.app(scope, receive, send_with_trace_id)
        finally:
            context.detach(token)
