"""What the gateway serves browsers: the page, its telemetry config, the OTLP relay, CORS, a dev token."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.routing import Route

from observability import configure
from observability.browser import relay as relay_module
from observability.browser.relay import OtlpRelay
from services.gateway.app import create_app
from services.gateway.auth import verify
from services.gateway.settings import GatewaySettings

KEY = "hcik_unit_secret_key_0123456789"
OTLP = "http://127.0.0.1:4318"
ORIGIN = "http://gateway"
Handler = Callable[[httpx.Request], httpx.Response]


def accept(seen: list[httpx.Request]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"content-type": "application/json"})

    return handle


@asynccontextmanager
async def gateway(handler: Handler | None = None, /, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway alone with its lifespan running, its relay's upstream answered by `handler`."""
    values = {"honeycomb_api_endpoint": OTLP, "honeycomb_api_key": KEY, **settings}
    config = GatewaySettings(**values)
    # The gateway's own spans stay in memory; the relay still forwards to the configured endpoint.
    telemetry = configure(config, service_name="gateway", span_exporter=InMemorySpanExporter())
    transport = httpx.MockTransport(handler or accept([]))
    app = create_app(config, telemetry, relay_transport=transport)
    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN)
            async with client:
                yield client
    finally:
        telemetry.shutdown()


async def chunked(body: bytes) -> AsyncIterator[bytes]:
    """`body` sent without a Content-Length, in 4 KiB chunks."""
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


def export(
    client: httpx.AsyncClient,
    body: bytes | AsyncIterator[bytes] = b'{"resourceSpans": []}',
    /,
    **headers: str,
) -> Any:
    sent = {"origin": ORIGIN, "content-type": "application/json", **headers}
    return client.post("/telemetry/v1/traces", content=body, headers=sent)


async def test_page_and_its_files_are_served() -> None:
    """`/` is the page, and its script and stylesheet are served from `/static/`."""
    async with gateway() as client:
        page = await client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script defer src="/static/app.js">' in page.text
        script = await client.get("/static/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert (await client.get("/static/style.css")).status_code == 200


async def test_config_names_the_relay_and_links_but_never_a_key() -> None:
    """The page's config says to export to the relay and how to link a trace; no header value is in it."""
    async with gateway(
        otel_exporter_otlp_headers="x-other-secret=s3cr3t-value",
        honeycomb_team="cruddur",
        honeycomb_environment="dev",
    ) as client:
        response = await client.get("/telemetry/browser")
    config = response.json()
    assert config["traces_endpoint"] == "/telemetry/v1/traces" and config["max_export_bytes"] == 65_536
    assert config["links"] == {
        "Jaeger": "http://localhost:16686/trace/{trace_id}",
        "Honeycomb": "https://ui.honeycomb.io/cruddur/environments/dev/trace?trace_id={trace_id}",
    }
    assert KEY not in response.text and "s3cr3t-value" not in response.text
    assert response.headers["cache-control"] == "no-store" and "traceresponse" not in response.headers


async def test_page_exports_straight_to_a_collector_when_told() -> None:
    """With BROWSER_TRACES_ENDPOINT (compose: the collector, which allows the origin) there is no relay."""
    seen: list[httpx.Request] = []
    async with gateway(accept(seen), browser_traces_endpoint="http://localhost:4318/v1/traces") as client:
        config = (await client.get("/telemetry/browser")).json()
        assert config["traces_endpoint"] == "http://localhost:4318/v1/traces"
        assert config["max_export_bytes"] is None  # the collector's bound, not the gateway's
        assert (await export(client)).status_code in (404, 405)
    assert not seen


async def test_nothing_to_export_to_means_no_export_and_no_relay() -> None:
    """A gateway that exports nowhere tells the page not to export, and has no relay."""
    async with gateway(otel_exporter_otlp_endpoint=None, honeycomb_api_key=None) as client:
        assert (await client.get("/telemetry/browser")).json()["traces_endpoint"] is None
        assert (await export(client)).status_code in (404, 405)


async def test_relay_forwards_a_same_origin_export_adding_the_key() -> None:
    """A same-origin export reaches the OTLP endpoint as sent, with the Honeycomb key added server-side."""
    seen: list[httpx.Request] = []
    body = b'{"resourceSpans": [{"scopeSpans": []}]}'
    async with gateway(accept(seen)) as client:
        response = await export(client, body, **{"sec-fetch-site": "same-origin"})
    assert response.status_code == 200
    [forwarded] = seen
    assert str(forwarded.url) == f"{OTLP}/v1/traces" and forwarded.content == body
    assert forwarded.headers["x-honeycomb-team"] == KEY
    assert forwarded.headers["content-type"] == "application/json"
    assert "origin" not in forwarded.headers and KEY not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": ""},
        {"origin": "http://evil.example"},
        {"origin": "https://gateway"},
        {"sec-fetch-site": "cross-site"},
    ],
)
async def test_relay_takes_only_its_own_origin(headers: dict[str, str]) -> None:
    """An export without the page's own origin (another site, curl) is a 403 and is not forwarded."""
    seen: list[httpx.Request] = []
    async with gateway(accept(seen)) as client:
        assert (await export(client, **headers)).status_code == 403
    assert not seen


@pytest.mark.parametrize("limit", [65_536, 1_000_000])
async def test_relay_takes_an_export_up_to_max_body_bytes_and_no_more(limit: int) -> None:
    """The relay's bound is MAX_BODY_BYTES, which the page is told: an export of exactly that many bytes
    is forwarded whole; one byte more is a 413, declared or chunked, and is not forwarded."""
    seen: list[httpx.Request] = []
    async with gateway(accept(seen), max_body_bytes=limit) as client:
        assert (await client.get("/telemetry/browser")).json()["max_export_bytes"] == limit
        assert (await export(client, b"x" * limit)).status_code == 200
        assert (await export(client, b"x" * (limit + 1))).status_code == 413
        assert (await export(client, chunked(b"x" * (limit + 1)))).status_code == 413
    assert [len(request.content) for request in seen] == [limit]


async def test_the_relay_alone_keeps_its_bound() -> None:
    """Served on an app without the body limit, the relay still refuses more than its `max_bytes`."""
    seen: list[httpx.Request] = []
    relay = OtlpRelay(f"{OTLP}/v1/traces", {}, 1.0, max_bytes=10, transport=httpx.MockTransport(accept(seen)))
    app = Starlette(routes=[Route("/telemetry/v1/traces", relay.handle, methods=["POST"])])
    async with (
        relay.open(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client,
    ):
        assert (await export(client, b"x" * 10)).status_code == 200
        assert (await export(client, b"x" * 11)).status_code == 413
        assert (await export(client, chunked(b"x" * 11))).status_code == 413
    assert [len(request.content) for request in seen] == [10]


async def test_relay_bounds_type() -> None:
    """Not OTLP's JSON or protobuf, plain or gzip, is a 415 and is not forwarded."""
    seen: list[httpx.Request] = []
    async with gateway(accept(seen)) as client:
        assert (await export(client, **{"content-type": "text/plain"})).status_code == 415
        assert (await export(client, **{"content-encoding": "br"})).status_code == 415
        gzipped = await export(client, gzip.compress(b"{}"), **{"content-encoding": "gzip"})
        assert gzipped.status_code == 200
        ok = await export(client, b"\x0a\x00", **{"content-type": "application/x-protobuf"})
        assert ok.status_code == 200
    assert [r.headers.get("content-encoding") for r in seen] == ["gzip", None]


async def test_relay_bounds_the_rate() -> None:
    """Past the burst, exports are refused with 429 and Retry-After, and are not forwarded."""
    seen: list[httpx.Request] = []
    async with gateway(accept(seen)) as client:
        answers = [(await export(client)) for _ in range(relay_module.BURST + 5)]
    codes = [answer.status_code for answer in answers]
    assert codes.count(200) in (relay_module.BURST, relay_module.BURST + 1)  # one token may refill
    assert 429 in codes and answers[-1].headers["retry-after"] == "1"
    assert len(seen) == codes.count(200)


async def test_relay_failure_is_a_502_and_breaks_nothing() -> None:
    """An unreachable OTLP endpoint makes the export a 502; the page and API go on answering."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with gateway(refuse) as client:
        assert (await export(client)).status_code == 502
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/")).status_code == 200


async def test_cors_lets_a_listed_page_send_trace_context_and_read_the_trace_id() -> None:
    """A listed origin may send traceparent and read traceresponse; any other origin gets no CORS grant."""
    page = "http://localhost:3000"
    async with gateway(cors_allowed_origins=f"{page},http://127.0.0.1:3000") as client:
        preflight = await client.options(
            "/api/activities/home",
            headers={
                "origin": page,
                "access-control-request-method": "GET",
                "access-control-request-headers": "traceparent,tracestate",
            },
        )
        assert preflight.status_code == 200
        assert "traceparent" in preflight.headers["access-control-allow-headers"].lower()
        answer = await client.get("/healthz", headers={"origin": page})
        assert answer.headers["access-control-allow-origin"] == page
        assert "traceresponse" in answer.headers["access-control-expose-headers"].lower()
        other = await client.get("/healthz", headers={"origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_no_cors_unless_origins_are_listed() -> None:
    """By default the gateway grants no cross-origin access at all."""
    async with gateway() as client:
        answer = await client.get("/healthz", headers={"origin": "http://localhost:3000"})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize(("environment", "served"), [("development", True), ("staging", False)])
async def test_dev_token_route_exists_only_in_development(environment: str, served: bool) -> None:
    """`POST /api/dev/token` mints a valid token in development and does not exist anywhere else."""
    # Outside development the gateway starts only with a real AUTH_SECRET (it fails closed).
    secret = {} if served else {"auth_secret": "p" * 40}
    async with gateway(environment=environment, **secret) as client:
        response = await client.post("/api/dev/token", json={"handle": "worf"})
    if served:
        assert response.status_code == 200
        assert verify(response.json()["token"], GatewaySettings().secret) == "worf"
    else:
        assert response.status_code == 404


async def test_dev_token_route_is_absent_in_production() -> None:
    """In production there is no token route, whatever else is set."""
    async with gateway(environment="production", auth_secret="p" * 40) as client:
        assert (await client.post("/api/dev/token", json={"handle": "worf"})).status_code == 404


def test_xray_link_only_against_real_aws() -> None:
    """The X-Ray console link appears with X-Ray on and a region, not while AWS is a local emulator."""
    real = GatewaySettings(xray_exporter="collector", aws_region="eu-west-1").trace_links()
    assert real["X-Ray"].startswith("https://eu-west-1.console.aws.amazon.com/")
    assert real["X-Ray"].endswith("#xray:traces/{xray_trace_id}")
    local = GatewaySettings(
        xray_exporter="collector", aws_region="eu-west-1", aws_endpoint_url="http://moto:5000"
    )
    assert "X-Ray" not in local.trace_links()


@pytest.mark.parametrize("origins", ["*", "http://localhost:3000/app", "localhost:3000", "http://a, ftp://b"])
def test_cors_origins_must_be_origins(origins: str) -> None:
    """CORS_ALLOWED_ORIGINS takes scheme://host[:port] entries only: no wildcard, no path."""
    with pytest.raises(ValidationError):
        GatewaySettings(cors_allowed_origins=origins)
