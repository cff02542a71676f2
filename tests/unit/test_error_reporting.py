"""The error middleware in one app: one item per unhandled error, none for 4xx, the 500 answered at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit")


def build(rollbar: RollbarStandIn, exporter: InMemorySpanExporter) -> telemetry_mod.Telemetry:
    settings = TelemetrySettings(rollbar_access_token=rollbar.token, rollbar_endpoint=rollbar.endpoint)
    return telemetry_mod.configure(settings, service_name="unit", span_exporter=exporter)


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
    assert rollbar.snapshot() == [item]


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
