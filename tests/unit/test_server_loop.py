"""The services' event loop: slow-callback detection, the no-blocking check, really sees blocking; the heap
settled once a service listens."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
import uvloop

from services.common.server import GC_YOUNG_THRESHOLD, AnnouncingServer, run_loop

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


async def blocks_once() -> None:
    asyncio.get_running_loop().call_soon(time.sleep, 0.06)
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("loop", LOOPS)
def test_slow_callback_is_logged_in_debug_mode(loop: str, caplog: pytest.LogCaptureFixture) -> None:
    """With a 20 ms threshold, a callback that holds the loop 60 ms is logged by the asyncio logger."""
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        run_loop(blocks_once(), LOOPS[loop], 20)
    assert any("Executing" in r.getMessage() and "took" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("loop", LOOPS)
def test_no_debug_mode_without_a_threshold(loop: str, caplog: pytest.LogCaptureFixture) -> None:
    """Without a threshold the loop runs normally and logs nothing about slow callbacks."""
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        run_loop(blocks_once(), LOOPS[loop], None)
    assert not [r for r in caplog.records if "Executing" in r.getMessage()]


def test_started_server_freezes_the_start_up_heap_and_collects_young_objects_less_often() -> None:
    """Once a service listens, what start-up built is frozen; young collections run every 10,000 objects."""
    before = gc.get_threshold()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("no request is sent")

    async def start_and_stop() -> tuple[int, tuple[int, int, int]]:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
        config.load()
        server = AnnouncingServer(config, "serving")
        server.lifespan = config.lifespan_class(config)  # what `serve` sets before its start-up
        await server.startup()
        try:
            return gc.get_freeze_count(), gc.get_threshold()
        finally:
            await server.shutdown()

    try:
        frozen, threshold = asyncio.run(start_and_stop())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert frozen > 1000  # the imported modules and their objects, at least
    assert threshold == (GC_YOUNG_THRESHOLD, before[1], before[2])
