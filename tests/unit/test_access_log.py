"""The access line's status says what happened to the request: answered, failed, or given up on."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.types import Receive, Scope, Send

from observability.logs.access import AccessLogMiddleware


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
