"""The X-Ray handle: one recorder per process, with every id taken from the OTel span it mirrors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Span, SpanContext

from observability.xray.header import incoming_header, xray_trace_id

log = logging.getLogger(__name__)


class XRay:
    """The process's X-Ray recorder, with ids taken from the OTel spans of the same request.

    Args:
        recorder: an `AWSXRayRecorder` configured with a contextvars context and an emitter.
        service_name: the name of every segment this process sends.
        log_group: the CloudWatch Logs group segments point to (`aws.cloudwatch_logs`), if any.
    """

    def __init__(self, recorder: Any, service_name: str, log_group: str | None = None) -> None:
        self.recorder = recorder
        self.service_name = service_name
        self.log_group = log_group

    @contextmanager
    def segment(self, span: Span) -> Iterator[Any | None]:
        """The segment of a sampled server span (None otherwise), sent when the block ends.

        It has the span's trace id and id, and the caller's subsegment as parent. The task's previous
        entities come back afterwards, so an app called in-process (tests) leaves its caller intact.
        """
        previous = self.recorder.context.entities()
        segment = self._begin_segment(span)
        try:
            yield segment
        finally:
            if segment is not None:
                try:
                    self.recorder.end_segment()
                except Exception:
                    log.warning("cannot close an X-Ray segment", exc_info=True)
            self.recorder.context.restore(previous)

    def _begin_segment(self, span: Span) -> Any | None:
        context = span.get_span_context()
        if not context.is_valid or not context.trace_flags.sampled:
            return None
        try:
            segment = self.recorder.begin_segment(
                _safe_name(self.service_name),
                traceid=xray_trace_id(context.trace_id),
                parent_id=_parent_of(span),
                sampling=1,
            )
            segment.id = f"{context.span_id:016x}"
            if self.log_group:
                segment.aws["cloudwatch_logs"] = [{"log_group": self.log_group}]
            return segment
        except Exception:
            log.warning("cannot open an X-Ray segment", exc_info=True)
            return None

    def begin_subsegment(self, name: str, context: SpanContext | None = None) -> Any | None:
        """Open a `remote` subsegment under the current entity; its id is the span's when given."""
        try:
            if self.recorder.context.get_trace_entity() is None:
                return None
            subsegment = self.recorder.begin_subsegment(_safe_name(name), "remote")
            if subsegment is not None and context is not None and context.is_valid:
                subsegment.id = f"{context.span_id:016x}"
            return subsegment
        except Exception:
            log.warning("cannot open an X-Ray subsegment", exc_info=True)
            return None

    def end_subsegment(self, subsegment: Any) -> None:
        """Close a subsegment opened by `begin_subsegment`; streams subsegments past the threshold."""
        try:
            if self.recorder.context.get_trace_entity() is subsegment:
                self.recorder.end_subsegment()
            elif subsegment is not None:
                subsegment.close()
        except Exception:
            log.warning("cannot close an X-Ray subsegment", exc_info=True)

    def record_exception(self, entity: Any, error: BaseException) -> None:
        """Attach an exception (type, message, stack) to a segment or subsegment; marks it a fault."""
        try:
            from aws_xray_sdk.core.utils import stacktrace

            entity.add_fault_flag()
            entity.add_exception(error, stacktrace.get_stacktrace(limit=self.recorder.max_trace_back))
            original = getattr(error, "orig", None)
            exceptions = entity.cause.get("exceptions") if isinstance(entity.cause, dict) else None
            if isinstance(original, BaseException) and exceptions:
                # SQLAlchemy's message ends with the statement's parameters: keep only the driver's.
                exceptions[-1].message = f"{type(original).__name__}: {str(original)[:200]}"
        except Exception:
            log.warning("cannot record an exception on an X-Ray entity", exc_info=True)

    def shutdown(self) -> None:
        """Close the emitter's socket; never raises."""
        close = getattr(self.recorder.emitter, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.warning("X-Ray shutdown failed", exc_info=True)


def _parent_of(span: Span) -> str | None:
    """The caller's X-Ray subsegment: `Parent` of an incoming X-Ray header of this trace, else the
    OTel remote parent (a `traceparent`); a `Root`-only header (a load balancer's) has none."""
    context = span.get_span_context()
    header = incoming_header()
    if header is not None and header.trace_id == context.trace_id:
        return f"{header.parent:016x}" if header.parent is not None else None
    parent = span.parent if isinstance(span, ReadableSpan) else None  # the SDK's span or a LeanSpan
    return f"{parent.span_id:016x}" if parent is not None and parent.is_valid else None


def close_socket(emitter: Any) -> None:
    sock = getattr(emitter, "_socket", None)
    if sock is not None:
        sock.close()


def _safe_name(name: str) -> str:
    kept = "".join(ch for ch in name if ch.isalnum() or ch in " _.:/%&#=+-@")
    return kept[:200] or "remote"
