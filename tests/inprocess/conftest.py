"""The in-process fixtures: the three apps wired together, traced into one in-memory exporter."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import telemetry
from observability.telemetry import Telemetry
from services.common.settings import ServiceSettings
from tests.inprocess.wiring import Apps, ProcessBoundaryTransport, three_apps


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
