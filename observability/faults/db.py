"""The slow query: a request's first database statement waits inside its own span, without blocking the loop.

The fault middleware leaves the fault pending in a context variable; the engine's statement call
(wrapped before the tracing one, so it runs inside the statement's span, then current) takes it,
marks that span and waits. In a worker thread (SQLite: each unit of work runs in one, off the loop)
it sleeps there; under an async engine the call runs in SQLAlchemy's greenlet, where `await_only`
hands the sleep to the event loop instead of blocking it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from sqlalchemy.engine import Engine
from sqlalchemy.util import await_only

from observability.faults.grammar import Fault
from observability.faults.record import fired
from observability.otel.db import StatementCall, wrap_statements

log = logging.getLogger("cruddur.faults")


@dataclass
class Pending:
    """A slow query still to happen in this request (`fault` is None until one fires, and once taken)."""

    fault: Fault | None
    service: str
    seconds: Callable[[Fault], float]


pending: ContextVar[Pending | None] = ContextVar("cruddur_pending_slow_query", default=None)


def slow_queries(engine: Engine) -> None:
    """Let a pending `slow_query` fault delay the next statement `engine` runs, inside its span.

    Args:
        engine: a sync engine (for an `AsyncEngine`, its `sync_engine`), traced after this.
    """

    def delayed(call: StatementCall) -> StatementCall:
        def run(cursor: Any, statement: str, *rest: Any, **options: Any) -> Any:
            waiting = pending.get()
            if waiting is not None and waiting.fault is not None:
                fault, waiting.fault = waiting.fault, None  # once per request
                _wait(fault, waiting)
            return call(cursor, statement, *rest, **options)

        return run

    wrap_statements(engine, delayed)


def _wait(fault: Fault, waiting: Pending) -> None:
    seconds = waiting.seconds(fault)
    fired(fault, waiting.service, trace.get_current_span(), seconds=seconds)
    if not _on_event_loop():
        time.sleep(seconds)  # a worker thread: the loop serves other requests meanwhile
        return
    try:
        await_only(asyncio.sleep(seconds))
    except Exception:  # a sync engine on the loop's own thread: no way to wait without blocking
        log.warning("slow_query on the event loop's thread needs an async engine: not applied")


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
