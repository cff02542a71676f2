"""Header limits of the server protocols, over real loopback sockets: size (431) and deadline (408)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from services.common.protocol import guarded_protocol

Open = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
PARSERS = ["httptools", "h11"]


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=PARSERS)
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Open]:
    protocol = guarded_protocol(request.param, max_header_bytes=4_096, header_timeout=0.5)
    config = uvicorn.Config(
        echo_length,
        host="127.0.0.1",
        port=0,
        http=protocol,
        h11_max_incomplete_event_size=4_096,
        lifespan="off",
        log_level="critical",
        log_config=None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # at most 5 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    writers: list[asyncio.StreamWriter] = []

    async def open_connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        return reader, writer

    yield open_connection
    for writer in writers:
        writer.close()
    server.should_exit = True
    await asyncio.wait_for(task, 5)


async def answer(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(1_000), 3)


async def test_ordinary_requests_and_bodies_pass(connect: Open) -> None:
    """A request with a 60 KB body sent in one write, and a second one on the same connection, are served."""
    reader, writer = await connect()
    body = b"x" * 60_000
    writer.write(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert (await answer(reader)).startswith(b"HTTP/1.1 200")
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert (await answer(reader)).startswith(b"HTTP/1.1 200")


async def test_oversized_headers_are_refused(connect: Open) -> None:
    """Headers past the limit, sent in pieces that never end, get a 4xx and the connection closed."""
    reader, writer = await connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ")
    for _ in range(20):
        writer.write(b"y" * 1_000)
        await writer.drain()
    reply = await answer(reader)
    assert reply.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400"))
    assert await asyncio.wait_for(reader.read(), 3) == b""


async def test_slow_headers_are_cut_off(connect: Open) -> None:
    """A client that starts its headers and never finishes them is answered 408 and closed."""
    reader, writer = await connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n")
    assert (await answer(reader)).startswith(b"HTTP/1.1 408")


async def test_a_silent_connection_is_closed(connect: Open) -> None:
    """A connection that never sends a byte does not stay open past the header deadline."""
    reader, _ = await connect()
    assert (await answer(reader)).startswith(b"HTTP/1.1 408")
