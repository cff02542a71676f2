"""X-Amzn-Trace-Id: strict parsing, and extraction into OTel that a valid traceparent overrides."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from observability.otel.propagation import project_propagator
from observability.xray.header import (
    TraceHeader,
    XRayPropagator,
    format_header,
    incoming_header,
    parse_header,
    xray_trace_id,
)

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
TRACE = 0x5759E988BD862E3FE1BE46A994272793
PARENT = "53995c3f42cd8ad8"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Root={ROOT};Parent={PARENT};Sampled=1", TraceHeader(TRACE, int(PARENT, 16), True)),
        (f"Root={ROOT};Parent={PARENT};Sampled=0", TraceHeader(TRACE, int(PARENT, 16), False)),
        (f"Root={ROOT};Parent={PARENT};Sampled=?", TraceHeader(TRACE, int(PARENT, 16), None)),
        (f"Root={ROOT};Parent={PARENT}", TraceHeader(TRACE, int(PARENT, 16), None)),
        (f"Root={ROOT}", TraceHeader(TRACE, None, None)),
        (f"Root={ROOT};Parent={PARENT};Sampled=1;", TraceHeader(TRACE, int(PARENT, 16), True)),
        (f"Self=1-67891234-12456789abcdef012345678;Root={ROOT}", TraceHeader(TRACE, None, None)),
        (f"Parent={PARENT};Sampled=0;Root={ROOT}", TraceHeader(TRACE, int(PARENT, 16), False)),
        (f"Root={ROOT.upper()};Parent={PARENT.upper()};Sampled=1", TraceHeader(TRACE, int(PARENT, 16), True)),
        (f"Root={ROOT}; Parent={PARENT}; Sampled=1", TraceHeader(TRACE, int(PARENT, 16), True)),
    ],
)
def test_valid_headers_are_read(header: str, expected: TraceHeader) -> None:
    """Valid headers, including a load balancer's Root-only one, a trailing ';', another order, upper-case
    hex and spaces, are read as such (the usual form is matched at once, the others parsed)."""
    assert parse_header(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "Root=1-zzzz;Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1",
        f"Root={ROOT};Parent=0000000000000000;Sampled=1",
        f"Root={ROOT};Parent=xyz;Sampled=1",
        f"Root={ROOT};Parent={PARENT};Sampled=yes",
        f"Root={ROOT};Root={ROOT}",
        f"Root={ROOT};Parent",
        f"Root={ROOT};Parent={PARENT};Sampled=1;Lineage=" + "a" * 300,
    ],
)
def test_malformed_headers_are_ignored(header: str) -> None:
    """A malformed header (bad or zero Root/Parent, bad Sampled, duplicate key, oversized) reads as none."""
    assert parse_header(header) is None


def test_format_is_root_parent_sampled() -> None:
    """The header a hop sends names the trace in X-Ray form, the subsegment as parent, and the decision."""
    assert xray_trace_id(TRACE) == ROOT
    assert format_header(TRACE, int(PARENT, 16), False) == f"Root={ROOT};Parent={PARENT};Sampled=0"


PROPAGATOR = project_propagator(read_xray_header=True)


def test_xray_header_alone_continues_the_trace_in_otel() -> None:
    """A request with only X-Amzn-Trace-Id becomes an OTel context of that trace, parent and decision."""
    ctx = PROPAGATOR.extract({"x-amzn-trace-id": f"Root={ROOT};Parent={PARENT};Sampled=1"})
    span_context = trace.get_current_span(ctx).get_span_context()
    assert (span_context.trace_id, span_context.span_id) == (TRACE, int(PARENT, 16))
    assert span_context.trace_flags.sampled and span_context.is_remote
    assert incoming_header(ctx) == TraceHeader(TRACE, int(PARENT, 16), True)


def test_traceparent_wins_over_xray_header() -> None:
    """When both headers arrive, a valid traceparent decides the OTel parent."""
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    ctx = PROPAGATOR.extract(
        {"traceparent": traceparent, "x-amzn-trace-id": f"Root={ROOT};Parent={PARENT};Sampled=0"}
    )
    span_context = trace.get_current_span(ctx).get_span_context()
    assert (span_context.trace_id, span_context.span_id) == (int("ab" * 16, 16), int("cd" * 8, 16))


def test_injection_names_the_current_span_as_parent() -> None:
    """On a call, the header carries the trace in X-Ray form, the current (client) span and the decision."""
    span_context = trace.SpanContext(TRACE, int(PARENT, 16), is_remote=False, trace_flags=trace.TraceFlags(0))
    carrier: dict[str, str] = {"X-Amzn-Trace-Id": "Root=forged"}
    XRayPropagator().inject(carrier, trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
    assert carrier["X-Amzn-Trace-Id"] == f"Root={ROOT};Parent={PARENT};Sampled=0"
    assert XRayPropagator().fields == {"X-Amzn-Trace-Id"}


def test_injection_outside_any_trace_writes_nothing() -> None:
    """With no valid span there is no trace to name, so no header is written."""
    carrier: dict[str, str] = {}
    XRayPropagator().inject(carrier, trace.set_span_in_context(trace.INVALID_SPAN))
    assert carrier == {}
