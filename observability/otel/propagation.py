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

from observability.xray.header import XRayPropagator

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
    version, trace_id, parent_id, flags = match.groups()
    if version == "ff" or int(trace_id, 16) == 0 or int(parent_id, 16) == 0:
        return None
    rest = value[_VERSION_00_LENGTH:]
    if rest and (version == "00" or not rest.startswith("-")):
        return None
    return int(trace_id, 16), int(parent_id, 16), trace.TraceFlags(int(flags, 16))


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

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        ctx = context if context is not None else Context()
        try:
            parents = getter.get(carrier, TRACEPARENT)
            parsed = parse_traceparent(parents[0]) if parents and len(parents) == 1 else None
            if parsed is None:
                return ctx
            members = parse_tracestate(getter.get(carrier, TRACESTATE) or [])
        except Exception:
            log.debug("trace context not extracted", exc_info=True)
            return ctx
        trace_id, span_id, flags = parsed
        state = Level2TraceState(bound_tracestate(members)) if members else None
        span_context = trace.SpanContext(
            trace_id, span_id, is_remote=True, trace_flags=flags, trace_state=state
        )
        return trace.set_span_in_context(trace.NonRecordingSpan(span_context), ctx)

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        span_context = trace.get_current_span(context).get_span_context()
        if not span_context.is_valid:
            return
        setter.set(carrier, TRACEPARENT, format_traceparent(span_context))
        members = bound_tracestate(list(span_context.trace_state.items()))
        if members:
            setter.set(carrier, TRACESTATE, ",".join(f"{key}={value}" for key, value in members))

    @property
    def fields(self) -> set[str]:
        return {TRACEPARENT, TRACESTATE}


def project_propagator(*, read_xray_header: bool) -> CompositePropagator:
    """The project's propagators in order: `X-Amzn-Trace-Id`, W3C trace context, baggage.

    Args:
        read_xray_header: read and write `X-Amzn-Trace-Id` too (X-Ray on); a valid `traceparent` wins.
    """
    first: list[TextMapPropagator] = [XRayPropagator()] if read_xray_header else []
    return CompositePropagator([*first, W3CTraceContextPropagator(), W3CBaggagePropagator()])


def use_project_propagation(*, read_xray_header: bool) -> None:
    """Make `project_propagator` the process's propagator (the OTel instrumentations read the global).

    Process configuration, called once from `telemetry.configure`.

    Args:
        read_xray_header: read and write `X-Amzn-Trace-Id` too (when X-Ray is on).
    """
    set_global_textmap(project_propagator(read_xray_header=read_xray_header))
