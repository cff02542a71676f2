"""The services' event loop: slow-callback detection, the no-blocking check, really sees blocking."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
import uvloop

from services.common.server import run_loop

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
