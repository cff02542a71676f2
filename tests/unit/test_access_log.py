"""The access line's status says what happened to the request (answered, failed, or given up on), and
`ACCESS_LOG` says which requests get one."""

from __future__ import annotations

import asyncio
import logging

import pytest
from fastapi import FastAPI
from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from observability import NATIVE_TELEMETRY_OFF, TelemetrySettings, configure
from observability.logs.access import AccessLogMiddleware
from observability.logs.settings import AccessLog, LogsSettings


async def _run(app: AccessLogMiddleware, expected: type[BaseException] | None) -> None:
    scope: Scope = {"type": "http", "method": "GET", "path": "/x", "query_string": b"", "headers": []}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    if expected is None:
        await app(scope, receive, send)
    else:
        with pytest.raises(expected):
            await app(scope, receive, send)


def _statuses(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [record.__dict__["http_status"] for record in caplog.records if record.name == "cruddur.access"]


@pytest.mark.parametrize(
    ("behaviour", "raised", "status", "level"),
    [
        ("answers", None, 204, logging.INFO),
        ("raises", RuntimeError, 500, logging.ERROR),
        ("is cancelled", asyncio.CancelledError, 499, logging.INFO),
    ],
)
async def test_cancelled_request_is_logged_as_client_closed_not_as_a_server_error(
    caplog: pytest.LogCaptureFixture,
    behaviour: str,
    raised: type[BaseException] | None,
    status: int,
    level: int,
) -> None:
    """A request cancelled before any answer (its caller gave up) is a 499 at INFO; a raise stays a 500."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        if behaviour == "answers":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif raised is not None:
            raise raised()

    caplog.set_level(logging.INFO, logger="cruddur.access")
    await _run(AccessLogMiddleware(inner), raised)
    assert _statuses(caplog) == [status]
    assert [r.levelno for r in caplog.records if r.name == "cruddur.access"] == [level]


async def test_cancelled_after_the_answer_started_keeps_its_status(caplog: pytest.LogCaptureFixture) -> None:
    """A cancellation after the response started keeps the status that was sent."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise asyncio.CancelledError

    caplog.set_level(logging.INFO, logger="cruddur.access")
    await _run(AccessLogMiddleware(inner), asyncio.CancelledError)
    assert _statuses(caplog) == [200]


def _in_trace(sampled: bool) -> Context:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return trace.set_span_in_context(NonRecordingSpan(SpanContext(1, 1, is_remote=False, trace_flags=flags)))


@pytest.mark.parametrize(
    ("mode", "sampled", "logged"),
    [
        ("all", False, [200, 404, 500]),
        ("sampled", True, [200, 404, 500]),
        ("sampled", False, [404, 500]),
        ("failures", True, [404, 500]),
        ("off", True, []),
    ],
)
async def test_access_log_setting_chooses_which_requests_get_a_line(
    caplog: pytest.LogCaptureFixture, mode: AccessLog, sampled: bool, logged: list[int]
) -> None:
    """`ACCESS_LOG`: every request, a sampled trace's and every failure, failures (400 up) only, or none."""
    caplog.set_level(logging.INFO, logger="cruddur.access")
    for status in (200, 404, 500):

        async def inner(scope: Scope, receive: Receive, send: Send, status: int = status) -> None:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        token = context.attach(_in_trace(sampled))
        try:
            await _run(AccessLogMiddleware(inner, mode=mode), None)
        finally:
            context.detach(token)
    assert _statuses(caplog) == logged


def test_access_log_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ACCESS_LOG` reaches the settings and every app's access log; a value outside the four is refused."""
    monkeypatch.setenv("ACCESS_LOG", "failures")
    assert configure(TelemetrySettings(), service_name="users").access_log == "failures"
    monkeypatch.setenv("ACCESS_LOG", "errors")
    with pytest.raises(ValidationError, match="'all', 'sampled', 'failures' or 'off'"):
        LogsSettings()
    telemetry = configure(TelemetrySettings(access_log="off"), service_name="users")
    app = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)
    telemetry.instrument_app(app)
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert app.user_middleware[classes.index(AccessLogMiddleware)].kwargs == {"mode": "off"}
