"""Auth fails closed: the development secret and debug routes in development only, bounded token lifetimes,
numeric `exp`, tokens only for users that exist, and a bearer scheme `/docs` can use."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from pydantic import ValidationError

from observability.telemetry import Telemetry
from services.gateway import token as token_command
from services.gateway.app import create_app as create_gateway
from services.gateway.auth import InvalidToken, mint, verify
from services.gateway.settings import DEV_AUTH_SECRET, GatewaySettings

SECRET = "a-real-secret-of-at-least-thirty-two-characters"


@pytest.mark.parametrize("environment", ["staging", "prd", "production ", "Development", "dev", "test"])
def test_no_development_secret_outside_development(environment: str) -> None:
    """Without AUTH_SECRET, any ENVIRONMENT but exactly `development` refuses to start."""
    with pytest.raises(ValidationError, match="AUTH_SECRET must be set"):
        GatewaySettings(environment=environment)


def test_development_uses_the_development_secret() -> None:
    """Exactly `ENVIRONMENT=development` (the default, and `make dev`'s) falls back to the public secret."""
    assert GatewaySettings().secret == DEV_AUTH_SECRET


def test_minted_lifetime_cannot_exceed_the_maximum() -> None:
    """AUTH_TOKEN_TTL beyond AUTH_TOKEN_MAX_TTL is a configuration error."""
    with pytest.raises(ValidationError, match="AUTH_TOKEN_MAX_TTL"):
        GatewaySettings(auth_token_ttl=90_000)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"sub": "worf", "exp": int(time.time()) + 100 * 365 * 86_400}, "token lives too long"),
        ({"sub": "worf", "exp": str(int(time.time()) + 600)}, "invalid token"),
        ({"sub": "worf", "exp": True}, "invalid token|token expired"),
        ({"sub": "worf", "exp": [int(time.time()) + 600]}, "invalid token"),
    ],
)
def test_tokens_with_far_or_non_numeric_exp_are_refused(claims: dict[str, object], reason: str) -> None:
    """A correctly signed token whose `exp` is a century ahead, a string or not a number is invalid."""
    with pytest.raises(InvalidToken, match=reason):
        verify(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET)


def test_a_token_within_the_maximum_is_accepted() -> None:
    """A token that lives a day or less is valid."""
    assert verify(mint("worf", SECRET, ttl=86_400), SECRET) == "worf"


@pytest.mark.parametrize(("environment", "status"), [("development", 500), ("staging", 404), ("prod", 404)])
async def test_debug_route_exists_only_in_development(environment: str, status: int) -> None:
    """`/api/debug/error` raises in development and does not exist anywhere else."""
    settings = GatewaySettings(environment=environment, auth_secret=SECRET)
    app = create_gateway(settings, Telemetry("gateway"))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        assert (await client.get("/api/debug/error")).status_code == status


def users_answering(status: int) -> httpx.MockTransport:
    profile = {"handle": "worf", "display_name": "Worf", "bio": ""}
    return httpx.MockTransport(lambda request: httpx.Response(status, json=profile))


def test_token_command_refuses_unknown_users(capsys: pytest.CaptureFixture[str]) -> None:
    """The token command mints nothing for a handle users does not know, and says so."""
    assert token_command.main(["nobody"], transport=users_answering(404)) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown user" in captured.err


def test_token_command_refuses_when_users_cannot_be_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """With users unreachable the command fails closed instead of minting for an unchecked handle."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert token_command.main(["worf"], transport=httpx.MockTransport(refuse)) == 1
    assert "cannot check" in capsys.readouterr().err


def test_token_command_mints_for_an_existing_user(capsys: pytest.CaptureFixture[str]) -> None:
    """For a handle users knows, the command prints a token the gateway accepts."""
    assert token_command.main(["worf", "--ttl", "600"], transport=users_answering(200)) == 0
    assert verify(capsys.readouterr().out.strip(), DEV_AUTH_SECRET) == "worf"


def test_token_command_refuses_a_lifetime_beyond_the_maximum() -> None:
    """`--ttl` beyond AUTH_TOKEN_MAX_TTL is a usage error, not a long-lived token."""
    with pytest.raises(SystemExit):
        token_command.main(["worf", "--ttl", str(10 * 86_400)], transport=users_answering(200))
