"""The innermost transport of every outgoing client: aiohttp's behind the httpx API, or httpx's own.

The project's benchmark (`make bench`, see README "Performance") measured a hop through
`httpx-aiohttp` at about a third of the CPU of httpx's default transport, so `aiohttp` is the
default; `HTTP_CLIENT_TRANSPORT=httpx` switches back. Either way callers see httpx requests,
responses and exceptions only: `httpx-aiohttp` 0.2 lets some aiohttp exceptions through and labels
a refused connection `ConnectTimeout`, so `ExactErrors` puts them back into httpx's own terms, the
ones `services.common.downstream.call` maps to 502 (failure), 503 (no free connection: busy) and 504
(timeout). Around either, `RetryStale` retries an idempotent request once when the server closed a
pooled connection just as it was reused (the keep-alive race: see `HTTP_CLIENT_KEEPALIVE_EXPIRY`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

TransportName = Literal["aiohttp", "httpx"]
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

log = logging.getLogger(__name__)


def real_transport(name: TransportName, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The pooled HTTP/1.1 transport that actually talks to the network.

    Args:
        name: `aiohttp` (the default, cheaper per call) or `httpx` (httpx's own, httpcore).
        limits: connection pool limits.
    """
    if name == "httpx":
        return RetryStale(httpx.AsyncHTTPTransport(limits=limits))
    return RetryStale(ExactErrors(AiohttpTransport(limits=limits, trust_env=False)))


class RetryStale(httpx.AsyncBaseTransport):
    """Retries an idempotent request once when the connection broke before any response came back.

    A server that idles a pooled connection out closes it; a request sent on it at that moment gets
    no answer (`RemoteProtocolError`, or `ReadError` for a reset). Nothing was processed, so an
    idempotent request is safe to send again, on a fresh connection. A POST never is.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if request.method not in IDEMPOTENT:
                raise
            log.info("retrying %s %s once: %s", request.method, request.url.path, type(exc).__name__)
            return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def exact(exc: BaseException, request: httpx.Request, waited: float = 0.0) -> BaseException:
    """The httpx exception `httpx.AsyncHTTPTransport` would have raised for the same failure.

    Args:
        exc: what the aiohttp-backed transport raised.
        request: the request that failed.
        waited: seconds the request had been waiting when it failed.
    """
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    if isinstance(exc, httpx.ConnectTimeout):
        # httpx-aiohttp maps every aiohttp.ClientConnectionError to ConnectTimeout, even a refusal.
        if isinstance(cause, aiohttp.ServerTimeoutError):
            # httpx-aiohttp gives aiohttp's `connect` budget (the wait for a free connection and the
            # connect together) httpx's pool timeout, and `sock_connect` the connect timeout: a failure
            # after the whole pool budget is a wait for a free connection (the connect alone is
            # shorter by default: 2 s against 5 s).
            pool = (request.extensions.get("timeout") or {}).get("pool")
            if pool is not None and waited >= pool * 0.95:
                return httpx.PoolTimeout(f"no free connection within {pool} s", request=request)
            return exc
        if isinstance(cause, aiohttp.ClientConnectorError):
            return httpx.ConnectError(str(cause), request=request)
        return httpx.RemoteProtocolError(str(cause), request=request)
    if isinstance(exc, httpx.HTTPError):
        return exc
    if isinstance(exc, aiohttp.ClientError):
        return httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request)
    return exc


class ExactErrors(httpx.AsyncBaseTransport):
    """Wraps an aiohttp-backed transport so that only httpx exceptions come out, with httpx's meaning."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            mapped = exact(exc, request, time.monotonic() - started)
            if mapped is exc:
                raise
            raise mapped from exc
        response.stream = _ExactStream(response.stream, request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _ExactStream(httpx.AsyncByteStream):
    """The response body, read with the same exception mapping as the response head."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, request: httpx.Request) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self.inner = inner
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except Exception as exc:
            mapped = exact(exc, self.request)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        await self.inner.aclose()
