"""Database spans from SQLAlchemy's engine events: statement text only, never the parameters.

The contrib SQLAlchemy instrumentor is process-global (one instrumentation per process, whatever the
engine) and declines SQLAlchemy 2.1; listening on each engine keeps the provider explicit.
"""

from __future__ import annotations

import functools
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

_SPAN = "_cruddur_span"


def statement_span(context: Any) -> trace.Span | None:
    """The span of the statement an execution context runs, while it runs (None if untraced)."""
    span = getattr(context, _SPAN, None)
    return span if isinstance(span, trace.Span) else None


def trace_engine(engine: Engine, tracer_provider: trace.TracerProvider) -> None:
    """Make every statement the engine runs a client span under the current span, when that one records.

    Args:
        engine: a sync engine (for an `AsyncEngine`, its `sync_engine`).
        tracer_provider: the process's provider.
    """
    tracer = tracer_provider.get_tracer(__name__)
    system = engine.dialect.name
    namespace = engine.url.database or ""

    # A service runs a handful of distinct statements: name and attributes are built once per
    # statement, not once per query (bounded, so an unbounded variety of statements cannot grow it).
    @functools.lru_cache(maxsize=256)
    def describe(statement: str) -> tuple[str, dict[str, str]]:
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "QUERY"
        attributes = {
            "db.system": system,
            "db.system.name": system,
            "db.namespace": namespace,
            "db.operation.name": operation,
            "db.query.text": statement,
        }
        return f"{operation} {namespace.rsplit('/', 1)[-1]}".strip(), attributes

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if context is None or not trace.get_current_span().is_recording():
            # Start-up and seeding run outside any request: no orphan traces for them. Under an
            # unsampled span the statement's span would not be recorded either (`in_unsampled_trace`).
            return
        name, attributes = describe(statement)
        setattr(context, _SPAN, tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes))

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        span = getattr(context, _SPAN, None)
        if span is not None:
            span.end()
            setattr(context, _SPAN, None)

    def failed(exception_context: ExceptionContext) -> None:
        span = getattr(exception_context.execution_context, _SPAN, None)
        if span is None:
            return
        error = exception_context.original_exception
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.set_attribute("error.type", type(error).__qualname__)
        span.end()
        setattr(exception_context.execution_context, _SPAN, None)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)
