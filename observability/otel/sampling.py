"""One signature for the project's samplers, written once; and the one question every child span asks.

`Sampler.should_sample` takes seven arguments. Each sampler here (the edge's, the X-Ray rules', the one
that decides when an `X-Amzn-Trace-Id` asks) reads a few of them and hands the span on to another
sampler: `DecidingSampler` gathers them into one `Candidate`, so each writes only its decision. The
exception is `ParentDecides`, which must stay a `ParentBased` and so keeps `should_sample`'s own
signature: every span of a sampled trace asks it, and it answers those without a `Candidate`.

Every sampler the project builds gives a span its parent's decision (`parentbased_*`, the X-Ray rules'
`ParentBased`) or decides by the trace id alone (`always_*`, `traceidratio`), so under an unsampled
span no child is ever recorded: `unsampled_span` lets the client, database and service spans skip
making one (the trace headers then carry the current span), which unsampled requests paid for.

A request from an unsampled caller is the same case one step earlier: `ParentDecides` (the
`ParentBased` the project builds) says before any span is made that the caller's "not sampled"
stands, so the server span skips the sampler, the request attributes and the span, and carries an
`unsampled_child` of the caller's span instead, as the tracer would have made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import NamedTuple

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, ParentBased, Sampler, SamplingResult
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


def span_ids(tracer_provider: trace.TracerProvider) -> IdGenerator:
    """The provider's id generator (the X-Ray one the services use), or a random one for another provider."""
    ids = getattr(tracer_provider, "id_generator", None)
    return ids if isinstance(ids, IdGenerator) else RandomIdGenerator()


def unsampled_child(parent: trace.SpanContext, ids: IdGenerator) -> trace.NonRecordingSpan:
    """What the tracer makes under an unsampled `parent`, without asking the sampler: a non-recording
    span of the same trace, flags and trace state, with a new span id (each hop a parent id of its own).

    Args:
        parent: the unsampled span's context (local or remote).
        ids: the provider's id generator.
    """
    return trace.NonRecordingSpan(
        trace.SpanContext(
            parent.trace_id,
            ids.generate_span_id(),
            is_remote=False,
            trace_flags=parent.trace_flags,
            trace_state=parent.trace_state,
        )
    )


# Whether an unsampled remote parent left the decision to this hop (X-Ray's `Sampled=?`): the
# parent context and the trace id of the span to decide.
LeftOpen = Callable[[Context | None, int], bool]


class _WhenLeftOpen(DecidingSampler):
    """Under an unsampled remote parent: `root` decides when the parent left it open, else dropped."""

    def __init__(self, root: Sampler, left_open: LeftOpen) -> None:
        self.root, self.left_open = root, left_open

    def decide(self, candidate: Candidate) -> SamplingResult:
        if self.left_open(candidate.parent_context, candidate.trace_id):
            return candidate.decided_by(self.root, candidate.parent_context)
        return candidate.decided_by(ALWAYS_OFF, candidate.parent_context)

    def get_description(self) -> str:
        return "WhenLeftOpen"


class ParentDecides(ParentBased):
    """`ParentBased` (root decides at the root, the parent's decision below) that answers a sampled
    parent's child itself, and also says, before a span is made, when a caller's "not sampled" stands
    (`drops_under_remote`).

    Args:
        root: decides for a span without a parent.
        left_open: when an unsampled remote parent left the decision to this hop (None: never).
    """

    def __init__(self, root: Sampler, *, left_open: LeftOpen | None = None) -> None:
        not_sampled = ALWAYS_OFF if left_open is None else _WhenLeftOpen(root, left_open)
        super().__init__(root, remote_parent_not_sampled=not_sampled)
        self._left_open = left_open
        # The samplers `ParentBased` would choose for a root and an unsampled remote parent (it keeps
        # its own private).
        self._at_root, self._under_remote_not_sampled = root, not_sampled

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
        parent = trace.get_current_span(parent_context).get_span_context()
        # `ParentBased`'s choice of sampler, made here without a second look-up of the parent.
        if not parent.is_valid:
            sampler = self._at_root
        elif parent.trace_flags.sampled:
            # Its answer for a sampled parent, local or remote (its `ALWAYS_ON`), without the call:
            # every span of a sampled trace asks.
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent.trace_state)
        else:
            sampler = self._under_remote_not_sampled if parent.is_remote else ALWAYS_OFF
        return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def follows_sampled_parent(self, kind: SpanKind, parent: trace.SpanContext) -> bool:
        """True when a span under `parent` gets, unasked, what `should_sample` would answer: the
        parent's "sampled", its trace state and the span's own attributes (a valid, sampled parent).
        `LeanTracer` then does not call `should_sample`: a subclass that answers otherwise overrides
        both.

        Args:
            kind: the new span's kind (every kind is answered alike here).
            parent: the new span's parent.
        """
        return parent.is_valid and parent.trace_flags.sampled

    def drops_under_remote(self, parent_context: Context) -> bool:
        """True when a span continued from the remote parent in `parent_context` is surely dropped:
        the parent is valid, not sampled, and did not leave the decision to this hop."""
        parent = trace.get_current_span(parent_context).get_span_context()
        if not parent.is_valid or not parent.is_remote or parent.trace_flags.sampled:
            return False
        return self._left_open is None or not self._left_open(parent_context, parent.trace_id)
