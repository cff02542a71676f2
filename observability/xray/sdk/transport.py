"""The httpx transport that makes every outgoing call a `remote` X-Ray subsegment.

It sits inside the OTel client transport, so the current span is the client span of this call: the
subsegment takes its id, the one `X-Amzn-Trace-Id` names as `Parent` (the X-Ray propagator writes
that header, on every call, whatever the X-Ray mode).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from opentelemetry import trace

from observability.xray.sdk.recorder import XRay

log = logging.getLogger(__name__)

MAX_URL = 250  # the segment schema's limit (query strings are left out)


class XRayTransport(httpx.AsyncBaseTransport):
    """Wraps `inner`; one subsegment per request, named after the `host:port` it calls.

    Args:
        inner: the transport that sends the request.
        xray: the process's X-Ray handle.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, xray: XRay) -> None:
        self.inner = inner
        self.xray = xray

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        context = trace.get_current_span().get_span_context()
        name = request.url.netloc.decode("ascii", "replace") or "remote"  # host:port tells services apart
        subsegment = self.xray.begin_subsegment(name, context) if context.trace_flags.sampled else None
        if subsegment is None:
            return await self.inner.handle_async_request(request)
        _describe_request(subsegment, request)
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException as error:
            if isinstance(error, Exception):
                self.xray.record_exception(subsegment, error)
            self.xray.end_subsegment(subsegment)
            raise
        _describe_response(subsegment, response)
        self.xray.end_subsegment(subsegment)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _describe_request(subsegment: Any, request: httpx.Request) -> None:
    try:
        subsegment.put_http_meta("method", request.method)
        subsegment.put_http_meta("url", str(request.url.copy_with(query=None))[:MAX_URL])
    except Exception:
        log.warning("cannot describe an X-Ray subsegment", exc_info=True)


def _describe_response(subsegment: Any, response: httpx.Response) -> None:
    try:
        subsegment.put_http_meta("status", response.status_code)
        subsegment.apply_status_code(response.status_code)
        length = response.headers.get("content-length")
        if length is not None and length.isdigit():
            subsegment.put_http_meta("content_length", int(length))
    except Exception:
        log.warning("cannot describe an X-Ray subsegment", exc_info=True)
