"""Unhandled errors to Rollbar: one item per error, stamped with the trace and the user.

A pure-ASGI middleware rather than rollbar's FastAPI integration, which needs `python-multipart`,
must be added before routes, reports `HTTPException` 404s and sends fire-and-forget from the loop.
The middleware wraps FastAPI's exception handlers, which answer a 4xx (`HTTPException`, validation)
or a `DownstreamError` mapped to 502/504 before it, so those never reach it: a failure downstream is
reported once, by the service where it happened. The `rollbar` SDK builds the items (`ErrorReporter`
adds the trace, the user and the route) and `RollbarSender` posts them from its own thread.
"""

from __future__ import annotations

import logging
import traceback

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.faults.record import InjectedFault
from observability.logs.formatter import REPORTED, current_scope
from observability.otel.server_span import ON_SPAN
from observability.redact import scrub_text
from observability.rollbar.reporter import ErrorReporter

log = logging.getLogger("cruddur.errors")

ITEM_UUID = "rollbar.item.uuid"


class ErrorReportingMiddleware:
    """Logs every unhandled exception inside its trace, reports it once, and answers 500 itself.

    Answering here (rather than re-raising to Starlette's outermost `ServerErrorMiddleware`) keeps
    the 500 inside the app's own middleware, so it gets the `traceresponse` header like any answer.
    An error after the response started is re-raised: only the server can end that one.
    """

    def __init__(self, app: ASGIApp, reporter: ErrorReporter | None) -> None:
        self.app = app
        self.reporter = reporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        token = current_scope.set(scope)  # the error's log line carries the route too
        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as error:
            if not getattr(error, REPORTED, False):
                handle_error(self.reporter, error, scope)
            if started:
                raise
            await _INTERNAL_ERROR(scope, receive, send)
        finally:
            current_scope.reset(token)


def handle_error(reporter: ErrorReporter | None, error: Exception, scope: Scope) -> None:
    """Report `error` once (Rollbar item, exception on the span, one log line); never raises.

    Args:
        reporter: builds and sends the item (None: log only).
        error: the unhandled (or injected) error.
        scope: the request it broke.
    """
    item_uuid = None
    try:
        setattr(error, REPORTED, True)
        if reporter is not None:
            item_uuid = reporter.report(error, scope)
        span = trace.get_current_span()
        if span.is_recording():
            span.record_exception(error, attributes={ITEM_UUID: item_uuid or "", **scrubbed(error)})
            setattr(error, ON_SPAN, True)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__qualname__}"))
            if item_uuid:
                span.set_attribute(ITEM_UUID, item_uuid)
    except Exception:  # reporting must never change the response
        log.warning("error reporting failed", exc_info=True)
    if isinstance(error, InjectedFault):
        fault = {"fault_injected": True, "fault_kind": error.fault.kind, "fault_spec": error.fault.spec}
        log.error(
            "injected error: %s", error.fault.spec, exc_info=error, extra={"rollbar_uuid": item_uuid, **fault}
        )
        return
    log.error("unhandled %s", type(error).__qualname__, exc_info=error, extra={"rollbar_uuid": item_uuid})


def scrubbed(error: BaseException) -> dict[str, str]:
    """The exception event's message and stack trace, through the redaction policy."""
    return {
        "exception.message": scrub_text(str(error)),
        "exception.stacktrace": scrub_text("".join(traceback.format_exception(error))),
    }


_INTERNAL_ERROR = JSONResponse({"detail": "Internal Server Error"}, status_code=500)
