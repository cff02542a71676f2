"""The innermost transport of every outgoing client: aiohttp's behind the httpx API, or httpx's own.

The project's benchmark (`make bench`, see README "Performance") measured a hop through
`httpx-aiohttp` at about a third of the CPU of httpx's default transport, so `aiohttp` is the
default; `HTTP_CLIENT_TRANSPORT=httpx` switches back. Either way callers see httpx requests,
responses and exceptions only: `httpx-aiohttp` 0.2 lets some aiohttp exceptions through and labels
a refused connection `ConnectTimeout`, so `ExactErrors` puts them back into httpx's own terms, the
ones `services.common.downstream.call` maps to 502 (failure) and 504 (timeout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

TransportName = Literal["aiohttp", "httpx"]


def real_transport(name: TransportName, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The pooled HTTP/1.1 transport that actually talks to the network.

    Args:
        name: `aiohttp` (the default, cheaper per call) or `httpx` (httpx's own, httpcore).
        limits: connection pool limits.
    """
    if name == "httpx":
        return httpx.AsyncHTTPTransport(limits=limits)
    return ExactErrors(AiohttpTransport(limits=limits, trust_env=False))


def exact(exc: BaseException, request: httpx.Request) -> BaseException:
    """The httpx exception `httpx.AsyncHTTPTransport` would have raised for the same failure.

    Args:
        exc: what the aiohttp-backed transport raised.
        request: the request that failed.
    """
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    if isinstance(exc, httpx.ConnectTimeout):
        # httpx-aiohttp maps every aiohttp.ClientConnectionError to ConnectTimeout, even a refusal.
        if isinstance(cause, aiohttp.ServerTimeoutError):
            return exc  # a real connect timeout, or no free connection in the pool in time
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
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            mapped = exact(exc, request)
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
