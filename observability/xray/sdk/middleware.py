"""A pure-ASGI X-Ray middleware: one segment per sampled request, inside the OTel server span.

aws-xray-sdk has no ASGI middleware. This one takes the trace id, the segment id, the parent and the
sampling decision from the OTel server span around it, so the two traces are one. The segment always
ends: on a response, on an exception (recorded, a fault), and when the client goes away.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from starlette.datastructures import URL, Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.xray.sdk.recorder import XRay

log = logging.getLogger(__name__)

MAX_FIELD = 250  # the segment schema's limit for url, user_agent, client_ip and user


class XRayMiddleware:
    """Records each request as a segment named after the service.

    Args:
        app: the ASGI app inside.
        xray: the process's X-Ray handle.
    """

    def __init__(self, app: ASGIApp, xray: XRay) -> None:
        self.app = app
        self.xray = xray

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        context = span.get_span_context()
        if scope["type"] != "http" or not context.is_valid:
            await self.app(scope, receive, send)
            return
        response: dict[str, int | None] = {}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = int(message["status"])
                length = Headers(raw=message.get("headers", [])).get("content-length", "")
                response["length"] = int(length) if length.isdigit() else None
            await send(message)

        with self.xray.segment(span) as segment:
            if segment is None:
                await self.app(scope, receive, send)
                return
            try:
                await self.app(scope, receive, send_wrapper)
            except Exception as error:
                self.xray.record_exception(segment, error)
                response.setdefault("status", 500)
                raise
            finally:
                try:
                    _describe(segment, scope, response, span)
                except Exception:
                    log.warning("cannot describe an X-Ray segment", exc_info=True)


def _describe(segment: Any, scope: Scope, response: dict[str, int | None], span: trace.Span) -> None:
    headers = Headers(scope=scope)
    url = URL(scope=scope).replace(query="")  # no query string: it is not ours to keep
    segment.put_http_meta("method", scope["method"])
    segment.put_http_meta("url", str(url)[:MAX_FIELD])
    if "user-agent" in headers:
        segment.put_http_meta("user_agent", headers["user-agent"][:MAX_FIELD])
    forwarded = headers.get("x-forwarded-for")
    client = scope.get("client")
    if forwarded:
        segment.put_http_meta("client_ip", forwarded.split(",")[0].strip()[:MAX_FIELD])
        segment.put_http_meta("x_forwarded_for", True)
    elif client:
        segment.put_http_meta("client_ip", str(client[0])[:MAX_FIELD])
    status = response.get("status")
    if status is not None:
        segment.put_http_meta("status", status)
        segment.apply_status_code(status)
    if response.get("length") is not None:
        segment.put_http_meta("content_length", response["length"])
    attributes = span.attributes if isinstance(span, ReadableSpan) and span.attributes else {}
    route = attributes.get("http.route")
    if isinstance(route, str):
        segment.put_annotation("route", route[:1000])
    user = attributes.get("enduser.id")
    if isinstance(user, str) and user:
        segment.put_annotation("user", user[:1000])
        segment.set_user(user[:MAX_FIELD])
