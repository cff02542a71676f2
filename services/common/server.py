"""The process entry point every service shares: settings, telemetry, then uvicorn."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from observability import Telemetry, configure, configure_logging
from services.common.protocol import guarded_protocol
from services.common.settings import ServiceSettings

log = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)

# Python's collector runs a young collection every 700 new container objects (its default). A sampled
# request's spans stay alive until their batch is exported, so with tracing on that was a young
# collection every ~25 requests and, every few thousand, a full one walking every object the
# process holds (modules, schemas, routes): 40-120 us of CPU a request in one service, against
# almost none with tracing off (docs/performance.md). Collections stay bounded: one per this many.
GC_YOUNG_THRESHOLD = 10_000


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
    configure_logging(
        settings.otel_service_name or service_name,
        settings.log_level,
        settings.log_format,
        settings.log_flush_interval,
    )
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
            http=guarded_protocol(
                settings.server_http, settings.server_max_header_bytes, settings.server_header_timeout
            ),
            h11_max_incomplete_event_size=settings.server_max_header_bytes,
            timeout_keep_alive=settings.server_keepalive_timeout,
            log_config=None,  # uvicorn's dictConfig would close every handler already built (CloudWatch's)
        )
        server = AnnouncingServer(
            config,
            f"serving on http://{settings.host}:{settings.port} (loop {settings.server_loop}, "
            f"http {settings.server_http}, client transport {settings.http_client_transport})",
        )
        run_loop(server.serve(), config.get_loop_factory(), settings.asyncio_slow_callback_ms)
    finally:
        telemetry.shutdown()


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, logging `announcement` once it listens: never when the bind failed.

    Args:
        config: uvicorn's configuration.
        announcement: the line to log (`serving on http://host:port ...`).
    """

    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            settle_heap()
            log.info("%s", self.announcement)


def settle_heap() -> None:
    """Once started: what exists now is never collected again, and young collections run less often.

    Everything built until the server listens (imports, the app, the lifespan's resources) lives as long
    as the process; `gc.freeze` keeps the collector from walking it on every full collection.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


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
