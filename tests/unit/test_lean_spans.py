"""The lean server and client spans: the names, kinds, attributes and statuses the contrib ones made."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from observability.otel import server_span
from observability.otel.client_span import ClientSpanTransport
from observability.otel.propagation import use_project_propagation
from observability.otel.tracer import LeanTracerProvider

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


PROVIDER: type[TracerProvider] = LeanTracerProvider


@pytest.fixture(autouse=True, params=[TracerProvider, LeanTracerProvider], ids=["sdk-tracer", "lean-tracer"])
def provider_class(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on the SDK's tracer provider and on the project's lean one."""
    monkeypatch.setattr(f"{__name__}.PROVIDER", request.param)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def provider_for(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = PROVIDER()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def app_with_spans(exporter: InMemorySpanExporter) -> FastAPI:
    app = FastAPI()

    @app.get("/users/{handle}")
    async def user(handle: str) -> dict[str, str]:
        return {"handle": handle}

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("no")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {}

    server_span.instrument(app, provider_for(exporter), excluded="healthz", on_request=None)
    return app


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://users:8002") as client:
        return await client.get(path, headers=headers)


def only(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = exporter.get_finished_spans()
    return span


async def test_a_request_is_a_server_span_named_by_its_route_with_http_attributes(
    exporter: InMemorySpanExporter,
) -> None:
    """`GET /users/{handle}`, SERVER, the parent from `traceparent`, and the contrib's HTTP attributes."""
    use_project_propagation(read_xray_header=False)
    response = await get(
        app_with_spans(exporter), "/users/worf?x=1", traceparent=f"00-{TRACE}-00f067aa0ba902b7-01"
    )
    assert response.status_code == 200
    span = only(exporter)
    assert (span.name, span.kind) == ("GET /users/{handle}", SpanKind.SERVER)
    assert span.context is not None and f"{span.context.trace_id:032x}" == TRACE
    assert span.parent is not None and span.parent.span_id == 0x00F067AA0BA902B7
    assert dict(span.attributes or {}) == {
        "http.scheme": "http",
        "http.host": "users:8002",
        "net.host.port": 8002,
        "http.flavor": "1.1",
        "http.target": "/users/worf",
        "http.url": "http://users:8002/users/worf?x=1",
        "http.method": "GET",
        "http.server_name": "users:8002",
        "http.user_agent": f"python-httpx/{httpx.__version__}",
        "net.peer.ip": "10.1.2.3",
        "net.peer.port": 4567,
        "http.status_code": 200,
        "http.route": "/users/{handle}",
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_an_exception_is_a_500_inside_an_errored_span_with_its_event(
    exporter: InMemorySpanExporter,
) -> None:
    """An unhandled error no middleware answered: ERROR with the exception named, and the 500 that
    Starlette's `ServerErrorMiddleware` (outside the span) answers."""
    response = await get(app_with_spans(exporter), "/boom")
    assert response.status_code == 500
    span = only(exporter)
    assert span.attributes is not None and span.attributes["http.status_code"] == 500
    assert (span.status.status_code, span.status.description) == (StatusCode.ERROR, "ValueError: no")
    assert [event.name for event in span.events] == ["exception"]


async def test_synthetic_user_agents_are_named_on_every_request(exporter: InMemorySpanExporter) -> None:
    """A bot's or a test's user agent gives `user_agent.synthetic.type` on each of its requests (the
    check is kept per agent), an ordinary one none; `/healthz` matched by its pattern gets no span."""
    app = app_with_spans(exporter)
    agents = ["Mozilla/5.0 (compatible; Googlebot/2.1)", "AlwaysOn-Monitor/1.0", "curl/8", "curl/8"]
    for agent in agents + agents[:2]:
        await get(app, "/users/worf", **{"user-agent": agent})
    await get(app, "/healthz", **{"user-agent": agents[0]})
    spans = exporter.get_finished_spans()
    assert [(s.attributes or {}).get("user_agent.synthetic.type") for s in spans] == [
        "bot",
        "test",
        None,
        None,
        "bot",
        "test",
    ]


async def test_excluded_and_unrouted_requests(exporter: InMemorySpanExporter) -> None:
    """`/healthz` makes no span; an unknown path is a span named by its method alone, a 404 not an error."""
    app = app_with_spans(exporter)
    await get(app, "/healthz")
    assert exporter.get_finished_spans() == ()
    await get(app, "/nowhere")
    span = only(exporter)
    assert span.name == "GET" and "http.route" not in (span.attributes or {})
    assert span.status.status_code is StatusCode.UNSET


def test_a_server_without_a_port_is_named_by_its_host_alone() -> None:
    """A unix socket's server (`[path, None]`, as ASGI gives it) names `http.host` without `:None`, and
    no port attribute; a port other than 80 is kept, port 80 left out as the contrib does."""
    servers: list[tuple[tuple[str, int | None], str]] = [
        (("/run/users.sock", None), "/run/users.sock"),
        (("users", 8002), "users:8002"),
    ]
    for server, host in servers:
        scope: dict[str, Any] = {
            "type": "http",
            "method": "GET",
            "path": "/users",
            "headers": [],
            "server": server,
        }
        headers = server_span.RequestHeaders(scope)
        attributes = server_span.request_attributes(scope, headers, server_span.request_url(scope, headers))
        assert attributes["http.host"] == host
        assert attributes.get("net.host.port") == server[1]
    default_port = {"type": "http", "headers": [], "server": ("users", 80)}
    assert server_span.request_url(default_port, server_span.RequestHeaders(default_port)) == "http://users"


def test_unknown_methods_are_other() -> None:
    """Methods outside RFC 9110's (and PATCH, QUERY) are named `_OTHER`, whatever their case."""
    assert [server_span.sanitize_method(m) for m in ("get", "PATCH", "BREW")] == ["GET", "PATCH", "_OTHER"]


async def test_a_call_is_a_client_span_whose_context_travels_in_traceparent(
    exporter: InMemorySpanExporter,
) -> None:
    """A 404 from downstream: a CLIENT span `GET`, ERROR, with the URL (no credentials) and the status."""
    use_project_propagation(read_xray_header=False)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["traceparent"])
        return httpx.Response(404)

    transport = ClientSpanTransport(httpx.MockTransport(answer), provider_for(exporter))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("http://user:pw@users:8002/users/nobody")
    span = only(exporter)
    assert (span.name, span.kind, span.status.status_code) == ("GET", SpanKind.CLIENT, StatusCode.ERROR)
    assert dict(span.attributes or {}) == {
        "http.method": "GET",
        "http.url": "http://REDACTED:REDACTED@users:8002/users/nobody",
        "http.status_code": 404,
    }
    assert span.context is not None
    assert seen == [
        f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{int(span.context.trace_flags):02x}"
    ]
