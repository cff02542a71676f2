"""Bad input is a short, always-serializable 422: strict JSON in, a bounded excerpt of the input out.

FastAPI's default parses `NaN`, `Infinity` and `1e999999` into floats JSON cannot carry, and its 422
echoes the whole rejected input: a 50 MB body came back as a 52 MB answer, and a non-finite number or
a lone surrogate made the answer itself fail (a 500 whose chained error logged the body). Here the
parser refuses non-finite numbers and bodies of more than `MAX_MEMBERS` object members (a 422
`json_invalid`: validating thousands of unknown keys held the loop), and the 422 names at most `MAX_ERRORS`
errors, each with an excerpt of at most `EXCERPT` characters that always encodes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

MAX_ERRORS = 10
EXCERPT = 64
# Object members per body, counted as the `:` in it (those inside strings too: an upper bound, in C).
# Parsing a 64 KiB body takes about 3 ms, but validating its 6,500 unknown keys took 15-50 ms (one
# error each); 1,024 take about 1 ms. A post (280 characters) has far fewer.
MAX_MEMBERS = 1_024


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise json.JSONDecodeError("number out of range", text[:EXCERPT], 0)
    return value


def loads(body: bytes | str) -> Any:
    """JSON as RFC 8259 defines it, bounded: `NaN`, `Infinity`, numbers beyond a float's range and
    more than `MAX_MEMBERS` object members are refused (`json.JSONDecodeError`, a 422 `json_invalid`)."""
    colons = body.count(b":") if isinstance(body, bytes) else body.count(":")
    if colons > MAX_MEMBERS:
        raise json.JSONDecodeError(f"more than {MAX_MEMBERS} object members", "", 0)
    return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)


class StrictJSONRequest(Request):
    """A request whose `json()` is `loads`: what FastAPI parses a JSON body with."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route whose JSON bodies are parsed strictly (`APIRouter(route_class=StrictJSONRoute)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def _text(value: str, limit: int = EXCERPT) -> str:
    # A lone surrogate cannot be encoded as UTF-8: show it escaped instead.
    short = value[:limit] + ("…" if len(value) > limit else "")
    return short.encode("utf-8", "backslashreplace").decode("utf-8")


def excerpt(value: Any) -> Any:
    """A short, JSON-safe stand-in for a rejected input: never the whole of it."""
    if value is None or (isinstance(value, bool | int) and abs(value) < 10**18):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} items"
    return _text(str(value))


def short_errors(errors: Any) -> list[dict[str, Any]]:
    """The first `MAX_ERRORS` validation errors, each `type`, `loc`, `msg` and an `input` excerpt."""
    result = []
    for error in list(errors)[:MAX_ERRORS]:
        entry = {
            "type": str(error.get("type", "")),
            "loc": [part if isinstance(part, int) else _text(str(part)) for part in error.get("loc", ())],
            "msg": _text(str(error.get("msg", "")), 200),
        }
        if "input" in error:
            entry["input"] = excerpt(error["input"])
        result.append(entry)
    return result


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    content: dict[str, Any] = {"detail": short_errors(errors)}
    if len(errors) > MAX_ERRORS:
        content["errors"] = len(errors)
    return JSONResponse(content, status_code=422)


def install_validation_handler(app: FastAPI) -> None:
    """Answer every request validation error with the short, always-serializable 422."""
    app.add_exception_handler(RequestValidationError, _validation_error)
