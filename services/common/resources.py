"""What a service's lifespan opens: its database and its clients to other services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, Request
from sqlalchemy import Table

from observability import Telemetry
from services.common import db
from services.common.settings import ServiceSettings, StoreSettings


@asynccontextmanager
async def open_database(
    settings: StoreSettings, telemetry: Telemetry, table: Table, seed: db.Seed
) -> AsyncIterator[db.Database]:
    """The service's database, traced, its tables created and seeded; disposed on the way out.

    Args:
        settings: the service's settings (`DATABASE_URL`).
        telemetry: the process's telemetry.
        table: the service's table (its metadata's tables are created).
        seed: the demo rows for an empty table.
    """
    database = db.Database(settings.database_url)
    telemetry.instrument_engine(database.engine)
    try:
        await database.prepare(table, seed)
        yield database
    finally:
        await database.dispose()


def downstream_client(
    settings: ServiceSettings,
    telemetry: Telemetry,
    base_url: str,
    inner: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one client to a downstream service: explicit timeouts, traced, on the configured transport.

    Args:
        settings: the caller's settings (`DOWNSTREAM_TIMEOUT`, `HTTP_CLIENT_TRANSPORT`,
            `HTTP_CLIENT_KEEPALIVE_EXPIRY`).
        telemetry: the process's telemetry.
        base_url: the downstream's base URL.
        inner: the innermost transport (tests route it to an in-process app).
    """
    timeout = httpx.Timeout(settings.downstream_timeout, connect=min(2.0, settings.downstream_timeout))
    return telemetry.http_client(
        base_url,
        timeout=timeout,
        transport=settings.http_client_transport,
        inner=inner,
        keepalive_expiry=settings.http_client_keepalive_expiry,
    )


def from_state(name: str) -> Any:
    """A dependency that hands a route what the lifespan put in `app.state.<name>`.

    It is `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, on
    every request.
    """

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    return Depends(dependency)
