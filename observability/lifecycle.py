"""Bounded flush and shutdown: telemetry never holds a request, nor a process that is stopping.

The OTLP exporter retries a backend that is down for up to its own timeout per batch, and the SDK's
flush and shutdown wait for that whatever timeout they are given: unbounded, a stop outlives a
container's grace period. So each step runs in a daemon thread that is waited for a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

log = logging.getLogger(__name__)

A = TypeVar("A")
Lifespan = Callable[[A], AbstractAsyncContextManager[None]]


def bounded(step: Callable[[], object], timeout: float, what: str) -> None:
    """Run `step` in a daemon thread and stop waiting after `timeout` seconds; never raises.

    What is still unsent when the wait ends is lost.

    Args:
        step: the flush or shutdown.
        timeout: seconds to wait for it.
        what: its name in the log lines.
    """

    def run() -> None:
        try:
            step()
        except Exception:
            log.warning("telemetry %s failed", what, exc_info=True)

    worker = threading.Thread(target=run, name=f"telemetry-{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        log.warning("telemetry %s: gave up after %.0fs; unsent spans are dropped", what, timeout)


def flushing(flush: Callable[[], None], lifespan: Lifespan[A]) -> Lifespan[A]:
    """`lifespan`, then `flush` (off the event loop) before the process ends."""

    @asynccontextmanager
    async def run(app: A) -> AsyncIterator[None]:
        try:
            async with lifespan(app):
                yield
        finally:
            await asyncio.to_thread(flush)

    return run
