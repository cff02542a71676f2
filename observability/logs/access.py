"""One access line per request, with its status and duration, inside the request's trace.

Every line costs JSON, a write to stdout and, with CloudWatch on, a shipped event (docs/performance.md
has the figures), so `ACCESS_LOG` says which requests get one: `all` (the default), `sampled` (those
whose trace is sampled, the ones a waterfall shows, and every failure), `failures` (answers of 400 and
above, 499 included) or `off`. Errors are logged by the error middleware whatever the choice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.logs.formatter import SCRUBBED, current_scope
from observability.logs.settings import AccessLog
from observability.redact import scrub_path, scrub_query

log = logging.getLogger("cruddur.access")
CLIENT_CLOSED = 499  # nginx's "client closed request": cancelled before any answer was sent


class AccessLogMiddleware:
    """Logs `METHOD path status duration` once per HTTP request (500 when the app raised; 499 when the
    request was cancelled before it was answered, as when a caller gives up on it: not a server error).

    Also makes the request's scope visible to the log formatter, so every line logged while serving
    the request carries its route (with the access line itself `off` too).

    Args:
        app: the app inside.
        skip_paths: paths that never get a line.
        mode: which requests get one (`ACCESS_LOG`, see the module docstring).
    """

    def __init__(
        self, app: ASGIApp, *, skip_paths: tuple[str, ...] = ("/healthz",), mode: AccessLog = "all"
    ) -> None:
        self.app = app
        self.skip_paths = skip_paths
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = current_scope.set(scope)
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_and_record(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = int(message["status"]), True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except asyncio.CancelledError:
            if not answered:
                status = CLIENT_CLOSED
            raise
        except Exception:
            status = 500
            raise
        finally:
            if self._wanted(status) and scope.get("path") not in self.skip_paths:
                self._log(scope, status, time.perf_counter() - started)
            current_scope.reset(token)

    def _wanted(self, status: int) -> bool:
        mode = self.mode
        if mode == "all":
            return True
        if mode == "off":
            return False
        if status >= 400:
            return True
        return mode == "sampled" and trace.get_current_span().get_span_context().trace_flags.sampled

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float) -> None:
        try:
            query = scrub_query(scope.get("query_string", b"").decode("latin-1"))
            path = scrub_path(scope.get("path", "")) + (f"?{query}" if query else "")
            level = logging.ERROR if status >= 500 else logging.INFO
            if not log.isEnabledFor(level):
                return
            # Built by hand: `log.log` would walk the stack for a caller no line shows, on every request.
            record = log.makeRecord(
                log.name,
                level,
                __file__,
                0,
                "%s %s %d %.1fms",
                (scope.get("method", ""), path, status, seconds * 1000),
                None,
                extra={
                    "http_method": scope.get("method", ""),
                    "http_path": path,
                    "http_status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    SCRUBBED: True,  # the path and query are scrubbed above; the rest is ours
                },
            )
            log.handle(record)
        except Exception:  # the access log must never break a request
            logging.getLogger(__name__).debug("access log failed", exc_info=True)
