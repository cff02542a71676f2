"""Database spans: one CLIENT span per statement under a recording span, its text without parameters."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.exc import OperationalError

from observability.otel.db import StatementCall, trace_engine, wrap_statements
from observability.otel.tracer import LeanTracerProvider

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(16)))


def traced_engine() -> tuple[Engine, LeanTracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = LeanTracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    engine = create_engine("sqlite://")
    ROWS.metadata.create_all(engine)  # before tracing, and outside any request: no span either way
    trace_engine(engine, provider)
    return engine, provider, exporter


def test_statement_is_a_client_span_of_the_request_with_its_text_and_no_values() -> None:
    """A query in a request is a CLIENT span, child of the request's, named and described by its text only."""
    engine, provider, exporter = traced_engine()
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /rows") as request, engine.connect() as conn:
        conn.execute(select(ROWS).where(ROWS.c.name == "secret-value")).all()
    (statement, _) = exporter.get_finished_spans()
    assert statement.name == "SELECT" and statement.kind is SpanKind.CLIENT
    assert statement.parent is not None
    assert statement.parent.span_id == request.get_span_context().span_id
    attributes = dict(statement.attributes or {})
    assert attributes["db.system"] == "sqlite" and attributes["db.operation.name"] == "SELECT"
    assert "rows.name = ?" in str(attributes["db.query.text"])
    assert "secret-value" not in str(attributes)


def test_many_rows_in_one_statement_make_one_span() -> None:
    """An insert of several rows (the driver's executemany) is one span, not one a row."""
    engine, provider, exporter = traced_engine()
    with provider.get_tracer("test").start_as_current_span("POST /rows"), engine.begin() as conn:
        conn.execute(insert(ROWS), [{"name": "a"}, {"name": "b"}, {"name": "c"}])
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["INSERT", "POST /rows"]


def test_failed_statement_span_is_an_error_named_by_the_driver_error() -> None:
    """A statement the database refuses ends its span with ERROR and `error.type`; the error still raises."""
    engine, provider, exporter = traced_engine()
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /rows"), engine.connect() as conn, pytest.raises(OperationalError):
        conn.exec_driver_sql("SELECT missing FROM nowhere")
    statement = exporter.get_finished_spans()[0]
    assert statement.status.status_code is StatusCode.ERROR
    assert statement.status.description == "OperationalError"
    assert dict(statement.attributes or {})["error.type"] == "OperationalError"


def test_statement_span_is_current_inside_a_call_wrapped_before_tracing() -> None:
    """A statement call wrapped before tracing (the slow-query fault) runs with the statement span current."""
    exporter = InMemorySpanExporter()
    provider = LeanTracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    engine = create_engine("sqlite://")
    seen: list[trace.Span] = []

    def looking(call: StatementCall) -> StatementCall:
        def run(cursor: Any, statement: str, *rest: Any, **options: Any) -> Any:
            seen.append(trace.get_current_span())
            return call(cursor, statement, *rest, **options)

        return run

    wrap_statements(engine, looking)
    trace_engine(engine, provider)
    with provider.get_tracer("test").start_as_current_span("GET /rows"), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    statement = exporter.get_finished_spans()[0]
    assert [span.get_span_context().span_id for span in seen] == [statement.context.span_id]
