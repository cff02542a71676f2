"""Reading a trace as data: the service-to-service edges its spans describe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar


class SpanLike(Protocol):
    @property
    def service(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def parent_span_id(self) -> str: ...
    @property
    def trace_id(self) -> str: ...


def edges(spans: Iterable[SpanLike]) -> set[tuple[str, str]]:
    """(caller, callee) for every server span whose parent is a client span of another service."""
    spans = list(spans)
    by_id = {span.span_id: span for span in spans}
    found = set()
    for span in spans:
        parent = by_id.get(span.parent_span_id)
        if span.kind == "SERVER" and parent is not None and parent.kind == "CLIENT":
            found.add((parent.service, span.service))
    return found


Span = TypeVar("Span", bound=SpanLike)


def roots(spans: Iterable[Span]) -> list[Span]:
    """Spans whose parent is not among them (one, for a complete trace that started here)."""
    listed = list(spans)
    ids = {span.span_id for span in listed}
    return [span for span in listed if span.parent_span_id not in ids]


def from_sdk(span: object) -> SpanRecord:
    """An SDK `ReadableSpan` as the same record the OTLP receiver produces."""
    from opentelemetry.sdk.trace import ReadableSpan

    assert isinstance(span, ReadableSpan) and span.context is not None
    return SpanRecord(
        service=str(span.resource.attributes.get("service.name", "")),
        name=span.name,
        kind=span.kind.name,
        trace_id=f"{span.context.trace_id:032x}",
        span_id=f"{span.context.span_id:016x}",
        parent_span_id=f"{span.parent.span_id:016x}" if span.parent else "",
        attributes=dict(span.attributes or {}),
    )


@dataclass(frozen=True)
class SpanRecord:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, object]
