"""uvicorn's HTTP/1.1 protocols with the two limits they lack: header size, and time to send the headers.

uvicorn has neither a header-size limit under httptools (its default parser: 20 connections sending
a never-ending 20 MB header took the gateway from 145 to 605 MB) nor a deadline for a request's
headers under either parser (200 slow-header clients stayed open, unanswered). These subclasses add
both: a request whose headers pass `SERVER_MAX_HEADER_BYTES` gets `431` and the connection closed;
one whose headers are not complete within `SERVER_HEADER_TIMEOUT` seconds of its first byte (or of
the connection opening) gets `408` and the connection closed. The body is `MAX_BODY_BYTES`' business.
Behind a proxy (ALB, nginx) the proxy enforces its own limits first; these keep a directly exposed
service, and the internal hops, bounded.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_CLOSE = b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large" + _CLOSE
TOO_SLOW = b"HTTP/1.1 408 Request Timeout" + _CLOSE


class HeaderGuard:
    """Counts a request's header bytes and times them; refuses the connection past either limit.

    Args:
        transport: the connection.
        loop: the event loop (for the deadline).
        max_bytes: header bytes allowed per request.
        timeout: seconds allowed for a request's headers.
    """

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, max_bytes: int, timeout: float
    ) -> None:
        self.transport, self.loop = transport, loop
        self.max_bytes, self.timeout = max_bytes, timeout
        self.received = 0
        self.deadline: asyncio.TimerHandle | None = loop.call_later(timeout, self._refuse, TOO_SLOW)

    def after_data(self, size: int, awaiting_headers: bool) -> None:
        """Account for `size` bytes just parsed; `awaiting_headers` if the headers are still incomplete."""
        if not awaiting_headers:
            self.received = 0
            self.stop()
            return
        self.received += size
        if self.deadline is None:
            self.deadline = self.loop.call_later(self.timeout, self._refuse, TOO_SLOW)
        if self.received > self.max_bytes:
            self._refuse(TOO_LARGE)

    def stop(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _refuse(self, answer: bytes) -> None:
        self.stop()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()


class GuardedH11Protocol(H11Protocol):
    """h11 with the header deadline (h11 bounds the header size itself: `h11_max_incomplete_event_size`)."""

    max_header_bytes = 16_384
    header_timeout = 10.0
    guard: HeaderGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard = HeaderGuard(transport, self.loop, self.max_header_bytes, self.header_timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.guard.after_data(len(data), self.conn.their_state is h11.IDLE)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.stop()
        super().connection_lost(exc)


def guarded_protocol(
    parser: Literal["auto", "httptools", "h11"], max_header_bytes: int, header_timeout: float
) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's `http=`: the chosen parser with both header limits.

    Args:
        parser: `SERVER_HTTP` (`auto` is httptools when installed, as in uvicorn).
        max_header_bytes: `SERVER_MAX_HEADER_BYTES`.
        header_timeout: `SERVER_HEADER_TIMEOUT`.
    """
    limits = {"max_header_bytes": max_header_bytes, "header_timeout": header_timeout}
    if parser != "h11":
        try:
            from services.common.protocol_httptools import GuardedHttpToolsProtocol
        except ImportError:
            if parser == "httptools":
                raise
        else:
            return type("GuardedHttpTools", (GuardedHttpToolsProtocol,), limits)
    return type("GuardedH11", (GuardedH11Protocol,), limits)
