"""Shared fixtures: a clean environment, and the three apps wired in-process with one span exporter."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import telemetry
from observability.telemetry import Telemetry
from services.activities.app import create_app as create_activities
from services.activities.settings import ActivitiesSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.users.app import create_app as create_users
from services.users.settings import UsersSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: no variable of the developer's shell may steer a test."""
    fields = set()
    for cls in (GatewaySettings, ActivitiesSettings, UsersSettings):
        fields |= {name.upper() for name in cls.model_fields}
    for name in list(os.environ):
        if name.upper() in fields or name.startswith(("OTEL_", "AWS_", "ROLLBAR_", "HONEYCOMB_")):
            monkeypatch.delenv(name)


class ProcessBoundaryTransport(httpx.ASGITransport):
    """ASGITransport whose app runs in an empty context, as it would in its own process.

    Without it the downstream app inherits the caller's active span, and its server span becomes
    an INTERNAL child instead of a SERVER span continued from `traceparent`.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parent = super().handle_async_request
        return await asyncio.create_task(parent(request), context=contextvars.Context())


@dataclass
class Apps:
    """The three apps in one process: gateway's and activities' clients routed over ASGITransport."""

    gateway: FastAPI
    activities: FastAPI
    users: FastAPI
    exporter: InMemorySpanExporter
    telemetry: dict[str, Telemetry]
    client: httpx.AsyncClient

    def finished_spans(self) -> list[object]:
        for item in self.telemetry.values():
            item.force_flush()
        return list(self.exporter.get_finished_spans())


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
async def apps(tmp_path: Path, exporter: InMemorySpanExporter) -> AsyncIterator[Apps]:
    """Real apps with their lifespans running, traced into one in-memory exporter."""
    users_settings = UsersSettings(database_url=f"sqlite:///{tmp_path}/users.db")
    activities_settings = ActivitiesSettings(database_url=f"sqlite:///{tmp_path}/activities.db")
    gateway_settings = GatewaySettings()
    tel = {
        name: telemetry.configure(settings, service_name=name, span_exporter=exporter)
        for name, settings in (
            ("users", users_settings),
            ("activities", activities_settings),
            ("gateway", gateway_settings),
        )
    }
    users = create_users(users_settings, tel["users"])
    activities = create_activities(
        activities_settings, tel["activities"], users_transport=ProcessBoundaryTransport(app=users)
    )
    gateway = create_gateway(
        gateway_settings,
        tel["gateway"],
        users_transport=ProcessBoundaryTransport(app=users),
        activities_transport=ProcessBoundaryTransport(app=activities),
    )
    async with AsyncExitStack() as stack:
        for app in (users, activities, gateway):
            await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway")
        )
        exporter.clear()  # start-up is not part of any test's trace
        yield Apps(gateway, activities, users, exporter, tel, client)
    for item in tel.values():
        item.shutdown()
    gc.collect()  # a connection leaked by this test warns here, in this test, not in a later one
