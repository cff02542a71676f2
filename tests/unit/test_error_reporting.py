"""The error middleware in one app: one item per unhandled error, none for 4xx, the 500 answered at once."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import rollbar as rollbar_sdk
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from observability import telemetry as telemetry_mod
from observability.settings import TelemetrySettings
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from tests.e2e.harness import poll
from tests.standins.rollbar import RollbarStandIn


@pytest.fixture
def rollbar() -> Iterator[RollbarStandIn]:
    standin = RollbarStandIn().start()
    yield standin
    standin.stop()


@asynccontextmanager
async def nothing(app: FastAPI) -> AsyncIterator[None]:
    yield


def client_of(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://unit")


def build(
    rollbar: RollbarStandIn, exporter: InMemorySpanExporter, **settings: Any
) -> telemetry_mod.Telemetry:
    options = TelemetrySettings(
        rollbar_access_token=rollbar.token, rollbar_endpoint=rollbar.endpoint, **settings
    )
    return telemetry_mod.configure(options, service_name="unit", span_exporter=exporter)


def raising_app(telemetry: telemetry_mod.Telemetry) -> FastAPI:
    """An app whose `/users/{handle}/fail` raises `LookupError` with a secret in its message."""
    from services.common.app import new_app

    app = new_app("unit", telemetry, nothing)

    @app.get("/users/{handle}/fail")
    async def fail(handle: str) -> None:
        password = "hunter2"
        raise LookupError(f"no profile for {handle} password={password}")

    return app


async def test_one_item_per_unhandled_error_and_none_for_client_errors(rollbar: RollbarStandIn) -> None:
    """A raising route gives a JSON 500 and one item whose uuid is on the span; 404 and 422 give none."""
    from services.common.app import new_app

    exporter = InMemorySpanExporter()
    telemetry = build(rollbar, exporter)
    app = new_app("unit", telemetry, nothing)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "no such thing")

    @app.get("/number/{n}")
    async def number(n: int) -> int:
        return n

    assert telemetry.reporting is not None
    telemetry.reporting.open()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://unit"
        ) as client:
            assert (await client.get("/missing")).status_code == 404
            assert (await client.get("/number/x")).status_code == 422
            response = await client.get("/boom")
    finally:
        telemetry.reporting.close()
    assert response.status_code == 500 and response.json() == {"detail": "Internal Server Error"}
    [item] = poll(lambda: rollbar.snapshot() or None, what="the item")
    assert item["body"]["trace"]["exception"] == {"class": "RuntimeError", "message": "boom"}
    assert item["request"]["route"] == "/boom" and item["context"] == "/boom"
    telemetry.force_flush()
    [server] = [s for s in exporter.get_finished_spans() if s.name == "GET /boom"]
    assert server.attributes is not None and server.attributes["rollbar.item.uuid"] == item["uuid"]
    assert [e.name for e in server.events] == ["exception"], "the exception is recorded once"
    assert (server.status.status_code, server.status.description) == (StatusCode.ERROR, "RuntimeError")
    assert rollbar.snapshot() == [item]


async def test_an_error_after_the_answer_started_is_one_event_on_the_span(rollbar: RollbarStandIn) -> None:
    """A stream that fails half way is reported once and is one exception event on the server span."""
    from services.common.app import new_app

    exporter = InMemorySpanExporter()
    telemetry = build(rollbar, exporter)
    app = new_app("unit", telemetry, nothing)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("half way")

        return StreamingResponse(chunks())

    assert telemetry.reporting is not None
    telemetry.reporting.open()
    try:
        async with client_of(app, raise_app_exceptions=False) as client:
            response = await client.get("/stream")  # started: the server ends it, unfinished
        [item] = poll(lambda: rollbar.snapshot() or None, what="the item")
    finally:
        telemetry.reporting.close()
    telemetry.force_flush()
    assert response.status_code == 200 and response.content == b"first"
    [server] = [s for s in exporter.get_finished_spans() if s.name == "GET /stream"]
    assert [e.name for e in server.events] == ["exception"]
    assert server.status.status_code is StatusCode.ERROR
    assert item["body"]["trace_chain"][0]["exception"] == {"class": "RuntimeError", "message": "half way"}


async def test_debug_error_route_is_off_in_production() -> None:
    """`GET /api/debug/error` raises in development and does not exist in production."""
    for environment, expected in (("development", 500), ("production", 404)):
        settings = GatewaySettings(
            environment=environment, auth_secret="a-production-secret-of-32-characters-or-more"
        )
        app = create_gateway(settings, telemetry_mod.Telemetry(service_name="gateway"))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://unit"
        ) as client:
            assert (await client.get("/api/debug/error")).status_code == expected, environment


async def test_items_are_built_by_the_sdk_with_frames_request_person_and_trace(
    rollbar: RollbarStandIn,
) -> None:
    """The item has pyrollbar's notifier, frames with code, the scrubbed request, the user and the trace."""
    exporter = InMemorySpanExporter()
    telemetry = build(
        rollbar, exporter, honeycomb_team="team", honeycomb_environment="env", aws_region="eu-west-1"
    )
    app = raising_app(telemetry)
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbmRyZXcifQ.c2lnbmF0dXJl"
    headers = {
        "Authorization": f"Bearer {secret}",
        "Cookie": "session=s3cr3t",
        "X-Api-Token": "t0ken",
        "baggage": "enduser.id=andrewbrown",
    }
    assert telemetry.reporting is not None
    telemetry.reporting.open()
    try:
        async with client_of(app) as client:
            response = await client.get(
                "/users/andrewbrown/fail", params={"api_key": "k-123"}, headers=headers
            )
    finally:
        telemetry.reporting.close()
    assert response.status_code == 500
    [item] = poll(lambda: rollbar.snapshot() or None, what="the item")
    assert item["notifier"] == {"name": "pyrollbar", "version": rollbar_sdk.__version__}
    frames = item["body"]["trace"]["frames"]
    assert frames[-1]["method"] == "fail" and frames[-1]["filename"] == __file__
    assert frames[-1]["code"].startswith("raise LookupError(")
    assert item["body"]["trace"]["exception"] == {
        "class": "LookupError",
        "message": "no profile for andrewbrown password=[REDACTED]",
    }
    request = item["request"]
    assert request["method"] == "GET" and request["route"] == "/users/{handle}/fail"
    assert request["url"] == "http://unit/users/andrewbrown/fail?api_key=[REDACTED]"
    assert request["params"] == {"handle": "andrewbrown"} and request["GET"] == {"api_key": "[REDACTED]"}
    assert request["headers"]["authorization"] == request["headers"]["cookie"] == "[REDACTED]"
    assert request["headers"]["x-api-token"] == "[REDACTED]"
    assert item["person"] == {"id": "andrewbrown", "username": "andrewbrown"}
    assert item["server"]["host"] and item["code_version"] == "0.1.0" and item["environment"] == "development"
    assert item["context"] == "/users/{handle}/fail" and item["framework"] == "fastapi"
    telemetry.force_flush()
    [server] = [s for s in exporter.get_finished_spans() if s.name.startswith("GET /users")]
    assert server.context is not None
    custom = item["custom"]
    assert custom["service"] == "unit" and custom["trace_id"] == f"{server.context.trace_id:032x}"
    assert custom["span_id"] == f"{server.context.span_id:016x}"
    assert custom["xray_trace_id"] == f"1-{custom['trace_id'][:8]}-{custom['trace_id'][8:]}"
    assert custom["links"]["honeycomb"].endswith(
        f"/team/environments/env/trace?trace_id={custom['trace_id']}"
    )
    assert custom["links"]["xray"].endswith(f"#xray:traces/{custom['xray_trace_id']}")
    raw = json.dumps(item)
    for leaked in (secret, "s3cr3t", "t0ken", "k-123", "hunter2", rollbar.token):
        assert leaked not in raw
    assert "locals" not in json.dumps(frames), "local variables are off unless ROLLBAR_CAPTURE_LOCALS"


async def test_a_storm_of_one_error_stays_within_the_rate_limit_and_costs_little(
    rollbar: RollbarStandIn,
) -> None:
    """200 identical errors make ROLLBAR_RATE_LIMIT items; the rest cost a counter, not an item or a build."""
    exporter = InMemorySpanExporter()
    telemetry = build(rollbar, exporter, rollbar_rate_limit=3, rollbar_hourly_budget=100)
    app = raising_app(telemetry)
    assert telemetry.reporting is not None
    reporter = telemetry.reporting.errors
    telemetry.reporting.open()
    try:
        async with client_of(app) as client:
            started = time.monotonic()
            for _ in range(200):
                assert (await client.get("/users/andrewbrown/fail")).status_code == 500
            seconds = time.monotonic() - started
    finally:
        telemetry.reporting.close()
    poll(lambda: len(rollbar.snapshot()) >= 3 or None, what="3 items")
    assert len(rollbar.snapshot()) == 3 and reporter.rate_limited == 197
    assert len({item["fingerprint"] for item in rollbar.snapshot()}) == 1
    assert seconds < 10, "the storm is answered at the pace of 500s, not of items"


def test_a_storm_of_distinct_errors_stays_within_the_queue_bound() -> None:
    """With nothing sending, distinct errors queue up to ROLLBAR_QUEUE_SIZE; the rest are dropped, counted."""
    from observability.reporting import build_reporting

    settings = TelemetrySettings(
        rollbar_access_token="t",
        rollbar_endpoint="http://127.0.0.1:1/api/1",
        rollbar_queue_size=5,
        rollbar_hourly_budget=100,
    )
    reporter = build_reporting(settings, "unit").errors  # never opened: nothing drains the queue
    assert reporter.sender is not None
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "headers": [],
        "query_string": b"",
    }
    uuids = []
    for n in range(50):
        try:
            raise type(f"Distinct{n}", (Exception,), {})("a different error each time")
        except Exception as error:
            uuids.append(reporter.report(error, scope))
    assert len([u for u in uuids if u]) == 5 and reporter.sender.dropped == 45
    assert reporter.sender._queue.qsize() == 5
