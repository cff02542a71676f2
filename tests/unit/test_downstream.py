"""Typed clients turn every downstream failure into an error that names the service, and the gateway
answers it as a 502, 503 or 504 naming that service."""

from __future__ import annotations

import httpx
import pytest

from observability.telemetry import Telemetry
from services.common.downstream import DownstreamError, NotFoundError
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.users.client import UsersClient


def client(handler: httpx.MockTransport) -> UsersClient:
    return UsersClient(httpx.AsyncClient(transport=handler, base_url="http://users"))


def raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def answering(status: int, body: object = None, content: bytes | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body, content=content))


@pytest.mark.parametrize(
    ("transport", "http_status", "is_timeout"),
    [
        (raising(httpx.ConnectError("refused")), 502, False),
        (raising(httpx.ConnectTimeout("connect")), 502, False),
        (raising(httpx.PoolTimeout("pool")), 503, False),
        (raising(httpx.ReadTimeout("slow")), 504, True),
        (raising(httpx.RemoteProtocolError("garbage")), 502, False),
        (answering(500, {"detail": "boom"}), 502, False),
        (answering(503), 502, False),
        (answering(504, {"detail": "users did not answer in time"}), 504, True),
        (answering(200, content=b"not json"), 502, False),
        (answering(200, {"handle": "worf"}), 502, False),
    ],
)
async def test_failures_become_downstream_errors(
    transport: httpx.MockTransport, http_status: int, is_timeout: bool
) -> None:
    """Refused, failing or contract-breaking answers are 502s; a timeout is a 504."""
    with pytest.raises(DownstreamError) as error:
        await client(transport).get("worf")
    failure = error.value
    assert (failure.service, failure.http_status, failure.timeout) == ("users", http_status, is_timeout)
    assert error.value.message.startswith("users ")


async def test_not_found_is_not_a_failure() -> None:
    """A 404 from users is a NotFoundError carrying users' detail, not a 502."""
    with pytest.raises(NotFoundError, match="unknown handle"):
        await client(answering(404, {"detail": "unknown handle: nobody"})).get("nobody")


async def test_batch_lookup_is_one_call_per_hundred_handles() -> None:
    """get_many deduplicates handles and asks users in batches of at most 100."""
    seen: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        handles = request.url.params.get_list("handle")
        seen.append(handles)
        return httpx.Response(200, json=[{"handle": h, "display_name": h.title()} for h in handles])

    found = await client(httpx.MockTransport(handler)).get_many([f"u{i}" for i in range(150)] + ["u1"])
    assert [len(batch) for batch in seen] == [100, 50]
    assert len(found) == 150
    assert await client(httpx.MockTransport(handler)).get_many([]) == {}


@pytest.mark.parametrize(
    ("transport", "status"),
    [
        (raising(httpx.ConnectError("refused")), 502),
        (raising(httpx.ReadTimeout("slow")), 504),
        (raising(httpx.PoolTimeout("no free connection")), 503),
        (httpx.MockTransport(lambda r: httpx.Response(500)), 502),
    ],
)
async def test_gateway_maps_downstream_failures(transport: httpx.MockTransport, status: int) -> None:
    """A failing activities is a 502, a slow one a 504, a saturated pool a 503 with Retry-After, each
    naming activities."""
    app = create_gateway(GatewaySettings(), Telemetry("gateway"), activities_transport=transport)
    gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), gateway:
        response = await gateway.get("/api/activities/home")
    assert (response.status_code, response.json()["service"]) == (status, "activities")
    assert "activities" in response.json()["detail"]
    assert ("retry-after" in response.headers) == (status == 503)


async def test_healthz_makes_no_downstream_call() -> None:
    """/healthz answers while both downstream services are down."""
    dead = raising(httpx.ConnectError("refused"))
    app = create_gateway(
        GatewaySettings(), Telemetry("gateway"), activities_transport=dead, users_transport=dead
    )
    gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), gateway:
        assert (await gateway.get("/healthz")).json()["status"] == "ok"
