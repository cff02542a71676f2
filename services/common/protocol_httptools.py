"""uvicorn's httptools protocol with the header limits of `services.common.protocol`.

Its own module because `httptools` is optional: importing it fails where it is not installed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.common.protocol import HeaderGuard


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a header-size limit and a header deadline (see `services.common.protocol`)."""

    max_header_bytes = 16_384
    header_timeout = 10.0
    guard: HeaderGuard
    awaiting_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard = HeaderGuard(transport, self.loop, self.max_header_bytes, self.header_timeout)

    def on_message_begin(self) -> None:
        self.awaiting_headers = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.awaiting_headers = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.guard.after_data(len(data), self.awaiting_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.stop()
        super().connection_lost(exc)
