"""Segments to the daemon over UDP: never blocks, never raises, never buffers.

The SDK's `UDPEmitter` logs a stack trace for every failed send (one a request while the daemon is
down); this one counts failures and logs the first of every hundred. A document over the UDP
budget is dropped and logged: the recorder streams subsegments well before that.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

HEADER = b'{"format": "json", "version": 1}\n'
MAX_DOCUMENT = 64_000


class DaemonEmitter:
    """Sends each entity as one datagram: the daemon protocol's header line, then the JSON document.

    Args:
        address: the daemon's UDP host and port.
    """

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.failures = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def send_entity(self, entity: Any) -> None:
        try:
            document = entity.serialize().encode("utf-8")
            if len(document) > MAX_DOCUMENT:
                self._failed("document of %d bytes is over the UDP budget: dropped", len(document))
                return
            self._socket.sendto(HEADER + document, self.address)
        except Exception as exc:
            self._failed("cannot send a segment to the X-Ray daemon: %s", type(exc).__name__)

    def set_daemon_address(self, address: str | None) -> None:
        """Kept for the recorder's `configure(daemon_address=...)`; the address is fixed at build."""

    def _failed(self, message: str, *args: Any) -> None:
        if self.failures % 100 == 0:
            log.warning(message + " (%d failures so far)", *args, self.failures + 1)
        self.failures += 1

    def close(self) -> None:
        self._socket.close()
