"""The settings every service has: where it listens and where its data lives."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from observability import TelemetrySettings, TransportName, check_url


def check_base_url(value: str) -> str:
    """A downstream base URL: http(s) with a host, no trailing slash."""
    checked = check_url(value)
    if checked is None:
        raise ValueError("must not be empty")
    return checked


Port = Annotated[int, Field(ge=1, le=65535)]


class ServiceSettings(TelemetrySettings):
    """Environment → one settings object; each service subclasses it with its own defaults."""

    host: str = "127.0.0.1"
    port: Port = 8000
    downstream_timeout: float = Field(default=5.0, gt=0, description="seconds, per downstream call")
    # The cheaper choices, measured by `make bench`; the others stay one variable away. `auto` is
    # uvloop and httptools when installed (they are dependencies).
    server_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    server_http: Literal["auto", "httptools", "h11"] = "auto"
    http_client_transport: TransportName = "aiohttp"
    # Set (milliseconds) to run the loop in asyncio debug mode and log every callback that holds the
    # loop longer than that ("Executing <Handle ...> took 0.123 seconds"): the no-blocking check.
    asyncio_slow_callback_ms: float | None = Field(default=None, gt=0)


class StoreSettings(ServiceSettings):
    """A service that owns data: `DATABASE_URL` (SQLite file by default, PostgreSQL works too)."""

    database_url: str = "sqlite+aiosqlite:///./data/service.db"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from services.common.db import normalize_database_url

        return normalize_database_url(value)
