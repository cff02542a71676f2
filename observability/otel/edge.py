"""What the public edge decides itself rather than taking from its caller: sampling, and baggage size.

A client that sends `traceparent ...-01` (or `X-Amzn-Trace-Id ...;Sampled=1`) on every request had
all of them sampled (about 7x the shipped rules' cost), and `-00` hid its requests from tracing. At
the edge the trace id is still continued (a caller can find its request), but the sampling decision
is the edge's own, unless the caller is trusted (`TRUST_INCOMING_SAMPLING=true`, for a gateway
behind a proxy that samples). Internal services trust their caller, the gateway, by default.

Baggage from the client is bounded to W3C's limits (64 members, 8192 bytes) before it is forwarded;
`tracestate` is bounded by the propagator.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from opentelemetry import baggage, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
from opentelemetry.trace import SpanKind

from observability.otel.sampling import Candidate, DecidingSampler

MAX_BAGGAGE_MEMBERS = 64  # W3C Baggage, "Limits"
MAX_BAGGAGE_BYTES = 8192


class EdgeSampler(DecidingSampler):
    """Decides a server span continued from a remote caller as if it were a root; the rest as `inner` does.

    Args:
        inner: the process's sampler (parent-based: the parent decides for every other span).
    """

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def decide(self, candidate: Candidate) -> SamplingResult:
        parent = trace.get_current_span(candidate.parent_context).get_span_context()
        if candidate.kind is SpanKind.SERVER and parent.is_valid and parent.is_remote:
            # No parent: the root sampler decides, by the trace id the caller chose (and its rules).
            own = candidate.decided_by(self.inner, Context())
            return SamplingResult(own.decision, own.attributes, parent.trace_state)
        return self.inner.should_sample(*candidate)

    def follows_sampled_parent(self, kind: SpanKind, parent: trace.SpanContext) -> bool:
        """As `inner` says, but for a server span of a remote caller, which the edge decides itself."""
        follows = getattr(self.inner, "follows_sampled_parent", None)
        remote_server = kind is SpanKind.SERVER and parent.is_remote
        return follows is not None and not remote_server and bool(follows(kind, parent))

    def get_description(self) -> str:
        return f"EdgeSampler{{{self.inner.get_description()}}}"


def without_baggage(ctx: Context, unwanted: Callable[[str], bool]) -> Context:
    """`ctx` without the baggage members whose key is `unwanted` (`ctx` itself when there are none)."""
    for key in [key for key in baggage.get_all(ctx) if unwanted(key)]:
        ctx = baggage.remove_baggage(key, ctx)
    return ctx


def bound_baggage(ctx: Context) -> Context:
    """`ctx` with its baggage cut to W3C's limits, keeping members in order while they fit."""
    entries = baggage.get_all(ctx)
    if not entries:
        return ctx
    kept: list[tuple[str, object]] = []
    size = 0
    for key, value in entries.items():
        member = len(quote(key)) + 1 + len(quote(str(value))) + (1 if kept else 0)
        if len(kept) == MAX_BAGGAGE_MEMBERS or size + member > MAX_BAGGAGE_BYTES:
            break
        kept.append((key, value))
        size += member
    if len(kept) == len(entries):
        return ctx
    bounded = baggage.clear(ctx)
    for key, value in kept:
        bounded = baggage.set_baggage(key, value, bounded)
    return bounded
