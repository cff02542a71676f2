"""The settings every service has: where it listens and where its data lives."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

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
    # 64 KiB is plenty for a 280-character post; a larger body is a 413 before it is read.
    max_body_bytes: int = Field(default=65_536, gt=0, description="bytes, per request body")
    downstream_timeout: float = Field(default=5.0, gt=0, description="seconds, per downstream call")
    # The cheaper choices, measured by `make bench`; the others stay one variable away. `auto` is
    # uvloop and httptools when installed (they are dependencies).
    server_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    server_http: Literal["auto", "httptools", "h11"] = "auto"
    http_client_transport: TransportName = "aiohttp"
    # Keep-alive: the client drops an idle connection before the server would, so no request is sent
    # on a connection the server is closing (that race was up to a third of a burst's POSTs as 502s).
    # Behind a load balancer, SERVER_KEEPALIVE_TIMEOUT must also exceed the balancer's idle timeout.
    server_keepalive_timeout: int = Field(default=5, gt=0, description="seconds an idle connection is kept")
    # A request's headers: at most this many bytes (431 beyond), complete within this many seconds of
    # their first byte (408 beyond). Both parsers; see `services.common.protocol`.
    server_max_header_bytes: int = Field(default=16_384, ge=1_024, description="bytes of request headers")
    server_header_timeout: float = Field(default=10.0, gt=0, description="seconds to send the headers")
    http_client_keepalive_expiry: float = Field(default=2.0, gt=0, description="seconds, below the server's")
    # Set (milliseconds) to run the loop in asyncio debug mode and log every callback that holds the
    # loop longer than that ("Executing <Handle ...> took 0.123 seconds"): the no-blocking check.
    asyncio_slow_callback_ms: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _keepalive_order(self) -> ServiceSettings:
        if self.http_client_keepalive_expiry >= self.server_keepalive_timeout:
            raise ValueError(
                "HTTP_CLIENT_KEEPALIVE_EXPIRY must be shorter than SERVER_KEEPALIVE_TIMEOUT "
                "(the services' keep-alive), or requests race connections being closed"
            )
        return self


class StoreSettings(ServiceSettings):
    """A service that owns data: `DATABASE_URL` (SQLite file by default, PostgreSQL works too)."""

    database_url: str = "sqlite+pysqlite:///./data/service.db"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from services.common.db import normalize_database_url

        return normalize_database_url(value)
