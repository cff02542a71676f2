"""Shared fixtures: a clean environment, and the three apps wired in-process with one span exporter."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import telemetry
from observability.telemetry import Telemetry
from services.activities.settings import ActivitiesSettings
from services.common.settings import ServiceSettings
from services.gateway.settings import GatewaySettings
from services.users.settings import UsersSettings
from tests.inprocess import three_apps


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

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        return telemetry.configure(settings, service_name=name, span_exporter=exporter)

    async with three_apps(tmp_path, telemetry_for, transport=ProcessBoundaryTransport) as running:
        exporter.clear()  # start-up is not part of any test's trace
        tel = running.telemetry
        yield Apps(running.gateway, running.activities, running.users, exporter, tel, running.client)
    for item in tel.values():
        item.shutdown()
    gc.collect()  # a connection leaked by this test warns here, in this test, not in a later one
