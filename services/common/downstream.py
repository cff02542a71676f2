"""Calls to another service: every failure becomes a typed error that names the service."""

from __future__ import annotations

import functools
import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from observability import current_trace_id

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1


class DownstreamError(Exception):
    """A downstream service failed (502), did not answer in time (504), or had no free connection (503)."""

    def __init__(
        self,
        service: str,
        *,
        status: int | None = None,
        timeout: bool = False,
        reason: str = "",
        busy: bool = False,
    ):
        self.service = service
        self.status = status
        self.timeout = timeout
        self.reason = reason
        self.busy = busy
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        if self.busy:
            return 503
        return 504 if self.timeout else 502

    @property
    def message(self) -> str:
        because = f" ({self.reason})" if self.reason else ""
        if self.busy:
            return f"{self.service} is busy: no free connection in time, retry shortly"
        if self.timeout:
            return f"{self.service} did not answer in time{because}"
        if self.status is not None:
            return f"{self.service} failed with status {self.status}{because}"
        return f"{self.service} is unavailable{because}"


class NotFoundError(Exception):
    """The downstream service answered 404: the thing asked for does not exist."""

    def __init__(self, service: str, detail: str):
        self.service = service
        self.detail = detail
        super().__init__(detail)


async def call(http: httpx.AsyncClient, service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request; return a 2xx response or raise `NotFoundError` / `DownstreamError`.

    Args:
        http: the client for that service.
        service: its name, as it appears in errors.
        method: the HTTP method.
        url: a path relative to the client's base URL.
        **kwargs: passed to `httpx.AsyncClient.request`.
    """
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.PoolTimeout as exc:
        # Every pooled connection was busy for the whole wait: the downstream is up, just saturated.
        raise DownstreamError(service, busy=True) from exc
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            raise DownstreamError(service, reason=type(exc).__name__) from exc
        raise DownstreamError(service, timeout=True) from exc
    except httpx.HTTPError as exc:
        raise DownstreamError(service, reason=type(exc).__name__) from exc
    if response.status_code == 404:
        raise NotFoundError(service, _detail(response) or "not found")
    if not response.is_success:
        # A 504 downstream is a timeout further along the chain: still a timeout here.
        raise DownstreamError(
            service,
            status=response.status_code,
            timeout=response.status_code == 504,
            reason=_detail(response) or "",
        )
    return response


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def parse(response: httpx.Response, service: str, model: Any) -> Any:
    """Validate a downstream body against the contract; a body that breaks it is that service's failure."""
    try:
        return _adapter(model).validate_json(response.content)
    except ValidationError as exc:
        raise DownstreamError(service, reason="response broke the contract") from exc


def _detail(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else None


async def _downstream_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DownstreamError)
    # Reported to Rollbar by the service that failed; here only a log line, in the same trace.
    log.warning("downstream failure: %s", exc.message, extra={"downstream_service": exc.service})
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.busy else None
    body = {"detail": exc.message, "service": exc.service, "trace_id": current_trace_id()}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return JSONResponse({"detail": exc.detail}, status_code=404)


def install_error_handlers(app: FastAPI) -> None:
    """Map downstream failures at the edge: 404 stays 404, failure 502, timeout 504."""
    app.add_exception_handler(DownstreamError, _downstream_error)
    app.add_exception_handler(NotFoundError, _not_found)
