"""Each service's routes, bad input included: a clear 4xx, never a 500."""

from __future__ import annotations

import httpx
import jwt
import pytest

from observability.telemetry import Telemetry
from services.gateway.app import create_app as create_gateway
from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET, GatewaySettings
from tests.inprocess.wiring import Apps


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(apps: Apps, service: str, method: str, url: str, **kwargs: object) -> httpx.Response:
    app = getattr(apps, service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{service}"
    ) as client:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]


async def test_users_single_and_batch(apps: Apps) -> None:
    """users answers a profile, a batch in the order asked without unknowns, and 404 for an unknown one."""
    assert (await call(apps, "users", "GET", "/users/worf")).json()["display_name"] == "Worf"
    batch = await call(apps, "users", "GET", "/users?handle=worf&handle=nobody&handle=garek&handle=worf")
    assert [p["handle"] for p in batch.json()] == ["worf", "garek"]
    missing = await call(apps, "users", "GET", "/users/nobody")
    assert (missing.status_code, missing.json()) == (404, {"detail": "unknown handle: nobody"})


@pytest.mark.parametrize(
    "url", ["/users/bad%20handle", "/users/" + "a" * 33, "/users", "/users?" + "&".join(["handle=a"] * 101)]
)
async def test_users_rejects_bad_handles(apps: Apps, url: str) -> None:
    """A malformed handle, none at all or more than 100 in a batch is a 422."""
    assert (await call(apps, "users", "GET", url)).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"handle": "worf", "message": ""},
        {"handle": "worf", "message": "   "},
        {"handle": "worf", "message": "x" * 281},
        {"handle": "not a handle", "message": "hi"},
        {"handle": "worf", "message": "hi", "extra": 1},
        {"message": "hi"},
    ],
)
async def test_activities_rejects_bad_posts(apps: Apps, body: dict[str, object]) -> None:
    """A post of 0 or 281+ characters, a bad author or an unknown field is a 422."""
    assert (await call(apps, "activities", "POST", "/activities", json=body)).status_code == 422


async def test_activities_post_for_unknown_author_is_404(apps: Apps) -> None:
    """activities asks users for the author and answers 404 when there is none."""
    response = await call(
        apps, "activities", "POST", "/activities", json={"handle": "nobody", "message": "hi"}
    )
    assert response.status_code == 404


async def test_create_post_as_the_token_user(apps: Apps) -> None:
    """The author of a new post is the token's user, and it shows first in that user's page."""
    token = mint("garek", DEV_AUTH_SECRET)
    created = await apps.client.post(
        "/api/activities", json={"message": "  Fabric.  "}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    assert (created.json()["handle"], created.json()["message"]) == ("garek", "Fabric.")
    assert created.json()["author"]["display_name"] == "Garak"
    page = (await apps.client.get("/api/activities/@garek")).json()
    assert page["activities"][0]["uuid"] == created.json()["uuid"]


async def test_body_cannot_choose_the_author(apps: Apps) -> None:
    """A body that names an author is refused instead of silently posting as someone else."""
    token = mint("garek", DEV_AUTH_SECRET)
    body = {"message": "hi", "handle": "worf"}
    assert (await apps.client.post("/api/activities", json=body, headers=bearer(token))).status_code == 422


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic d29yZjp4"}, "expected 'Authorization: Bearer <token>'"),
        ({"Authorization": "Bearer"}, "expected 'Authorization: Bearer <token>'"),
        (bearer("not.a.jwt"), "invalid token"),
        (bearer(mint("worf", "another-secret-of-some-length-0123456789")), "invalid token"),
        (bearer(mint("worf", DEV_AUTH_SECRET, ttl=10, now=1_000)), "token expired"),
        (bearer(jwt.encode({"sub": "worf"}, DEV_AUTH_SECRET, algorithm="HS256")), "invalid token"),
        (bearer(jwt.encode({"sub": "worf", "exp": 2**40}, key="", algorithm="none")), "invalid token"),
    ],
)
async def test_create_post_needs_a_valid_token(apps: Apps, headers: dict[str, str], detail: str) -> None:
    """Missing, malformed, badly signed, expired, unsigned or exp-less tokens are a 401 saying why."""
    response = await apps.client.post("/api/activities", json={"message": "hi"}, headers=headers)
    assert (response.status_code, response.json()["detail"]) == (401, detail)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("body", [b"{", b'{"message": 5}', b"[]", b'{"message": ""}'])
async def test_gateway_rejects_bad_bodies(apps: Apps, body: bytes) -> None:
    """Malformed JSON or a bad message is a 422 at the gateway."""
    headers = {**bearer(mint("worf", DEV_AUTH_SECRET)), "content-type": "application/json"}
    assert (await apps.client.post("/api/activities", content=body, headers=headers)).status_code == 422


async def test_profile_of_unknown_handle_is_404(apps: Apps) -> None:
    """The profile page of a handle users does not know is a 404, not a 502."""
    response = await apps.client.get("/api/activities/@nobody")
    assert response.status_code == 404 and "nobody" in response.json()["detail"]
    assert (await apps.client.get("/api/activities/@bad!handle")).status_code == 422


async def test_home_feed_has_authors(apps: Apps) -> None:
    """The feed lists the seeded posts newest first, each with its author's profile."""
    posts = (await apps.client.get("/api/activities/home")).json()
    assert [p["handle"] for p in posts] == ["andrewbrown", "worf", "garek", "bayko", "londo"]
    assert all(p["author"]["handle"] == p["handle"] for p in posts)


async def test_failed_profile_lookup_cancels_the_other_call(apps: Apps) -> None:
    """When users answers 404 first, the concurrent activities call is cancelled, not left running."""
    import asyncio

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow_activities(request: httpx.Request) -> httpx.Response:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return httpx.Response(200, json=[])

    app = create_gateway(
        GatewaySettings(),
        Telemetry("gateway"),
        users_transport=httpx.ASGITransport(app=apps.users),
        activities_transport=httpx.MockTransport(slow_activities),
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        response = await client.get("/api/activities/@nobody")
    assert response.status_code == 404
    assert started.is_set()
    await asyncio.wait_for(cancelled.wait(), timeout=1)
