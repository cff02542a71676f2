"""The three apps in one process, each with its own telemetry, a stub X-Ray emitter and OTel in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import telemetry as telemetry_mod
from tests.inprocess.wiring import three_apps as shared_three_apps
from tests.xray_stub import SAMPLE_ALL, StubEmitter, rules_file


@dataclass
class InProcess:
    gateway: httpx.AsyncClient
    apps: dict[str, Any]
    emitters: dict[str, StubEmitter]
    exporters: dict[str, InMemorySpanExporter]

    def documents(self) -> list[dict[str, Any]]:
        return [d for emitter in self.emitters.values() for d in emitter.documents]


@asynccontextmanager
async def three_apps(tmp: Path, rules: dict[str, Any] = SAMPLE_ALL, **env: Any) -> AsyncIterator[InProcess]:
    """gateway -> activities -> users in-process over `httpx.ASGITransport`, lifespans running."""
    common = {"xray_sampling_rules": rules_file(tmp, rules), **env}
    emitters = {name: StubEmitter() for name in ("gateway", "activities", "users")}
    exporters = {name: InMemorySpanExporter() for name in emitters}

    def telemetry(name: str, settings: Any) -> Any:
        return telemetry_mod.configure(
            settings, service_name=name, span_exporter=exporters[name], xray_emitter=emitters[name]
        )

    async with shared_three_apps(tmp, telemetry, **common) as running:
        apps = {"users": running.users, "activities": running.activities, "gateway": running.gateway}
        yield InProcess(running.client, apps, emitters, exporters)
