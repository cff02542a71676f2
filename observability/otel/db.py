"""Database spans around each statement the driver runs: statement text only, never the parameters.

The contrib SQLAlchemy instrumentor is process-global (one instrumentation per process, whatever the
engine) and declines SQLAlchemy 2.1; wrapping each engine's own statement calls keeps the provider
explicit. The span is made where the engine hands a statement to the driver (its dialect's
`do_execute`, `do_executemany` and `do_execute_no_params`), not from engine events: an engine with any
event listener runs SQLAlchemy's event dispatch on every statement, sampled or not, which cost
30-40 us a statement on this machine against the span itself (docs/performance.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.engine import Engine

StatementCall = Callable[..., Any]  # a dialect's do_execute(cursor, statement, ...) and its siblings
_CALLS = ("do_execute", "do_executemany", "do_execute_no_params")


def wrap_statements(engine: Engine, wrap: Callable[[StatementCall], StatementCall]) -> None:
    """Put `wrap(call)` in place of each of the engine's statement calls (a later wrap runs first).

    Args:
        engine: a sync engine (for an `AsyncEngine`, its `sync_engine`); its dialect is its own.
        wrap: makes a call that takes (cursor, statement, ...) and ends by calling the one it wraps.
    """
    dialect = engine.dialect
    for name in _CALLS:
        setattr(dialect, name, wrap(getattr(dialect, name)))


def trace_engine(engine: Engine, tracer_provider: trace.TracerProvider) -> None:
    """Make every statement the engine runs a client span, current while it runs, under a recording span.

    Start-up and seeding run outside any request, and under an unsampled span the statement's span
    would not be recorded either (`observability.otel.sampling.unsampled_span`): no span then.

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

    def traced(call: StatementCall) -> StatementCall:
        def run(cursor: Any, statement: str, *rest: Any, **options: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return call(cursor, statement, *rest, **options)
            name, attributes = describe(statement)
            span = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
            token = context.attach(trace.set_span_in_context(span))
            try:
                return call(cursor, statement, *rest, **options)
            except Exception as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("error.type", type(error).__qualname__)
                raise
            finally:
                context.detach(token)
                span.end()

        return run

    wrap_statements(engine, traced)
