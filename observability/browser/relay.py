"""The OTLP relay: the page's spans, from the gateway's own origin, forwarded with the key added here.

A browser must never hold an ingest key, so a page whose gateway exports straight to a backend
(Honeycomb, say) posts its OTLP/HTTP to `POST /telemetry/v1/traces` instead, and the relay forwards
the body to the gateway's own OTLP endpoint with its headers (`x-honeycomb-team` included). It takes
only same-origin requests, at most `max_bytes` each and `RATE` a second (bursts of `BURST`), and
forwards on an async client opened in the lifespan. `max_bytes` is the app's own body limit
(`MAX_BODY_BYTES`), which refuses a larger body before the relay sees it: one bound, which the page is
told (its exports are split to fit), not two that disagree. Its own failures are logged (at most once a
minute) and answered 502: they never reach the rest of the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger(__name__)

RATE = 10.0
BURST = 20
CONTENT_TYPES = ("application/json", "application/x-protobuf")
WARN_EVERY = 60.0


class TokenBucket:
    """`rate` requests a second on average, `burst` at once; single event loop, so no lock."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class OtlpRelay:
    """Forwards same-origin OTLP/HTTP trace exports to `endpoint` with `headers` (the secret ones).

    Args:
        endpoint: the OTLP/HTTP traces URL the gateway itself exports to.
        headers: the gateway's OTLP headers (the Honeycomb key among them); never sent back.
        timeout: seconds per forward.
        max_bytes: the largest export taken (413 beyond): the app's body limit, `MAX_BODY_BYTES`.
        transport: the client's transport (tests plug a stand-in in).
    """

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str],
        timeout: float,
        *,
        max_bytes: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.headers = dict(headers)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.transport = transport
        self.bucket = TokenBucket(RATE, BURST)
        self._client: httpx.AsyncClient | None = None
        self._warned = float("-inf")

    @asynccontextmanager
    async def open(self) -> AsyncIterator[None]:
        """The forwarding client, for the app's lifetime (no spans: its exports are not traced)."""
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    async def handle(self, request: Request) -> Response:
        """Relay one export, or say why not (403 other origin, 413 too big, 415, 429, 502)."""
        own = f"{request.url.scheme}://{request.url.netloc}"
        if request.headers.get("origin") != own or request.headers.get("sec-fetch-site", "same-origin") != (
            "same-origin"
        ):
            return Response("only this page's own origin may export here", status_code=403)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            return Response("OTLP/HTTP takes application/json or application/x-protobuf", status_code=415)
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            return Response("OTLP/HTTP bodies are plain or gzip", status_code=415)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return Response(f"at most {self.max_bytes} bytes", status_code=413)
        if not self.bucket.take():
            return Response("too many exports", status_code=429, headers={"Retry-After": "1"})
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_bytes:
                return Response(f"at most {self.max_bytes} bytes", status_code=413)
        return await self._forward(bytes(body), content_type, encoding)

    async def _forward(self, body: bytes, content_type: str, encoding: str) -> Response:
        client = self._client
        if client is None:
            return Response(status_code=503)
        headers = {**self.headers, "content-type": content_type}
        if encoding == "gzip":
            headers["content-encoding"] = "gzip"
        try:
            upstream = await client.post(self.endpoint, content=body, headers=headers)
        except Exception as exc:  # the relay's failure is the page's lost spans, nothing more
            self._warn("OTLP relay: forwarding failed (%s)", type(exc).__name__)
            return Response(status_code=502)
        if upstream.is_success:
            return Response(
                upstream.content,
                status_code=upstream.status_code,
                media_type=upstream.headers.get("content-type"),
            )
        self._warn("OTLP relay: the OTLP endpoint answered %d", upstream.status_code)
        return Response(status_code=429 if upstream.status_code == 429 else 502)

    def _warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning(message, *args)
