"""The client span of each outgoing call, from a lean transport in place of the contrib httpx one.

The contrib transport paid on every call, sampled or not, for what this project never uses:
parsing its arguments back out of the request, copying and normalizing every header (twice), both
semantic convention sets, and HTTP metrics on a no-op meter. This one makes the same span: name
(the method), kind (CLIENT), attributes (`http.method`, `http.url` with credentials and signed
query values redacted, `http.status_code`), status (ERROR for a 4xx or 5xx, or an exception,
recorded as an event); and it writes the trace headers (`traceparent`, `tracestate`, `baggage`,
and `X-Amzn-Trace-Id` with X-Ray on) with the process's propagator, inside the span. In an unsampled
trace no client span is made (it would not be recorded): the headers name a new span id of the same
trace, so each call still has a parent id of its own (W3C: the suite's "multiple requests" tests).
"""

from __future__ import annotations

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.utils import http_status_to_status_code
from opentelemetry.propagate import inject
from opentelemetry.trace import SpanKind, Status
from opentelemetry.util.http import redact_url

from observability.otel.sampling import span_ids, unsampled_child, unsampled_span
from observability.otel.server_span import sanitize_method
from observability.redact import cached_when_short

# The contrib transport's redaction (credentials, signed query values), cached: calls repeat their URLs.
_redacted_url = cached_when_short(redact_url)


class ClientSpanTransport(httpx.AsyncBaseTransport):
    """Each request a client span around `inner`, its trace headers written inside the span.

    Args:
        inner: the transport that sends the request.
        tracer_provider: the process's provider.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, tracer_provider: trace.TracerProvider) -> None:
        self.inner = inner
        self.tracer = tracer_provider.get_tracer(__name__)
        self.ids = span_ids(tracer_provider)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        current = unsampled_span()
        if current is not None:
            hop = unsampled_child(current.get_span_context(), self.ids)
            inject(request.headers, context=trace.set_span_in_context(hop))
            return await self.inner.handle_async_request(request)
        method = sanitize_method(request.method.strip())
        attributes = {"http.method": method, "http.url": _redacted_url(str(request.url))}
        name = "HTTP" if method == "_OTHER" else method
        with self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
            inject(request.headers)
            response = await self.inner.handle_async_request(request)
            if span.is_recording():
                span.set_attribute("http.status_code", response.status_code)
                span.set_status(Status(http_status_to_status_code(response.status_code)))
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()
