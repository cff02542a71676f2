"""The server span of each request, from a lean pure-ASGI middleware in place of the contrib FastAPI one.

The contrib instrumentation paid on every request, sampled or not, for what this project never uses:
a walk over every route to name the span before routing ran, request attributes for both semantic
convention sets, header lookups that decode every header per name, HTTP metrics on a no-op meter,
and a `send` wrapper doing it all again per message. The profile charged it 3-4% of the gateway's
samples (docs/performance.md). This one makes the same span: the same name (`GET /route`, set once
routing matched), kind (SERVER, or INTERNAL under a span already current, as in-process tests run
it), attributes (the HTTP conventions the contrib one emits by default), status (ERROR for a 5xx or
an exception, recorded as an event), the same `/healthz`-style exclusions, and the same place in the
stack: outside Starlette's `ServerErrorMiddleware`, so a 500 it answers is inside the span. Trace
context is extracted with every value of a header (the W3C suite's duplicate `traceparent` cases).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import ExcludeList, detect_synthetic_user_agent
from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RequestHook = Callable[[trace.Span, Scope], None]
# The methods a span names as they are (RFC 9110, PATCH, QUERY); any other is `_OTHER`, as the contrib
# instrumentations say (whose check also read the environment on every request).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"})


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
        return [value.decode("latin-1") for value in self._by_name.get(name.lower().encode("latin-1"), ())]

    def names(self) -> list[str]:
        return [name.decode("latin-1") for name in self._by_name]


class _HeaderGetter(Getter[RequestHeaders]):
    """Every value of a request header (the propagator decides what several values mean)."""

    def get(self, carrier: RequestHeaders, key: str) -> list[str] | None:
        return carrier.getlist(key) or None

    def keys(self, carrier: RequestHeaders) -> list[str]:
        return carrier.names()


HEADER_GETTER = _HeaderGetter()


def request_attributes(scope: Scope, headers: RequestHeaders | None = None) -> tuple[str, dict[str, Any]]:
    """The request's URL (for exclusions) and the span's request attributes, as the contrib ASGI
    instrumentation names them (`http.method`, `http.target`, `net.peer.ip`...).

    Args:
        scope: the request's ASGI scope.
        headers: its headers, when already read.
    """
    server = scope.get("server") or ("0.0.0.0", 80)
    port = server[1]
    server_host = f"{server[0]}:{port}" if str(port) != "80" else str(server[0])
    headers = headers if headers is not None else RequestHeaders(scope)
    hosts = headers.getlist("host")
    scheme, path = scope.get("scheme", "http"), scope.get("path", "")
    url = f"{scheme}://{hosts[0] if hosts else server_host}{path}"
    query = scope.get("query_string", b"")
    attributes: dict[str, Any] = {"http.scheme": scheme, "http.host": server_host}
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
        synthetic = detect_synthetic_user_agent(agents[0])
        if synthetic:
            attributes["user_agent.synthetic.type"] = synthetic
    client = scope.get("client")
    if client is not None:
        attributes["net.peer.ip"], attributes["net.peer.port"] = client[0], client[1]
    return url, attributes


class ServerSpanMiddleware:
    """One server span per HTTP request (see the module docstring).

    Args:
        app: Starlette's `ServerErrorMiddleware` and everything inside it.
        tracer: the tracer spans come from.
        excluded: URLs matching this list (regular expressions, searched) get no span.
        on_request: called with each recording span and the scope, before the app runs.
    """

    def __init__(
        self, app: ASGIApp, *, tracer: trace.Tracer, excluded: ExcludeList, on_request: RequestHook | None
    ) -> None:
        self.app, self.tracer, self.excluded, self.on_request = app, tracer, excluded, on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = RequestHeaders(scope)
        url, attributes = request_attributes(scope, headers)
        if self.excluded.url_disabled(url):
            await self.app(scope, receive, send)
            return
        method = attributes.get("http.method") or "HTTP"
        token = None
        if trace.get_current_span() is trace.INVALID_SPAN:
            parent, kind = extract(headers, getter=HEADER_GETTER), SpanKind.SERVER
            token = context.attach(parent)
        else:
            parent, kind = context.get_current(), SpanKind.INTERNAL
        span = self.tracer.start_span(method, context=parent, kind=kind, attributes=attributes)
        recording = span.is_recording()

        def name_by_route() -> None:
            route = getattr(scope.get("route"), "path", None)
            if isinstance(route, str):
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                span.set_attribute("http.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                name_by_route()  # routing matched by now; what runs inside the span may read the route
            await send(message)

        try:
            # `_RecordExceptions` (inside the 500 handler) records an error once; not again on its way out.
            with trace.use_span(
                span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                if recording and self.on_request is not None:
                    self.on_request(span, scope)
                await self.app(scope, receive, send_with_status if recording else send)
        finally:
            if recording:
                name_by_route()
            span.end()
            if token is not None:
                context.detach(token)


class _RecordExceptions:
    """Inside `ServerErrorMiddleware`: an exception is recorded on the span before the 500 is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            span = trace.get_current_span()
            if span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


def instrument(
    app: Starlette, tracer_provider: trace.TracerProvider, *, excluded: str, on_request: RequestHook | None
) -> None:
    """Give every HTTP request of `app` a server span, outermost (around `ServerErrorMiddleware`).

    Args:
        app: the app; its middleware stack is built when it first serves.
        tracer_provider: the process's provider.
        excluded: comma-separated patterns; a request whose URL matches one gets no span.
        on_request: called with each recording span and the scope, before the app runs.
    """
    tracer = tracer_provider.get_tracer(__name__)
    excludes = ExcludeList([pattern.strip() for pattern in excluded.split(",") if pattern.strip()])
    build = app.build_middleware_stack

    def build_middleware_stack(self: Starlette) -> ASGIApp:
        stack = build()
        if not isinstance(stack, ServerErrorMiddleware):  # Starlette changed: keep its stack untraced
            return stack
        errors = ServerErrorMiddleware(_RecordExceptions(stack.app), handler=stack.handler, debug=stack.debug)
        served = ServerSpanMiddleware(errors, tracer=tracer, excluded=excludes, on_request=on_request)
        return ServerErrorMiddleware(served)  # a failure of the span code itself is still a 500

    app.build_middleware_stack = types.MethodType(build_middleware_stack, app)  # type: ignore[method-assign]
