"""Both client transports, against real loopback sockets: the same status for the same failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Telemetry
from observability.otel.transports import TransportName, real_transport
from services.common.downstream import DownstreamError, call
from tests.e2e.harness import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Serve = Callable[[Handler], Awaitable[str]]
TRANSPORTS: list[TransportName] = ["aiohttp", "httpx"]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def replying(raw: bytes, *, delay: float = 0.0) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(delay)
                writer.write(raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []
    handlers: set[asyncio.Task[None]] = set()

    async def start(handler: Handler) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await handler(reader, writer)
            finally:
                writer.close()  # also when cancelled at teardown: no unclosed transport left to GC

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    for server in servers:
        await server.wait_closed()


async def fail(url: str, transport: TransportName, seconds: float = 0.3) -> DownstreamError:
    untraced = Telemetry(service_name="gateway")
    async with untraced.http_client(url, timeout=httpx.Timeout(seconds), transport=transport) as http:
        with pytest.raises(DownstreamError) as caught:
            await call(http, "users", "GET", "/users/worf")
    return caught.value


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_refused_connection_is_a_502(transport: TransportName) -> None:
    """Nothing listening is a failure (502) named ConnectError, never a timeout."""
    error = await fail(f"http://127.0.0.1:{free_port()}", transport)
    assert (error.http_status, error.timeout, error.reason) == (502, False, "ConnectError")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_error_is_a_502(serve: Serve, transport: TransportName) -> None:
    """A 500 from downstream is a 502 that carries the downstream status."""
    body = b'{"detail": "boom"}'
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    error = await fail(await serve(replying(head + body)), transport)
    assert (error.http_status, error.status, error.reason) == (502, 500, "boom")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "raw",
    [
        b"HELLO WORLD\r\n\r\n",  # not HTTP at all
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",  # body cut short
        b"",  # closed without a response
    ],
    ids=["garbage", "truncated", "closed"],
)
async def test_malformed_response_is_a_502(serve: Serve, transport: TransportName, raw: bytes) -> None:
    """A response that is not valid HTTP is a failure (502), never a timeout or an escaped exception."""

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        writer.close()

    error = await fail(await serve(once), transport)
    assert (error.http_status, error.timeout) == (502, False)
    assert error.reason in ("RemoteProtocolError", "ReadError")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_read_timeout_is_a_504(serve: Serve, transport: TransportName) -> None:
    """A downstream that accepts but does not answer in time is a timeout (504)."""
    error = await fail(await serve(replying(OK, delay=5)), transport, seconds=0.2)
    assert (error.http_status, error.timeout) == (504, True)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_exhausted_pool_is_a_502(serve: Serve, transport: TransportName) -> None:
    """No free connection in time is our side's failure (502), not the downstream's timeout."""
    url = await serve(replying(OK, delay=5))
    limits = httpx.Limits(max_connections=1)
    timeout = httpx.Timeout(5.0, pool=0.2)
    async with httpx.AsyncClient(
        base_url=url, timeout=timeout, transport=real_transport(transport, limits)
    ) as http:
        hanging = asyncio.create_task(call(http, "users", "GET", "/users/worf"))
        await asyncio.sleep(0.05)
        with pytest.raises(DownstreamError) as caught:
            await call(http, "users", "GET", "/users/garek")
        hanging.cancel()
        await asyncio.gather(hanging, return_exceptions=True)
    assert (caught.value.http_status, caught.value.timeout) == (502, False)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_call_is_a_client_span_that_sends_traceparent(
    serve: Serve, transport: TransportName
) -> None:
    """Whatever the transport, a call is one client span whose id travels in traceparent."""
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(OK)
        await writer.drain()
        writer.close()

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = Telemetry(service_name="gateway", tracer_provider=provider)
    async with traced.http_client(await serve(record), transport=transport) as http:
        assert (await call(http, "users", "GET", "/users/worf")).json() == {}
    [span] = exporter.get_finished_spans()
    assert span.kind.name == "CLIENT" and span.attributes is not None
    assert span.attributes.get("http.response.status_code", span.attributes.get("http.status_code")) == 200
    assert span.context is not None
    expected = f"traceparent: 00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"
    assert expected.encode() in seen[0].lower()
