"""The process entry point every service shares: settings, telemetry, then uvicorn."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from observability import telemetry as telemetry_mod
from observability.logs import configure_logging
from observability.telemetry import Telemetry
from services.common.settings import ServiceSettings

log = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)


def load_settings(settings_cls: type[S]) -> S:
    """Read the settings or exit with one clear line per bad variable (values are not echoed)."""
    try:
        return settings_cls()
    except ValidationError as exc:
        lines = [f"invalid configuration for {settings_cls.__name__}:"]
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "(settings)"
            lines.append(f"  {name}: {error['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None


def run(settings_cls: type[S], service_name: str, create_app: Callable[[S, Telemetry], FastAPI]) -> None:
    """Start one service: configure the process once, build its app, serve until stopped.

    Args:
        settings_cls: the service's settings class.
        service_name: its default `service.name`.
        create_app: its app factory.
    """
    configure_logging(service_name)  # before the settings: their validators may warn
    settings = load_settings(settings_cls)
    configure_logging(settings.otel_service_name or service_name, settings.log_level)
    telemetry = telemetry_mod.configure(settings, service_name=service_name)
    try:
        app = create_app(settings, telemetry)
        # log_config=None: uvicorn's dictConfig would close every handler already built (CloudWatch's).
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            loop=settings.server_loop,
            log_config=None,
        )
    finally:
        telemetry.shutdown()
