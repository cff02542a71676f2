"""The live span of `observability.otel.tracer`: the SDK's span behaviour at a fraction of its cost.

The SDK span keeps its attributes in a `BoundedAttributes` that validates every value (and takes a
lock) on each write; ours are a plain dict, written directly when the key is a non-empty `str` and
the value a `str`/`bool`/`int`/`float` (a string within the length limit). Anything else (lists,
bytes, None, odd keys, an over-long string) goes through `BoundedAttributes` itself, so it is cleaned
and warned about exactly as the SDK does. `SpanLimits` are honoured (count, with the oldest attribute
dropped first; string length; events, links and their attributes), and the dropped counts reach the
exporters (`dropped_attributes`, and the SDK's containers' own counts). Events and links use the
SDK's own containers (they are rare here).

Writes are not locked: a span is written by one task or thread at a time; `end` is atomic. Once
ended, a span refuses every write (with the SDK's warning), so processors and exporters are handed
the span itself rather than the snapshot the SDK copies. The warnings use the SDK's texts and
loggers, so a log set-up that silences the SDK silences these.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from time import time_ns
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, SpanProcessor
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationInfo, InstrumentationScope
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_ESCAPED,
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    EXCEPTION_TYPE,
)
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor

sdk_log = logging.getLogger("opentelemetry.sdk.trace")  # the SDK's texts, from the SDK's loggers
attributes_log = logging.getLogger("opentelemetry.attributes")
_SCALARS = frozenset({bool, int, float})
_SEQUENCES = frozenset({list, tuple})
_SLOW = object()  # a value only the SDK's container may clean: it warns, stringifies or recurses
_UNSET = Status(StatusCode.UNSET)
_END_LOCK = threading.Lock()  # one for all spans: held for two lines, it never contends for long


class LeanSpan(trace_api.Span, ReadableSpan):
    """A recording span: the `opentelemetry.trace.Span` API, readable while live like the SDK's."""

    def __init__(
        self,
        name: str,
        context: trace_api.SpanContext,
        parent: trace_api.SpanContext | None,
        kind: trace_api.SpanKind,
        resource: Resource,
        scope: InstrumentationScope,
        info: InstrumentationInfo | None,
        limits: SpanLimits,
        processor: SpanProcessor | SynchronousMultiSpanProcessor,
        links: Sequence[trace_api.Link],
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        # ReadableSpan.__init__ is skipped on purpose: these are the fields its properties read.
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._resource = resource
        self._instrumentation_scope = scope
        self._instrumentation_info = info
        self._limits = limits
        self._most = limits.max_span_attributes
        self._longest = limits.max_span_attribute_length
        self._processor = processor
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        self._status = _UNSET
        self._start_time: int | None = None
        self._end_time: int | None = None
        self._attributes: dict[str, types.AnyValue] = {}
        self._dropped = 0
        self._events: Sequence[Event] = ()
        self._links: Sequence[trace_api.Link] = self._new_links(links) if links else ()

    def __repr__(self) -> str:
        return f'{type(self).__name__}(name="{self._name}", context={self._context})'

    def _start(self, start_time: int | None, parent_context: context_api.Context | None) -> None:
        self._start_time = start_time if start_time is not None else time_ns()
        self._processor.on_start(self, parent_context=parent_context)  # type: ignore[arg-type]

    def get_span_context(self) -> trace_api.SpanContext:
        return self._context  # type: ignore[return-value]  # set once in __init__, never None

    @property
    def dropped_attributes(self) -> int:
        return self._dropped

    def is_recording(self) -> bool:
        return self._end_time is None

    def _put(self, key: str, value: types.AnyValue) -> None:
        attributes = self._attributes
        if key in attributes:
            del attributes[key]  # a rewritten key moves last, as in the SDK's container
        elif self._most is not None and len(attributes) >= self._most:
            attributes_log.warning(
                "Attributes dict is full. Dropping the oldest key-value pair from attributes to make "
                "space for the new key-value pair.",
            )
            del attributes[next(iter(attributes))]
            self._dropped += 1
        attributes[key] = value

    def _clean(self, value: Any) -> Any:
        """The value as the SDK's container would store it, when it would warn about nothing; else _SLOW."""
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is str:
            return value if self._longest is None or len(value) <= self._longest else _SLOW
        if kind is list or kind is tuple:
            for item in value:
                if type(item) in _SEQUENCES or self._clean(item) is _SLOW:
                    return _SLOW
            return tuple(value)
        return _SLOW

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end_time is not None:
            sdk_log.warning("Setting attribute on ended span.")
        elif self._most == 0:  # before any check, as the SDK does
            self._dropped += 1
        elif type(key) is str and key and (cleaned := self._clean(value)) is not _SLOW:
            self._put(key, cleaned)
        else:  # cleaned (and warned about) by the SDK's own container
            bounded = BoundedAttributes(None, None, False, self._longest)
            bounded[key] = value
            self._dropped += bounded.dropped
            for each, kept in bounded.items():
                self._put(each, kept)

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self._end_time is not None:
            sdk_log.warning("Setting attribute on ended span.")
        else:
            self._set_items(attributes)

    def _set_items(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self._most == 0:
            self._dropped += len(attributes)
            return
        cleaned: dict[str, types.AnyValue] = {}
        longest = self._longest
        items: Iterable[tuple[Any, Any]] = attributes.items()
        for key, value in items:
            if type(key) is not str or not key:
                break
            kind = type(value)
            if kind not in _SCALARS and (kind is not str or (longest is not None and len(value) > longest)):
                value = self._clean(value)
                if value is _SLOW:
                    break
            cleaned[key] = value
        else:
            if not self._attributes and (self._most is None or len(cleaned) <= self._most):
                self._attributes.update(cleaned)  # a new span's first attributes: nothing to drop
                return
            for key, value in cleaned.items():
                self._put(key, value)
            return
        bounded = BoundedAttributes(None, attributes, False, longest)
        self._dropped += len(attributes) - len(bounded)
        for key, value in bounded.items():
            self._put(key, value)

    def _bounded(self, most: int | None, attributes: types.Attributes) -> BoundedAttributes:
        return BoundedAttributes(most, attributes, True, self._limits.max_attribute_length)

    def add_event(self, name: str, attributes: types.Attributes = None, timestamp: int | None = None) -> None:
        event = Event(name, self._bounded(self._limits.max_event_attributes, attributes), timestamp)
        if self._end_time is not None:
            sdk_log.warning("Tried calling %s on an ended span.", "_add_event")
            return
        if not self._events:
            self._events = BoundedList(self._limits.max_events)
        self._events.append(event)  # type: ignore[attr-defined]

    def _new_links(self, links: Sequence[trace_api.Link]) -> BoundedList[trace_api.Link]:
        kept = [
            trace_api.Link(link.context, self._bounded(self._limits.max_link_attributes, link.attributes))
            for link in links
            if link and _is_valid_link(link.context, link.attributes)
        ]
        return BoundedList.from_seq(self._limits.max_links, kept)

    def add_link(self, context: trace_api.SpanContext, attributes: types.Attributes = None) -> None:
        if not _is_valid_link(context, attributes):
            return
        link = trace_api.Link(context, self._bounded(self._limits.max_link_attributes, attributes))
        if self._end_time is not None:
            sdk_log.warning("Tried calling %s on an ended span.", "_add_link")
            return
        if not self._links:
            self._links = BoundedList(self._limits.max_links)
        self._links.append(link)  # type: ignore[attr-defined]

    def update_name(self, name: str) -> None:
        if self._end_time is not None:
            sdk_log.warning("Tried calling %s on an ended span.", "update_name")
        else:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._end_time is not None:
            sdk_log.warning("Tried calling %s on an ended span.", "set_status")
            return
        # The SDK's rules: OK is final, UNSET is ignored, a description only beside a bare code.
        if self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is StatusCode.UNSET:
                return
            if description is not None:
                sdk_log.warning(
                    "Description %s ignored. Use either `Status` or `(StatusCode, Description)`",
                    description,
                )
            self._status = status
        elif isinstance(status, StatusCode) and status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        module, qualname = type(exception).__module__, type(exception).__qualname__
        event: MutableMapping[str, types.AnyValue] = {
            EXCEPTION_TYPE: f"{module}.{qualname}" if module and module != "builtins" else qualname,
            EXCEPTION_MESSAGE: str(exception),
            EXCEPTION_STACKTRACE: "".join(traceback.format_exception(exception)),
            EXCEPTION_ESCAPED: str(escaped),
        }
        if attributes:
            event.update(attributes)
        self.add_event(name="exception", attributes=event, timestamp=timestamp)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if exc_val is not None and self.is_recording():
            if self._record_exception:
                self.record_exception(exception=exc_val, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc_val).__name__}: {exc_val}"))
        super().__exit__(exc_type, exc_val, exc_tb)

    def end(self, end_time: int | None = None) -> None:
        with _END_LOCK:
            ended = self._end_time is not None
            if not ended:
                self._end_time = end_time if end_time is not None else time_ns()
        if ended:
            sdk_log.warning("Calling end() on an ended span.")
            return
        self._processor.on_end(self)  # read-only from here: every write above refuses an ended span


def _is_valid_link(context: trace_api.SpanContext, attributes: Any) -> bool:
    return bool(context and (context.is_valid or (attributes or context.trace_state)))
