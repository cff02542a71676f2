"""Database statements as X-Ray subsegments, with an `sql` block: statement text, never parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

from observability.xray.sdk.recorder import XRay

_SUBSEGMENT = "_cruddur_xray_subsegment"


def record_engine(engine: Engine, xray: XRay) -> None:
    """Make every statement the engine runs inside a sampled request a `remote` subsegment.

    Args:
        engine: a sync engine (for an `AsyncEngine`, its `sync_engine`).
        xray: the process's X-Ray handle.
    """
    url = engine.url
    name = f"{url.database.rsplit('/', 1)[-1] if url.database else engine.dialect.name}@{url.host or 'local'}"
    sql = {
        "url": url.set(password=None).render_as_string(hide_password=False)[:250],
        "database_type": engine.dialect.name,
        "driver_version": str(engine.dialect.driver),
    }

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if context is None:
            return
        subsegment = xray.begin_subsegment(name)
        if subsegment is not None:
            subsegment.set_sql({**sql, "sanitized_query": statement})
            setattr(context, _SUBSEGMENT, subsegment)

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        subsegment = getattr(context, _SUBSEGMENT, None)
        if subsegment is not None:
            setattr(context, _SUBSEGMENT, None)
            xray.end_subsegment(subsegment)

    def failed(exception_context: ExceptionContext) -> None:
        subsegment = getattr(exception_context.execution_context, _SUBSEGMENT, None)
        if subsegment is None:
            return
        setattr(exception_context.execution_context, _SUBSEGMENT, None)
        xray.record_exception(subsegment, exception_context.original_exception)
        xray.end_subsegment(subsegment)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)
