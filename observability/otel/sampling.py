"""One signature for the project's samplers, written once.

`Sampler.should_sample` takes seven arguments. Each sampler here (the edge's, the X-Ray rules', the one
that decides when an `X-Amzn-Trace-Id` asks) reads a few of them and hands the span on to another
sampler: `DecidingSampler` gathers them into one `Candidate`, so each writes only its decision.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

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
