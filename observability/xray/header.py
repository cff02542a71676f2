"""`X-Amzn-Trace-Id`: parse it strictly, write it from the OTel span, and extract it into OTel.

What happens to each incoming header (when no valid `traceparent` wins over it):

- `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1` (or `0`): trace and parent continued, the
  caller's decision followed.
- `Sampled=?` or no `Sampled`: trace and parent continued, this hop decides by its rules.
- `Root` without `Parent` (as an AWS load balancer adds it): trace id continued, the segment has no
  parent, this hop decides.
- trailing `;`, spaces around parts, unknown keys (`Self=`, `Lineage=`): tolerated.
- bad or all-zero `Root`, bad or all-zero `Parent`, a `Sampled` other than 0/1/?, a repeated key,
  a part without `=`, over 256 characters: the header is ignored and a new trace starts.

The parent of the OTel span continued from a `Root`-only header is a made-up remote span id (OTel
needs one); X-Ray gets no parent for it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)

HEADER = "X-Amzn-Trace-Id"
MAX_LENGTH = 256
_ROOT = re.compile(r"^1-([0-9a-f]{8})-([0-9a-f]{24})$")
_PARENT = re.compile(r"^[0-9a-f]{16}$")
# The form every hop of this project (and the X-Ray SDKs) writes: one match instead of a parse.
_CANONICAL = re.compile(r"Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01?])")
_INCOMING = otel_context.create_key("xray-incoming-header")


@dataclass(frozen=True)
class TraceHeader:
    """A parsed header: ints as OTel holds them; `parent` None when absent, `sampled` None to decide."""

    trace_id: int
    parent: int | None
    sampled: bool | None


def xray_trace_id(trace_id: int) -> str:
    """The X-Ray form (`1-<8 hex>-<24 hex>`) of a 128-bit OTel trace id."""
    hex_id = f"{trace_id:032x}"
    return f"1-{hex_id[:8]}-{hex_id[8:]}"


def format_header(trace_id: int, parent: int, sampled: bool) -> str:
    """The header a hop sends: `Root`, `Parent` (the caller's subsegment) and `Sampled`."""
    return f"Root={xray_trace_id(trace_id)};Parent={parent:016x};Sampled={int(sampled)}"


def parse_header(value: str | None) -> TraceHeader | None:
    """The header's trace, or None when it is malformed (see the module docstring)."""
    if not value or len(value) > MAX_LENGTH:
        return None
    canonical = _CANONICAL.fullmatch(value)
    if canonical is not None:
        root_id, parent_id = int(canonical[1] + canonical[2], 16), int(canonical[3], 16)
        decision = canonical[4]
        if not root_id or not parent_id:
            return None
        return TraceHeader(root_id, parent_id, None if decision == "?" else decision == "1")
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, item = part.strip().partition("=")
        if not key:
            continue
        if not sep or key in fields:
            return None
        fields[key] = item.strip()
    root = _ROOT.match(fields.get("Root", "").lower())
    parent_text = fields.get("Parent")
    sampled_text = fields.get("Sampled", "?")
    if root is None or sampled_text not in ("0", "1", "?"):
        return None
    trace_id = int(root.group(1) + root.group(2), 16)
    parent = None
    if parent_text is not None:
        if not _PARENT.match(parent_text.lower()) or int(parent_text, 16) == 0:
            return None
        parent = int(parent_text, 16)
    if trace_id == 0:
        return None
    return TraceHeader(trace_id, parent, None if sampled_text == "?" else sampled_text == "1")


def incoming_header(ctx: Context | None = None) -> TraceHeader | None:
    """The X-Ray header this request arrived with, if it was valid (a header remembered as it came is
    parsed here, when asked)."""
    value = otel_context.get_value(_INCOMING, ctx)
    if isinstance(value, str):
        return parse_header(value)
    return value if isinstance(value, TraceHeader) else None


def remote_span_context(header: TraceHeader) -> trace.SpanContext:
    """The remote parent a valid header names (a made-up parent id when it has none: OTel needs one)."""
    flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if header.sampled else trace.TraceFlags.DEFAULT)
    parent = header.parent if header.parent is not None else random.getrandbits(64) or 1
    return trace.SpanContext(header.trace_id, parent, is_remote=True, trace_flags=flags)


def with_incoming(header: TraceHeader | str, ctx: Context) -> Context:
    """`ctx` remembering the request's header, parsed, or as it came to be parsed only if asked (see
    `incoming_header`: a request whose `traceparent` won rarely needs it)."""
    return otel_context.set_value(_INCOMING, header, ctx)


class XRayPropagator(TextMapPropagator):
    """Reads `X-Amzn-Trace-Id` into the OTel context, and writes it on every outgoing call.

    It is the header's only writer: on a call, the current span is the client span, so `Parent` is
    the id X-Ray knows that call by (the subsegment's, on the SDK path), and an unsampled trace still
    forwards its real trace id with `Sampled=0` (and, making no client span, a new `Parent` id). Put
    it before `tracecontext` in a composite, so a valid `traceparent` wins when both are present.
    """

    def read(self, carrier: CarrierT, getter: Getter[CarrierT] = default_getter) -> TraceHeader | None:
        """The carrier's header, parsed; None when it is absent or malformed."""
        return parse_header(self.raw(carrier, getter))

    @staticmethod
    def raw(carrier: CarrierT, getter: Getter[CarrierT] = default_getter) -> str | None:
        """The carrier's header as it came (its first value); None when it is absent."""
        try:
            values = getter.get(carrier, HEADER) or getter.get(carrier, HEADER.lower()) or []
            return values[0] if values else None
        except Exception:
            return None

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        ctx = context if context is not None else Context()
        header = self.read(carrier, getter)
        if header is None:
            return ctx
        span = trace.NonRecordingSpan(remote_span_context(header))
        return trace.set_span_in_context(span, with_incoming(header, ctx))

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        self.write(carrier, trace.get_current_span(context).get_span_context(), setter)

    @staticmethod
    def write(carrier: CarrierT, span_context: trace.SpanContext, setter: Setter[CarrierT]) -> None:
        """Write the header naming `span_context` (nothing for an invalid one)."""
        if span_context.is_valid:
            value = format_header(
                span_context.trace_id, span_context.span_id, span_context.trace_flags.sampled
            )
            setter.set(carrier, HEADER, value)

    @property
    def fields(self) -> set[str]:
        return {HEADER}
