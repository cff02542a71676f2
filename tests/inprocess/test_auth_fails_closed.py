"""Auth as the running gateway shows it: its OpenAPI declares the bearer scheme `/docs` can use."""

from __future__ import annotations

from tests.inprocess.wiring import Apps


async def test_openapi_declares_the_bearer_scheme(apps: Apps) -> None:
    """The OpenAPI document declares HTTP bearer auth on the POST, so `/docs` can send a token."""
    spec = (await apps.client.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    assert spec["paths"]["/api/activities"]["post"]["security"] == [{name: []} for name in schemes]
