"""The request body limit: a larger body is a JSON 413, refused before it is read past the limit.

A pure-ASGI middleware, outermost of the app's own (inside the server span, so a 413 is traced; ahead
of the edge's authentication and of any parsing). A declared `Content-Length` over the limit is
refused without reading a byte; a body without one (chunked) is read up to the limit, then refused,
and otherwise replayed to the app. FastAPI's own `max_body_size` is not used: it signals the 413 by
raising through the middleware inside it, which would report it to Rollbar as an unhandled error.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    """Answers 413 to any request whose body is larger than `max_bytes`.

    Args:
        app: the ASGI app inside.
        max_bytes: the largest body accepted (`MAX_BODY_BYTES`).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None:
            # The server never hands the app more than Content-Length bytes: checking it is enough.
            if not length.isdigit() or int(length) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)  # no body at all
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                buffered.append(message)  # the client left: let the app see it
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            buffered.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes"},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
