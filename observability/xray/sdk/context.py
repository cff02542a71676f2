"""An X-Ray context kept in a `contextvars.ContextVar`, so each asyncio task sees its own entities.

The SDK's default context is thread-local (every request on the event loop's thread shares it) and
its `AsyncContext` binds to the loop that exists when it is built (none before uvicorn starts it) and
breaks under uvloop. The stack is an immutable tuple: a task started by `asyncio.gather` copies the
context, so its pushes and pops never show in its siblings or its parent.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from aws_xray_sdk.core.context import Context

log = logging.getLogger(__name__)


class ContextVarContext(Context):  # type: ignore[misc]
    """The recorder's entity stack (segment, then open subsegments), one per asyncio task."""

    def __init__(self) -> None:
        super().__init__(context_missing="IGNORE_ERROR")
        self._entities: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
            f"xray_entities_{id(self)}", default=()
        )

    def put_segment(self, segment: Any) -> None:
        self._entities.set((segment,))

    def end_segment(self, end_time: float | None = None) -> None:
        entities = self._entities.get()
        if entities:
            entities[0].close(end_time)

    def put_subsegment(self, subsegment: Any) -> None:
        entities = self._entities.get()
        if not entities:
            log.debug("no open segment: subsegment %s dropped", subsegment.name)
            return
        entities[-1].add_subsegment(subsegment)
        self._entities.set((*entities, subsegment))

    def end_subsegment(self, end_time: float | None = None) -> bool:
        entities = self._entities.get()
        if len(entities) < 2:
            return False
        entities[-1].close(end_time)
        self._entities.set(entities[:-1])
        return True

    def get_trace_entity(self) -> Any:
        entities = self._entities.get()
        return entities[-1] if entities else None

    def set_trace_entity(self, trace_entity: Any) -> None:
        self._entities.set((trace_entity,))

    def clear_trace_entities(self) -> None:
        self._entities.set(())

    def handle_context_missing(self) -> None:
        return None

    def entities(self) -> tuple[Any, ...]:
        """This task's stack, to hand back to `restore` (an in-process callee must not clobber it)."""
        return self._entities.get()

    def restore(self, entities: tuple[Any, ...]) -> None:
        self._entities.set(entities)
