"""The direct OTLP encoder: its bytes decode to exactly what OpenTelemetry's own encoder builds."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.util.types import AnyValue

from observability.otel import encoding
from observability.otel.span import LeanSpan
from observability.otel.tracer import LeanTracerProvider

ATTRIBUTES: dict[str, AnyValue] = {
    "http.method": "GET",
    "http.route": "/users/{handle}",
    "http.status_code": 404,
    "net.peer.port": 0,
    "negative": -5,
    "ratio": 0.25,
    "flag": True,
    "off": False,
    "unicode": "pâté ✓",
    "empty": "",
    "aws.xray.annotations": ["http.route", "enduser.id"],
    "ints": [1, -2, 3],
    "floats": [0.5, 1.5],
    "bools": [True, False],
}


def spans() -> list[ReadableSpan]:
    """Spans of two resources and three scopes with every field OpenTelemetry encodes."""
    memory = InMemorySpanExporter()
    out: list[ReadableSpan] = []
    for service in ("gateway", "users"):
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "aws.log.group.names": ["/cruddur"]})
        )
        provider.add_span_processor(SimpleSpanProcessor(memory))
        plain = provider.get_tracer("plain")
        scoped = provider.get_tracer("scoped", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.26.0")
        remote = SpanContext(
            0x5F3C0A1B2C3D4E5F60718293A4B5C6D7,
            0x1122334455667788,
            is_remote=True,
            trace_flags=TraceFlags(1),
            trace_state=TraceState([("vendor", "value"), ("other@x", "1")]),
        )
        parent = trace.set_span_in_context(trace.NonRecordingSpan(remote))
        with plain.start_as_current_span("GET /users/{handle}", context=parent, kind=SpanKind.SERVER) as root:
            root.set_attributes(ATTRIBUTES)
            root.add_event("exception", {"exception.type": "ValueError", "exception.message": "no"})
            root.add_event("")
            root.set_status(Status(StatusCode.ERROR, "ValueError"))
            with scoped.start_as_current_span(
                "SELECT users.db", kind=SpanKind.CLIENT, links=[Link(remote, {"why": "batch"})]
            ) as child:
                child.set_attribute("db.query.text", "SELECT 1")
            with plain.start_as_current_span("", kind=SpanKind.INTERNAL) as unnamed:
                unnamed.set_status(Status(StatusCode.OK))
        out.extend(memory.get_finished_spans())
        memory.clear()
    return out


def test_bytes_decode_to_what_the_reference_encoder_builds() -> None:
    """Every field of every span, resource and scope decodes equal to `encode_spans`' message."""
    batch = spans()
    for _ in range(2):  # the second time from the caches
        decoded = ExportTraceServiceRequest.FromString(encoding.encode(batch))
        assert decoded == encode_spans(batch)
    assert len(decoded.resource_spans) == 2 and len(decoded.resource_spans[0].scope_spans) == 2


@pytest.mark.parametrize("value", [None, {"nested": {"deep": 1}}, [None, "a"], b"\x00\xff"])
def test_rare_values_decode_like_the_reference(value: object) -> None:
    """Values the SDK rarely lets through (None, maps, bytes) still decode equal to the reference."""
    [span] = [s for s in spans() if s.name == "SELECT users.db"][:1]
    span._attributes = {"rare": value}  # type: ignore[dict-item]
    assert ExportTraceServiceRequest.FromString(encoding.encode([span])) == encode_spans([span])


def test_an_unexpected_span_falls_back_to_the_reference_encoder() -> None:
    """A batch with a value this encoder does not know is encoded by OpenTelemetry's encoder instead."""
    [span] = [s for s in spans() if s.name == "SELECT users.db"][:1]
    span._attributes = {"odd": object(), "kept": "yes"}  # type: ignore[dict-item]
    decoded = ExportTraceServiceRequest.FromString(encoding.encode([span]))
    [sent] = decoded.resource_spans[0].scope_spans[0].spans
    assert sent.name == "SELECT users.db" and [a.key for a in sent.attributes] == ["kept"]


def test_equal_values_of_different_types_are_not_confused_by_the_cache() -> None:
    """`1`, `True` and `1.0` (equal in Python) under one key each decode as their own type."""
    [span] = [s for s in spans() if s.name == "SELECT users.db"][:1]
    for value in (1, True, 1.0, (1,), (True,), ("1",)):
        span._attributes = {"same": value}
        assert ExportTraceServiceRequest.FromString(encoding.encode([span])) == encode_spans([span])


def test_equal_tuples_of_mixed_types_are_not_confused_by_the_cache() -> None:
    """`("a", 1)` and `("a", True)` (equal in Python, both kept by the SDK) each decode as their own types."""
    [span] = [s for s in spans() if s.name == "SELECT users.db"][:1]
    for value in (("a", 1), ("a", True), ("a", 1)):
        span._attributes = {"mixed": value}
        assert ExportTraceServiceRequest.FromString(encoding.encode([span])) == encode_spans([span])


@pytest.mark.parametrize("provider", [TracerProvider, LeanTracerProvider])
def test_a_span_subclass_is_read_through_its_properties(provider: type[TracerProvider]) -> None:
    """A live span (a `ReadableSpan` subclass: the SDK's or a `LeanSpan`) decodes equal to the reference."""
    tracer = provider(span_limits=SpanLimits(max_span_attributes=2)).get_tracer("live")
    span = tracer.start_span("GET /live", kind=SpanKind.SERVER)
    span.set_attributes({"dropped": 1, "kept": "two", "also kept": 3.0})
    span.end()
    assert isinstance(span, ReadableSpan) and type(span) is not ReadableSpan
    decoded = ExportTraceServiceRequest.FromString(encoding.encode([span]))
    assert decoded == encode_spans([span])
    assert decoded.resource_spans[0].scope_spans[0].spans[0].dropped_attributes_count == 1


def test_span_names_from_the_bounded_cache_decode_like_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Span names encoded fresh, from the cache and after the full cache was cleared decode the same."""
    monkeypatch.setattr(encoding, "_NAMES_MAX", 2)
    monkeypatch.setattr(encoding, "_names", {})
    batch = spans()  # three names, one of them empty: more than the cache holds
    for _ in range(3):
        assert ExportTraceServiceRequest.FromString(encoding.encode(batch)) == encode_spans(batch)
        assert len(encoding._names) <= 2


@pytest.mark.parametrize("provider", [TracerProvider, LeanTracerProvider])
def test_exported_spans_never_need_the_reference_encoder(
    provider: type[TracerProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spans a processor is handed are encoded directly: an SDK upgrade that renamed the fields
    read here would fall back to the slow encoder on every batch, and fails this test instead."""
    memory = InMemorySpanExporter()
    tracer_provider = provider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = tracer_provider.get_tracer("exported")
    with tracer.start_as_current_span("GET /users", kind=SpanKind.SERVER, attributes=ATTRIBUTES) as server:
        server.add_event("retry", {"attempt": 2})
        with tracer.start_as_current_span("SELECT users.db", kind=SpanKind.CLIENT) as query:
            query.set_status(Status(StatusCode.ERROR, "OperationalError"))
    batch = list(memory.get_finished_spans())
    assert all(type(span) in (ReadableSpan, LeanSpan) for span in batch)
    expected = encode_spans(batch)

    def refuse(*_: object) -> object:
        raise AssertionError("fell back to the reference encoder, or read a property that copies")

    monkeypatch.setattr(encoding, "encode_spans", refuse)
    for copying in ("attributes", "events", "links"):  # properties that copy the fields they return
        monkeypatch.setattr(ReadableSpan, copying, property(refuse))
    assert ExportTraceServiceRequest.FromString(encoding.encode(batch)) == expected
