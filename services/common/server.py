"""The process entry point every service shares: settings, telemetry, then uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from observability import Telemetry, configure, configure_logging
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
    telemetry = configure(settings, service_name=service_name)
    try:
        app = create_app(settings, telemetry)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            loop=settings.server_loop,
            http=settings.server_http,
            log_config=None,  # uvicorn's dictConfig would close every handler already built (CloudWatch's)
        )
        server = uvicorn.Server(config)
        log.info(
            "serving on %s:%d (loop %s, http %s, client transport %s)",
            settings.host,
            settings.port,
            settings.server_loop,
            settings.server_http,
            settings.http_client_transport,
        )
        run_loop(server.serve(), config.get_loop_factory(), settings.asyncio_slow_callback_ms)
    finally:
        telemetry.shutdown()


def run_loop(
    main: Coroutine[Any, Any, None],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
    slow_callback_ms: float | None,
) -> None:
    """Run `main` to completion; with `slow_callback_ms`, in asyncio debug mode logging slow callbacks.

    Args:
        main: the server's coroutine.
        loop_factory: makes the event loop (uvloop or asyncio's own).
        slow_callback_ms: log ("Executing ... took N seconds", logger `asyncio`) every callback that
            holds the loop longer than this; None runs without debug mode.
    """
    debug = slow_callback_ms is not None

    async def watched() -> None:
        if slow_callback_ms is not None:
            asyncio.get_running_loop().slow_callback_duration = slow_callback_ms / 1000
            log.info("asyncio debug on: logging callbacks slower than %s ms", slow_callback_ms)
        await main

    with asyncio.Runner(debug=debug, loop_factory=loop_factory) as runner:
        runner.run(watched())
