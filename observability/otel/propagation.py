"""W3C Trace Context (Level 2) across every hop: our `traceparent`/`tracestate` propagator and the composite.

Ours because the stock `TraceContextTextMapPropagator` fails four tests of the W3C suite (run by
`tests/e2e/test_w3c_conformance.py`): with two `traceparent` headers the first one wins, a duplicated
`tracestate` key drops the whole tracestate, and Level 2 keys (`tenant@system` shapes the Level 1
grammar refuses, 256-character keys) are dropped. What happens to each incoming request:

`traceparent` (anything wrong: the header is ignored, a new trace starts, `tracestate` is not read)
- exactly one header; two or more start a new trace, whatever they say.
- spaces and tabs around the value are ignored; over 512 characters is ignored.
- version: two lowercase hex digits, not `ff`. Version `00` is exactly 55 characters; a higher
  version is parsed as `00` on its first 55 characters, which may be followed only by `-...`.
- trace id: 32 lowercase hex digits, not all zero; parent id: 16, not all zero; flags: 2 (the
  `sampled` and `random` bits are followed).

`tracestate` (read only with a valid `traceparent`)
- every header, in order, as one list; empty members and spaces/tabs around members are skipped.
- a member is `key=value`; key: `[a-z0-9]` then up to 255 of `a-z 0-9 _ - * / @`; value: up to 256
  printable characters but `,` and `=`, not ending in a space. One bad member drops the whole header.
- more than 32 members drops the whole header; a repeated key keeps its first (leftmost) value.
- what is carried on is at most 512 characters (what W3C asks every hop to carry): members over 128
  characters go first, then members from the end.

Reads no environment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace.span import TraceState

from observability.xray.header import XRayPropagator, parse_header, remote_span_context, with_incoming

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
MAX_TRACEPARENT_LENGTH = 512
MAX_MEMBERS = 32
MAX_TRACESTATE_LENGTH = 512
LARGE_MEMBER = 128
_OWS = " \t"
_VERSION_00_LENGTH = 55
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_KEY = r"[a-z0-9][a-z0-9_\-*/@]{0,255}"
_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(f"({_KEY})=({_VALUE})")

Members = list[tuple[str, str]]


def is_valid_member(key: str, value: str) -> bool:
    """Whether `key=value` is a tracestate member by the Level 2 grammar."""
    return _MEMBER.fullmatch(f"{key}={value}") is not None


class Level2TraceState(TraceState):
    """A `TraceState` that checks keys by the Level 2 grammar (the API's class checks Level 1's).

    Invalid pairs and repeated keys are skipped; more than 32 pairs make it empty, as the API's does.
    """

    def __init__(self, entries: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__()
        if entries is None or len(entries) > MAX_MEMBERS:
            return
        for key, value in entries:
            if is_valid_member(key, value) and key not in self._dict:
                self._dict[key] = value

    def add(self, key: str, value: str) -> Level2TraceState:
        if not is_valid_member(key, value) or key in self._dict or len(self) >= MAX_MEMBERS:
            return self
        return Level2TraceState([(key, value), *self._dict.items()])

    def update(self, key: str, value: str) -> Level2TraceState:
        rest = [(k, v) for k, v in self._dict.items() if k != key]
        if not is_valid_member(key, value) or len(rest) >= MAX_MEMBERS:
            return self
        return Level2TraceState([(key, value), *rest])

    def delete(self, key: str) -> Level2TraceState:
        if key not in self._dict:
            return self
        return Level2TraceState([(k, v) for k, v in self._dict.items() if k != key])


def parse_traceparent(value: str) -> tuple[int, int, trace.TraceFlags] | None:
    """The trace id, parent id and flags of one `traceparent` value, or None when it is invalid."""
    value = value.strip(_OWS)
    if len(value) > MAX_TRACEPARENT_LENGTH:
        return None
    match = _TRACEPARENT.match(value)
    if match is None:
        return None
    version, trace_hex, parent_hex, flags = match.groups()
    trace_id, parent_id = int(trace_hex, 16), int(parent_hex, 16)
    if version == "ff" or not trace_id or not parent_id:
        return None
    if len(value) > _VERSION_00_LENGTH and (version == "00" or value[_VERSION_00_LENGTH] != "-"):
        return None
    return trace_id, parent_id, trace.TraceFlags(int(flags, 16))


def parse_tracestate(values: Sequence[str]) -> Members | None:
    """The members of every `tracestate` header, in order, or None when the whole is to be dropped."""
    raw = [member.strip(_OWS) for value in values for member in value.split(",")]
    raw = [member for member in raw if member]
    if len(raw) > MAX_MEMBERS:
        return None
    members: dict[str, str] = {}
    for member in raw:
        match = _MEMBER.fullmatch(member)
        if match is None:
            return None
        members.setdefault(match.group(1), match.group(2))
    return list(members.items())


def _length(members: Members) -> int:
    return sum(len(key) + 1 + len(value) for key, value in members) + max(len(members) - 1, 0)


def bound_tracestate(members: Members) -> Members:
    """`members` cut to 512 characters: members over 128 characters first, then from the end."""
    kept = list(members)
    while _length(kept) > MAX_TRACESTATE_LENGTH:
        large = [i for i, (key, value) in enumerate(kept) if len(key) + 1 + len(value) > LARGE_MEMBER]
        kept.pop(large[-1] if large else -1)
    return kept


def format_traceparent(span_context: trace.SpanContext) -> str:
    """The version `00` `traceparent` naming `span_context` as the parent."""
    flags = int(span_context.trace_flags) & 0xFF
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}"


class W3CTraceContextPropagator(TextMapPropagator):
    """Reads and writes `traceparent` and `tracestate` by the rules in this module's docstring."""

    def remote_parent(
        self, carrier: CarrierT, getter: Getter[CarrierT] = default_getter
    ) -> trace.SpanContext | None:
        """The caller's span the carrier names, or None when its `traceparent` is missing or invalid."""
        try:
            parents = getter.get(carrier, TRACEPARENT)
            parsed = parse_traceparent(parents[0]) if parents and len(parents) == 1 else None
            if parsed is None:
                return None
            states = getter.get(carrier, TRACESTATE)
            members = parse_tracestate(states) if states else None
        except Exception:
            log.debug("trace context not extracted", exc_info=True)
            return None
        trace_id, span_id, flags = parsed
        state = Level2TraceState(bound_tracestate(members)) if members else None
        return trace.SpanContext(trace_id, span_id, is_remote=True, trace_flags=flags, trace_state=state)

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        ctx = context if context is not None else Context()
        parent = self.remote_parent(carrier, getter)
        return ctx if parent is None else trace.set_span_in_context(trace.NonRecordingSpan(parent), ctx)

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        self.write(carrier, trace.get_current_span(context).get_span_context(), setter)

    @staticmethod
    def write(carrier: CarrierT, span_context: trace.SpanContext, setter: Setter[CarrierT]) -> None:
        """Write `traceparent` (and `tracestate`, when there is one) naming `span_context` as the parent."""
        if not span_context.is_valid:
            return
        setter.set(carrier, TRACEPARENT, format_traceparent(span_context))
        members = bound_tracestate(list(span_context.trace_state.items())) if span_context.trace_state else []
        if members:
            setter.set(carrier, TRACESTATE, ",".join(f"{key}={value}" for key, value in members))

    @property
    def fields(self) -> set[str]:
        return {TRACEPARENT, TRACESTATE}


class ProjectPropagator(CompositePropagator):
    """`X-Amzn-Trace-Id` (when asked), W3C trace context, then baggage: what `CompositePropagator` of
    the three does, in one pass.

    Every request is extracted and every call injected, sampled or not, so the pass is written out: the
    remote parent is the `traceparent`'s when it is valid, else the X-Ray header's, and only that one
    is built; the X-Ray header is remembered for the sampler (`incoming_header`), parsed only when it
    is the parent or when asked; an outgoing call reads the current span once for both headers.
    `tests/unit/test_propagation.py` checks that it reads and writes what the plain composite of the
    three does.

    Args:
        read_xray_header: read and write `X-Amzn-Trace-Id` too (X-Ray on).
    """

    def __init__(self, *, read_xray_header: bool) -> None:
        self._xray = XRayPropagator() if read_xray_header else None
        self._w3c = W3CTraceContextPropagator()
        self._baggage = W3CBaggagePropagator()
        super().__init__([p for p in (self._xray, self._w3c, self._baggage) if p is not None])

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        ctx = context if context is not None else Context()
        parent = self._w3c.remote_parent(carrier, getter)
        if self._xray is not None:
            raw = self._xray.raw(carrier, getter)
            if raw is not None and parent is not None:
                # The `traceparent` won: the header is parsed only if the sampler asks (`Sampled=?`).
                ctx = with_incoming(raw, ctx)
            elif raw is not None and (header := parse_header(raw)) is not None:
                ctx = with_incoming(header, ctx)
                parent = remote_span_context(header)
        if parent is not None:
            ctx = trace.set_span_in_context(trace.NonRecordingSpan(parent), ctx)
        return self._baggage.extract(carrier, ctx, getter)

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        span_context = trace.get_current_span(context).get_span_context()
        if self._xray is not None:
            self._xray.write(carrier, span_context, setter)
        self._w3c.write(carrier, span_context, setter)
        self._baggage.inject(carrier, context, setter)


def project_propagator(*, read_xray_header: bool) -> ProjectPropagator:
    """The project's propagators in order: `X-Amzn-Trace-Id`, W3C trace context, baggage.

    Args:
        read_xray_header: read and write `X-Amzn-Trace-Id` too (X-Ray on); a valid `traceparent` wins.
    """
    return ProjectPropagator(read_xray_header=read_xray_header)


def use_project_propagation(*, read_xray_header: bool) -> None:
    """Make `project_propagator` the process's propagator (the OTel instrumentations read the global).

    Process configuration, called once from `telemetry.configure`.

    Args:
        read_xray_header: read and write `X-Amzn-Trace-Id` too (when X-Ray is on).
    """
    set_global_textmap(project_propagator(read_xray_header=read_xray_header))
