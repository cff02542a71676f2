"""The three apps in one process, each with its own telemetry, a stub X-Ray emitter and OTel in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import telemetry as telemetry_mod
from services.activities.app import create_app as activities_app
from services.activities.settings import ActivitiesSettings
from services.gateway.app import create_app as gateway_app
from services.gateway.settings import GatewaySettings
from services.users.app import create_app as users_app
from services.users.settings import UsersSettings

SAMPLE_ALL = {"version": 2, "rules": [], "default": {"fixed_target": 0, "rate": 1.0}}


@dataclass
class StubEmitter:
    """Keeps each document it is asked to send, as the daemon would receive it."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def send_entity(self, entity: Any) -> None:
        text = entity.serialize()
        self.sizes.append(len(text.encode()))
        self.documents.append(json.loads(text))

    def set_daemon_address(self, address: str | None) -> None:
        pass


@dataclass
class InProcess:
    gateway: httpx.AsyncClient
    apps: dict[str, Any]
    emitters: dict[str, StubEmitter]
    exporters: dict[str, InMemorySpanExporter]

    def documents(self) -> list[dict[str, Any]]:
        return [d for emitter in self.emitters.values() for d in emitter.documents]


def rules_file(tmp: Path, rules: dict[str, Any] = SAMPLE_ALL) -> Path:
    path = tmp / "rules.json"
    path.write_text(json.dumps(rules))
    return path


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

    users_settings = UsersSettings(database_url=f"sqlite:///{tmp}/users.db", **common)
    users = users_app(users_settings, telemetry("users", users_settings))
    activities_settings = ActivitiesSettings(database_url=f"sqlite:///{tmp}/activities.db", **common)
    activities = activities_app(
        activities_settings,
        telemetry("activities", activities_settings),
        users_transport=httpx.ASGITransport(app=users),
    )
    gateway_settings = GatewaySettings(**common)
    gateway = gateway_app(
        gateway_settings,
        telemetry("gateway", gateway_settings),
        users_transport=httpx.ASGITransport(app=users),
        activities_transport=httpx.ASGITransport(app=activities),
    )
    async with AsyncExitStack() as stack:
        for app in (users, activities, gateway):
            await stack.enter_async_context(app.router.lifespan_context(app))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway")
        await stack.enter_async_context(client)
        apps = {"users": users, "activities": activities, "gateway": gateway}
        yield InProcess(client, apps, emitters, exporters)
