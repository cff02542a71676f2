"""Logs as data: one JSON object per line on stdout, each stamped with the request's trace.

`configure_logging` runs once per process (from `services.common.server`); CloudWatch shipping is a
second handler opened in each app's lifespan (`observability.logs.cloudwatch`). Every line carries
`trace_id` and `span_id` (OTel), `xray_trace_id` (the `1-xxxxxxxx-...` form CloudWatch correlates
with X-Ray), the user (`enduser.id` baggage) and the route of the request being served.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import threading
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import baggage, trace
from starlette.types import Scope

from observability.otel.server import ENDUSER_ID
from observability.redact import scrub_text
from observability.xray.header import xray_trace_id

# The ASGI scope of the request being served, set by the access log middleware: the route is only
# known once routing ran, so the formatter reads it lazily from the scope.
current_scope: ContextVar[Scope | None] = ContextVar("cruddur_current_scope", default=None)

_CACHED = "_cruddur_json"
# Set on a record whose message is built from scrubbed parts only (the access line): not scrubbed again.
SCRUBBED = "_cruddur_scrubbed"
# Set on an exception once the error middleware has logged and reported it.
REPORTED = "__cruddur_reported__"
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def trace_fields() -> dict[str, str]:
    """`trace_id`, `span_id` and `xray_trace_id` of the current span (empty outside any trace)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "xray_trace_id": xray_trace_id(context.trace_id),
    }


def current_trace_id() -> str | None:
    """The W3C trace id of the request being served (None outside a trace, or with tracing off)."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def current_user() -> str | None:
    """The authenticated user of the request being served (`enduser.id` baggage), if any."""
    user = baggage.get_baggage(ENDUSER_ID)
    return user if isinstance(user, str) and user else None


def route_of(scope: Scope | None) -> str | None:
    """The route template that matched (`/users/{handle}`), once routing ran."""
    route = scope.get("route") if scope is not None else None
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record; fields passed with `extra=` are kept; secrets scrubbed."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        cached = getattr(record, _CACHED, None)  # stdout and CloudWatch format each record once
        if isinstance(cached, str):
            return cached
        try:
            line = json.dumps(self._fields(record), default=str, ensure_ascii=False)
        except Exception as exc:  # a log line must never raise into the code that logs
            line = json.dumps({"level": "ERROR", "logger": __name__, "message": f"unformattable: {exc!r}"})
        setattr(record, _CACHED, line)
        return line

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage()
            if getattr(record, SCRUBBED, False)
            else scrub_text(record.getMessage()),
            **trace_fields(),
        }
        user = current_user()
        if user:
            fields["user"] = user
        route = route_of(current_scope.get())
        if route:
            fields["route"] = route
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                fields[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            fields["exception"] = {
                "type": type(error).__qualname__,
                "message": scrub_text(str(error)),
                "stacktrace": scrub_text("".join(traceback.format_exception(error))),
            }
        return fields


class TextFormatter(JsonFormatter):
    """One readable line per record for a terminal: time, level, logger, message, then the trace and the
    fields passed with `extra=`; the same fields and the same scrubbing as the JSON lines."""

    _SHOWN = ("timestamp", "level", "service", "logger", "message", "exception")

    def format(self, record: logging.LogRecord) -> str:
        try:
            fields = self._fields(record)
        except Exception as exc:  # a log line must never raise into the code that logs
            return f"unformattable log record: {exc!r}"
        time = str(fields["timestamp"])[11:23]
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if k not in self._SHOWN and k != "span_id")
        line = f"{time} {fields['level']:<7} {fields['logger']}: {fields['message']}"
        if extra:
            line += f"  [{extra}]"
        exception = fields.get("exception")
        if isinstance(exception, dict):
            line += "\n" + str(exception["stacktrace"]).rstrip()
        return line


class PacedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Lines written through a buffer: one at WARNING or above flushes it at once (with every line
    before it, in order), the others reach the stream within `interval` seconds, and `flush_stdout`
    (at the end of every app's lifespan) and `close` (`logging.shutdown`) write out what is left.

    A `write` per line lets go of the GIL each time, so every thread waiting for it (export,
    CloudWatch, database workers) runs before the serving thread goes on: buffered, a request costs
    60-100 us less over the chain (docs/performance.md, item 20). What a crash, not a shutdown,
    loses is at most the last `interval` seconds of INFO lines.

    Args:
        stream: a buffered text stream of its own (not one that writes through, as `sys.stdout` does
            under `PYTHONUNBUFFERED=1`).
        interval: seconds a line waits at most.
    """

    def __init__(self, stream: io.TextIOBase, interval: float) -> None:
        super().__init__(stream)
        self.interval = interval
        self._stopping = threading.Event()
        self._timer = threading.Thread(target=self._run, name="log-flush", daemon=True)
        self._timer.start()

    def flush(self) -> None:
        """Nothing: `emit` calls it after every line. Lines go out from `emit` (WARNING and above),
        the timer, `flush_now` and `close`."""

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if record.levelno >= logging.WARNING:
            self.flush_now()

    def flush_now(self) -> None:
        """Write out every buffered line now."""
        self.acquire()  # the lock `emit` writes under
        try:
            with contextlib.suppress(Exception):  # a closed or broken stdout must not break the caller
                self.stream.flush()
        finally:
            self.release()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.flush_now()

    def close(self) -> None:
        self._stopping.set()
        self.flush_now()
        super().close()


def flush_stdout() -> None:
    """Write out what a paced stdout handler holds. uvicorn ends a process it stopped on SIGTERM by that
    signal once the app has shut down, so `logging.shutdown` never runs: every app's lifespan calls
    this last."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PacedStreamHandler):
            handler.flush_now()


def stdout_buffered() -> io.TextIOWrapper:
    """stdout's file as a buffered UTF-8 text stream of its own (`sys.stdout` itself is left as is)."""
    raw = io.FileIO(sys.stdout.fileno(), "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8", errors="backslashreplace")


class _DropUvicornDuplicate(logging.Filter):
    """uvicorn re-logs an unhandled error outside the trace; drop it when the error middleware logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and getattr(error, REPORTED, False))


def configure_logging(
    service: str, level: str = "INFO", log_format: str = "auto", flush_interval: float = 0.0
) -> None:
    """Route every logger of the process to stdout; calling it again replaces the handler.

    Args:
        service: the `service` field of every line.
        level: the root level (`LOG_LEVEL`).
        log_format: `json` (one object a line), `text` (for a terminal), or `auto`: text when stdout
            is a terminal, JSON otherwise (`LOG_FORMAT`).
        flush_interval: JSON lines only: above 0, they are written through a buffer and reach stdout
            within this many seconds, WARNING and above at once (`LOG_FLUSH_INTERVAL`,
            `PacedStreamHandler`); 0 writes each line at once.
    """
    text = log_format == "text" or (log_format == "auto" and sys.stdout.isatty())
    handler: logging.StreamHandler = (  # type: ignore[type-arg]
        PacedStreamHandler(stdout_buffered(), flush_interval)
        if flush_interval > 0 and not text
        else logging.StreamHandler(sys.stdout)
    )
    handler.setFormatter(TextFormatter(service) if text else JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, PacedStreamHandler):
            old.close()  # its buffered lines, then its timer
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # watchtower reports delivery failures as warnings: keep them as JSON
    for noisy in ("httpx", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropUvicornDuplicate) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_DropUvicornDuplicate())
