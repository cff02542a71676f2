"""The three real apps in one process, wired to each other over ASGI transports, lifespans running.

What every in-process test builds on: `three_apps` starts them, `ProcessBoundaryTransport` keeps each
app's context apart as separate processes would, `Apps` is what the `apps` fixture (conftest.py) hands
a test.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.telemetry import Telemetry
from services.activities.app import create_app as create_activities
from services.activities.settings import ActivitiesSettings
from services.common.settings import ServiceSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.users.app import create_app as create_users
from services.users.settings import UsersSettings

TelemetryFor = Callable[[str, ServiceSettings], Telemetry]


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


@dataclass
class Running:
    users: FastAPI
    activities: FastAPI
    gateway: FastAPI
    telemetry: dict[str, Telemetry]
    client: httpx.AsyncClient  # to the gateway


@asynccontextmanager
async def three_apps(
    tmp: Path,
    telemetry_for: TelemetryFor,
    *,
    transport: type[httpx.ASGITransport] = httpx.ASGITransport,
    **settings: Any,
) -> AsyncIterator[Running]:
    """users, activities and gateway with their databases in `tmp`, callers routed over `transport`.

    Args:
        tmp: where the SQLite files go.
        telemetry_for: builds each service's telemetry from its name and settings.
        transport: the ASGI transport class between the apps.
        **settings: settings every service gets.
    """
    users_settings = UsersSettings(database_url=f"sqlite:///{tmp}/users.db", **settings)
    activities_settings = ActivitiesSettings(database_url=f"sqlite:///{tmp}/activities.db", **settings)
    gateway_settings = GatewaySettings(**settings)
    tel = {
        "users": telemetry_for("users", users_settings),
        "activities": telemetry_for("activities", activities_settings),
        "gateway": telemetry_for("gateway", gateway_settings),
    }
    users = create_users(users_settings, tel["users"])
    activities = create_activities(
        activities_settings, tel["activities"], users_transport=transport(app=users)
    )
    gateway = create_gateway(
        gateway_settings,
        tel["gateway"],
        users_transport=transport(app=users),
        activities_transport=transport(app=activities),
    )
    async with AsyncExitStack() as stack:
        for app in (users, activities, gateway):
            await stack.enter_async_context(app.router.lifespan_context(app))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway")
        await stack.enter_async_context(client)
        yield Running(users, activities, gateway, tel, client)
