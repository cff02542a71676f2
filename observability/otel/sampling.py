"""One signature for the project's samplers, written once; and the one question every child span asks.

`Sampler.should_sample` takes seven arguments. Each sampler here (the edge's, the X-Ray rules', the one
that decides when an `X-Amzn-Trace-Id` asks) reads a few of them and hands the span on to another
sampler: `DecidingSampler` gathers them into one `Candidate`, so each writes only its decision.

Every sampler the project builds gives a span its parent's decision (`parentbased_*`, the X-Ray rules'
`ParentBased`) or decides by the trace id alone (`always_*`, `traceidratio`), so under an unsampled
span no child is ever recorded: `unsampled_span` lets the client, database and service spans skip
making one (the trace headers then carry the current span), which unsampled requests paid for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes


class Candidate(NamedTuple):
    """A span to decide on: the arguments of one `Sampler.should_sample` call."""

    parent_context: Context | None
    trace_id: int
    name: str
    kind: SpanKind | None
    attributes: Attributes
    links: Sequence[Link] | None
    trace_state: TraceState | None

    def decided_by(self, sampler: Sampler, parent_context: Context | None) -> SamplingResult:
        """`sampler`'s decision on this span under `parent_context` (no trace state of ours passed on).

        Args:
            sampler: the sampler that decides.
            parent_context: the context it decides in (`Context()`: as a root).
        """
        return sampler.should_sample(
            parent_context, self.trace_id, self.name, self.kind, self.attributes, self.links
        )


class DecidingSampler(Sampler, ABC):
    """A sampler whose decision is `decide(candidate)`."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        return self.decide(Candidate(parent_context, trace_id, name, kind, attributes, links, trace_state))

    @abstractmethod
    def decide(self, candidate: Candidate) -> SamplingResult:
        """The decision on `candidate`."""


def unsampled_span() -> trace.Span | None:
    """The current span when it belongs to a trace this process does not record (valid, not recording)."""
    span = trace.get_current_span()
    return span if not span.is_recording() and span.get_span_context().is_valid else None
