"""A tracer provider whose spans cost a fraction of the SDK's, with the SDK's semantics (issue 16).

Eight spans a request made the SDK's own span machinery a large share of what tracing costs:
validating every attribute in a locked `BoundedAttributes`, two `BoundedList`s and a lock per span,
and copying on `end`. `LeanTracerProvider` is a `TracerProvider` (processors, `force_flush`,
`shutdown`, sampler, resource, id generator and `OTEL_SDK_DISABLED` are the SDK's own) whose tracers
start `observability.otel.span.LeanSpan`s instead.

Kept identical to `opentelemetry.sdk.trace.Tracer.start_span`: the parent taken from `context` (or
the current one); the sampler called with the same arguments (but for a span under a sampled parent
when the sampler says, by `follows_sampled_parent`, that it gets the parent's decision and trace
state with its own attributes, as the project's `ParentDecides` and `EdgeSampler` do: that known
answer is taken without the call); the trace id new at a root and the parent's otherwise; the span
id from the id generator; trace flags and trace state from the decision; a `NonRecordingSpan` when
the decision does not record; the sampler's attributes as the span's first ones; `on_start` at start
and a `ReadableSpan` (the ended span itself) to `on_end` at the end; `start_as_current_span` and
`use_span` exception handling (in one class, `CurrentSpan`). Not consulted: the SDK's experimental
tracer configurator and its internal self-metrics (`OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED`), both
private and off by default, and the private `_on_ending` hook. Nothing here reads the environment.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, SynchronousMultiSpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

from observability.otel.span import LeanSpan

_SAMPLED = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)
_DEFAULT = trace_api.TraceFlags(trace_api.TraceFlags.DEFAULT)
# What `Decision.is_sampled()` and `is_recording()` answer, as sets (those two are untyped).
_SAMPLED_DECISIONS = frozenset({Decision.RECORD_AND_SAMPLE})
_RECORDING_DECISIONS = frozenset({Decision.RECORD_ONLY, Decision.RECORD_AND_SAMPLE})
# `start_span`'s arguments, as `start_as_current_span` keeps them for `CurrentSpan`.
_StartArguments = tuple[
    str,
    context_api.Context | None,
    trace_api.SpanKind,
    types.Attributes,
    Sequence[trace_api.Link] | None,
    int | None,
    bool,
    bool,
]
_Function = TypeVar("_Function", bound=Callable[..., Any])


class LeanTracer(trace_api.Tracer):
    """Starts `LeanSpan`s for one instrumentation scope, exactly as the SDK's `Tracer` would."""

    def __init__(
        self,
        sdk: Tracer,
        scope: InstrumentationScope,
        limits: SpanLimits,
        processor: SynchronousMultiSpanProcessor,
    ) -> None:
        self._sdk = sdk  # its `resource` follows the provider's (after a fork too)
        self.sampler = sdk.sampler
        # The sampler's `follows_sampled_parent` (`ParentDecides`, `EdgeSampler`; None for any other).
        self._follows: Callable[[trace_api.SpanKind, trace_api.SpanContext], bool] | None = getattr(
            sdk.sampler, "follows_sampled_parent", None
        )
        self.id_generator = sdk.id_generator
        self.instrumentation_info = sdk.instrumentation_info
        self._scope = scope
        self._limits = limits
        self._processor = processor

    def start_span(
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: trace_api.SpanKind = trace_api.SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        links = links or ()
        parent: trace_api.SpanContext | None = trace_api.get_current_span(context).get_span_context()
        if parent is not None and not isinstance(parent, trace_api.SpanContext):
            raise TypeError("parent_span_context must be a SpanContext or None.")
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = self.id_generator.generate_trace_id()
            random_trace_id = self.id_generator.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random_trace_id = parent.trace_flags.random_trace_id
        if parent is not None and self._follows is not None and self._follows(kind, parent):
            # What the sampler would answer (a sampled parent's child), without the call.
            sampled = recording = True
            trace_state: trace_api.TraceState | None = parent.trace_state
            chosen: types.Attributes = attributes
        else:
            sampling = self.sampler.should_sample(context, trace_id, name, kind, attributes, links)
            sampled, recording = (
                sampling.decision in _SAMPLED_DECISIONS,
                sampling.decision in _RECORDING_DECISIONS,
            )
            trace_state, chosen = sampling.trace_state, sampling.attributes
        flags = _SAMPLED if sampled else _DEFAULT
        if random_trace_id:
            flags = trace_api.TraceFlags(flags | trace_api.TraceFlags.RANDOM_TRACE_ID)
        span_context = trace_api.SpanContext(
            trace_id,
            self.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=flags,
            trace_state=trace_state,
        )
        if not recording:
            return trace_api.NonRecordingSpan(context=span_context)
        span = LeanSpan(
            name,
            span_context,
            parent,
            kind,
            self._sdk.resource,
            self._scope,
            self.instrumentation_info,
            self._limits,
            self._processor,
            links,
            record_exception,
            set_status_on_exception,
        )
        if chosen:
            span._set_items(chosen)
        span._start(start_time, context)
        return span

    # The API types the result as its private generator-based context manager; this one is used alike.
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: trace_api.SpanKind = trace_api.SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> CurrentSpan:
        return CurrentSpan(
            self,
            (name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception),
            end_on_exit,
        )


class CurrentSpan:
    """What `start_as_current_span` returns: the SDK's context manager (and decorator), as a class.

    The SDK's is two generator-based context managers, one inside the other (`start_as_current_span`
    around `use_span`): about 1.3 us a span more than this one (client spans and a service's own spans
    use it). The behaviour is `use_span`'s: the span is current inside the block; an `Exception` leaving
    it is recorded (`record_exception`) and sets an ERROR status (`set_status_on_exception`), a
    `BaseException` that is not one is neither; the span ends on exit (`end_on_exit`). As a decorator,
    each call of the function (of a coroutine function: until its coroutine finishes) runs in a span
    of its own.
    """

    __slots__ = ("_arguments", "_end_on_exit", "_span", "_token", "_tracer")

    def __init__(self, tracer: LeanTracer, arguments: _StartArguments, end_on_exit: bool) -> None:
        self._tracer, self._arguments, self._end_on_exit = tracer, arguments, end_on_exit

    def __enter__(self) -> trace_api.Span:
        span = self._span = self._tracer.start_span(*self._arguments)
        self._token = context_api.attach(trace_api.set_span_in_context(span))
        return span

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        span = self._span
        try:
            context_api.detach(self._token)
            if isinstance(error, Exception) and span.is_recording():
                if self._arguments[6]:  # record_exception
                    span.record_exception(error)
                if self._arguments[7]:  # set_status_on_exception
                    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        finally:
            if self._end_on_exit:
                span.end()

    def __call__(self, function: _Function) -> _Function:
        def fresh() -> CurrentSpan:  # a context manager is used once: each call gets its own
            return CurrentSpan(self._tracer, self._arguments, self._end_on_exit)

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def in_span_async(*args: Any, **kwargs: Any) -> Any:
                with fresh():
                    return await function(*args, **kwargs)

            return in_span_async  # type: ignore[return-value]

        @functools.wraps(function)
        def in_span(*args: Any, **kwargs: Any) -> Any:
            with fresh():
                return function(*args, **kwargs)

        return in_span  # type: ignore[return-value]


class LeanTracerProvider(TracerProvider):
    """The SDK's `TracerProvider`, whose `get_tracer` returns a `LeanTracer`.

    Args:
        sampler, resource, shutdown_on_exit, active_span_processor, id_generator, span_limits,
        meter_provider: as for `opentelemetry.sdk.trace.TracerProvider`.
    """

    def __init__(
        self,
        sampler: Sampler | None = None,
        resource: Resource | None = None,
        shutdown_on_exit: bool = True,
        active_span_processor: SynchronousMultiSpanProcessor | None = None,
        id_generator: IdGenerator | None = None,
        span_limits: SpanLimits | None = None,
        *,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._lean_processor = active_span_processor or SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        self._lean_limits = span_limits or SpanLimits()  # read once a provider, from the environment
        super().__init__(
            sampler=sampler,
            resource=resource,
            shutdown_on_exit=shutdown_on_exit,
            active_span_processor=self._lean_processor,
            id_generator=id_generator,
            span_limits=self._lean_limits,
            meter_provider=meter_provider,
        )
        self._lean_tracers: dict[InstrumentationScope, LeanTracer] = {}
        self._lean_lock = threading.Lock()

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> trace_api.Tracer:
        # The SDK's answer first: its no-op tracer when disabled, its name and version defaults.
        name, version = instrumenting_module_name, instrumenting_library_version
        sdk = super().get_tracer(name, version, schema_url, attributes)
        if not isinstance(sdk, Tracer):
            return sdk
        scope = InstrumentationScope(name or "", version or "", schema_url, attributes)
        with self._lean_lock:
            tracer = self._lean_tracers.get(scope)
            if tracer is None:
                tracer = self._lean_tracers[scope] = LeanTracer(
                    sdk, scope, self._lean_limits, self._lean_processor
                )
        return tracer
