"""The server span of each request, from a lean pure-ASGI middleware in place of the contrib FastAPI one.

The contrib instrumentation paid on every request, sampled or not, for what this project never uses:
a walk over every route to name the span before routing ran, request attributes for both semantic
convention sets, header lookups that decode every header per name, HTTP metrics on a no-op meter,
and a `send` wrapper doing it all again per message. The profile charged it 3-4% of the gateway's
samples (docs/performance.md). This one makes the same span: the same name (`GET /route`, set once
routing matched), kind (SERVER, or INTERNAL under a span already current, as in-process tests run
it), attributes (the HTTP conventions the contrib one emits by default), status (ERROR for a 5xx or
an exception, recorded as an event) and the same `/healthz`-style exclusions. It sits just inside
Starlette's `ServerErrorMiddleware`, around every other layer: the project's error middleware answers
an app's exception with a 500 inside the span, and an exception that gets past it unanswered (from a
layer outside it) is recorded with the 500 that `ServerErrorMiddleware` then sends. Trace context is
extracted with every value of a header (the W3C suite's duplicate `traceparent` cases).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import detect_synthetic_user_agent
from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.otel.sampling import span_ids, unsampled_child
from observability.redact import cached_when_short

RequestHook = Callable[[trace.Span, Scope], None]
# Set on an exception already recorded on the request's span (the error middleware records it when it
# reports it): when it comes back out after the response started, it is not recorded a second time.
ON_SPAN = "__cruddur_on_span__"
# The methods a span names as they are (RFC 9110, PATCH, QUERY); any other is `_OTHER`, as the contrib
# instrumentations say (whose check also read the environment on every request).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"})
# The contrib's check of a user agent (lower-cased, then searched for every bot and test pattern), kept
# per agent: a service sees the same few over and over.
_synthetic_type = cached_when_short(detect_synthetic_user_agent)
# Header names as the scope holds them (lower-case bytes), for the few names the propagators and the
# span ask for on every request; bounded, for a caller asking for any name.
_HEADER_KEYS: dict[str, bytes] = {}
_HEADER_KEYS_MAX = 64


def sanitize_method(method: str) -> str:
    """The method as spans name it: upper case, `_OTHER` for a method outside `METHODS`."""
    method = method.upper()
    return method if method in METHODS else "_OTHER"


class RequestHeaders:
    """A request's headers by lower-cased name, read from the scope once.

    The propagators look up four or five names a request (`traceparent`, `tracestate`, `baggage`,
    `X-Amzn-Trace-Id`) and the span two (`host`, `user-agent`): each lookup is a dict lookup here, not a
    pass over every header. Names match in any case (a scope built by hand may not lower-case them,
    as servers do); values are decoded only when asked for.
    """

    __slots__ = ("_by_name",)

    def __init__(self, scope: Scope) -> None:
        by_name: dict[bytes, list[bytes]] = {}
        for name, value in scope.get("headers") or ():
            by_name.setdefault(name.lower(), []).append(value)
        self._by_name = by_name

    def getlist(self, name: str) -> list[str]:
        """Every value of the header `name`, in order ([] when absent)."""
        key = _HEADER_KEYS.get(name)
        if key is None:
            key = name.lower().encode("latin-1")
            if len(_HEADER_KEYS) < _HEADER_KEYS_MAX:
                _HEADER_KEYS[name] = key
        return [value.decode("latin-1") for value in self._by_name.get(key, ())]

    def names(self) -> list[str]:
        return [name.decode("latin-1") for name in self._by_name]


class _HeaderGetter(Getter[RequestHeaders]):
    """Every value of a request header (the propagator decides what several values mean)."""

    def get(self, carrier: RequestHeaders, key: str) -> list[str] | None:
        return carrier.getlist(key) or None

    def keys(self, carrier: RequestHeaders) -> list[str]:
        return carrier.names()


HEADER_GETTER = _HeaderGetter()


def request_url(scope: Scope, headers: RequestHeaders) -> str:
    """The request's URL without its query (`scheme://host/path`): what exclusions are matched on."""
    hosts = headers.getlist("host")
    host = hosts[0] if hosts else _server_host(scope)
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}"


def _server_host(scope: Scope) -> str:
    """`host:port`, the host alone on port 80 (as the contrib names it) or without a port (a unix
    socket's `[path, None]`, which the contrib names `path:None`)."""
    host, port = scope.get("server") or ("0.0.0.0", 80)
    return f"{host}:{port}" if port is not None and str(port) != "80" else str(host)


def request_attributes(scope: Scope, headers: RequestHeaders, url: str) -> dict[str, Any]:
    """The span's request attributes, as the contrib ASGI instrumentation names them (`http.method`,
    `http.target`, `net.peer.ip`...).

    Args:
        scope: the request's ASGI scope.
        headers: its headers.
        url: its `request_url`.
    """
    port = (scope.get("server") or ("0.0.0.0", 80))[1]
    hosts = headers.getlist("host")
    scheme, path = scope.get("scheme", "http"), scope.get("path", "")
    query = scope.get("query_string", b"")
    attributes: dict[str, Any] = {"http.scheme": scheme, "http.host": _server_host(scope)}
    if port:
        attributes["net.host.port"] = port
    if scope.get("http_version"):
        attributes["http.flavor"] = scope["http_version"]
    if path:
        attributes["http.target"] = path
    attributes["http.url"] = url + ("?" + query.decode("latin-1") if query else "")
    method = scope.get("method", "")
    if method:
        attributes["http.method"] = sanitize_method(method)
    if hosts:
        attributes["http.server_name"] = ",".join(hosts)
    agents = headers.getlist("user-agent")
    if agents and agents[0]:
        attributes["http.user_agent"] = agents[0]
        synthetic = _synthetic_type(agents[0])
        if synthetic:
            attributes["user_agent.synthetic.type"] = synthetic
    client = scope.get("client")
    if client is not None:
        attributes["net.peer.ip"], attributes["net.peer.port"] = client[0], client[1]
    return attributes


def errored(span: trace.Span) -> bool:
    """Whether the span is already ERROR: its description (the exception, from the error middleware)
    is kept rather than replaced by a bare ERROR when the 500 is sent."""
    return isinstance(span, ReadableSpan) and span.status.status_code is StatusCode.ERROR


class ServerSpanMiddleware:
    """One server span per HTTP request (see the module docstring).

    Args:
        app: every layer inside Starlette's `ServerErrorMiddleware`.
        tracer_provider: the process's provider (its tracer, id generator and sampler).
        excluded: a request whose URL this pattern finds (`re.search`) gets no span (None: none excluded).
        on_request: called with each recording span and the scope, before the app runs.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracer_provider: trace.TracerProvider,
        excluded: re.Pattern[str] | None,
        on_request: RequestHook | None,
    ) -> None:
        self.app, self.excluded, self.on_request = app, excluded, on_request
        self.tracer = tracer_provider.get_tracer(__name__)
        self.ids = span_ids(tracer_provider)
        # `ParentDecides.drops_under_remote` of the provider's sampler (None for any other sampler).
        sampler = getattr(tracer_provider, "sampler", None)
        self.drops_under_remote: Callable[[Context], bool] | None = getattr(
            sampler, "drops_under_remote", None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = RequestHeaders(scope)
        url = request_url(scope, headers)
        if self.excluded is not None and self.excluded.search(url):
            await self.app(scope, receive, send)
            return
        if trace.get_current_span() is trace.INVALID_SPAN:
            parent, kind = extract(headers, getter=HEADER_GETTER), SpanKind.SERVER
            if self.drops_under_remote is not None and self.drops_under_remote(parent):
                # The caller's "not sampled" stands: no sampler, no attributes, no span of our own.
                caller = trace.get_current_span(parent).get_span_context()
                token = context.attach(trace.set_span_in_context(unsampled_child(caller, self.ids), parent))
                try:
                    await self.app(scope, receive, send)
                finally:
                    context.detach(token)
                return
        else:
            parent, kind = context.get_current(), SpanKind.INTERNAL
        attributes = request_attributes(scope, headers, url)
        method = attributes.get("http.method") or "HTTP"
        span = self.tracer.start_span(method, context=parent, kind=kind, attributes=attributes)
        recording = span.is_recording()

        named = answered = False

        def name_by_route() -> None:  # once: when the answer starts, or at the end without one
            nonlocal named
            if named:
                return
            named = True
            route = getattr(scope.get("route"), "path", None)
            if isinstance(route, str):
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)

        async def send_with_status(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
                status = int(message["status"])
                span.set_attribute("http.status_code", status)
                if status >= 500 and not errored(span):
                    span.set_status(Status(StatusCode.ERROR))
                name_by_route()  # routing matched by now; what runs inside the span may read the route
            await send(message)

        # One attach: the span in the extracted context. An exception that gets here is recorded once
        # (the error middleware marks one it put on the span already); unanswered, it is a 500.
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            if recording and self.on_request is not None:
                self.on_request(span, scope)
            await self.app(scope, receive, send_with_status if recording else send)
        except Exception as exc:
            if recording and not getattr(exc, ON_SPAN, False):
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            if recording and not answered:  # what `ServerErrorMiddleware`, outside, answers
                span.set_attribute("http.status_code", 500)
            raise
        finally:
            if recording:
                name_by_route()
            span.end()
            context.detach(token)


def instrument(
    app: Starlette, tracer_provider: trace.TracerProvider, *, excluded: str, on_request: RequestHook | None
) -> None:
    """Give every HTTP request of `app` a server span, just inside Starlette's `ServerErrorMiddleware`.

    Args:
        app: the app; its middleware stack is built when it first serves.
        tracer_provider: the process's provider.
        excluded: comma-separated patterns; a request whose URL matches one gets no span.
        on_request: called with each recording span and the scope, before the app runs.
    """
    patterns = [pattern.strip() for pattern in excluded.split(",") if pattern.strip()]
    # As the contrib's `ExcludeList` (its patterns joined, searched), compiled once rather than looked
    # up in `re`'s cache on every request.
    excludes = re.compile("|".join(patterns)) if patterns else None
    build = app.build_middleware_stack

    def build_middleware_stack(self: Starlette) -> ASGIApp:
        stack = build()
        if not isinstance(stack, ServerErrorMiddleware):  # Starlette changed: keep its stack untraced
            return stack
        # Inside it, so a failure of the span code itself is still a 500, without a layer of our own.
        stack.app = ServerSpanMiddleware(
            stack.app, tracer_provider=tracer_provider, excluded=excludes, on_request=on_request
        )
        return stack

    app.build_middleware_stack = types.MethodType(build_middleware_stack, app)  # type: ignore[method-assign]
