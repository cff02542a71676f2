"""How a service answers a status, timeout or drop fault: the answer, the hang, the closed connection."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from observability.faults.grammar import Fault
from observability.faults.record import InjectedFault, fired
from observability.rollbar.middleware import handle_error
from observability.rollbar.reporter import ErrorReporter


async def status(
    fault: Fault, service: str, reporter: ErrorReporter | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer the fault's status with a JSON body that says injected; a 5xx is reported once."""
    assert fault.status is not None
    fired(fault, service)
    if fault.status >= 500:
        try:
            raise InjectedFault(fault, service)  # raised, so the Rollbar item has its frames
        except InjectedFault as error:
            handle_error(reporter, error, scope)
    body = {
        "detail": f"injected fault: status {fault.status} in {service}",
        "service": service,
        "injected": True,
    }
    await JSONResponse(body, status_code=fault.status)(scope, receive, send)


async def hang(
    fault: Fault, service: str, seconds: float, scope: Scope, receive: Receive, send: Send
) -> None:
    """Wait until the caller gives up (its timeout closes the connection), or `seconds` then answer 504."""
    fired(fault, service, seconds=seconds)
    if await caller_left_within(receive, seconds):
        return  # the caller's timeout fired first, as intended: nobody is left to answer
    body = {"detail": f"injected fault: timeout in {service}", "service": service, "injected": True}
    await JSONResponse(body, status_code=504)(scope, receive, send)


async def drop(fault: Fault, service: str, send: Send) -> None:
    """Send the headers, then fail: the server can only close the connection (no answer, no 500).

    The error travels out through error reporting (one Rollbar item, marked injected) to the server.
    """
    fired(fault, service)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    raise InjectedFault(fault, service)


async def caller_left_within(receive: Receive, seconds: float) -> bool:
    """Wait up to `seconds` for the caller to disconnect; whether it did."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return True
    except TimeoutError:
        return False
