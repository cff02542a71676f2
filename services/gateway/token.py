"""`python -m services.gateway.token HANDLE`: print a bearer token for an existing user (demo and tests).

The handle is checked with users (`USERS_URL`, through its typed client) before anything is signed: a
token for a user that does not exist is refused, and so is one when users cannot be asked (start the
services first, `make dev`). The lifetime is `AUTH_TOKEN_TTL`, or `--ttl`, never beyond
`AUTH_TOKEN_MAX_TTL` (the gateway refuses longer-lived tokens anyway).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx
from pydantic import TypeAdapter, ValidationError

from services.common.downstream import DownstreamError, NotFoundError
from services.common.server import load_settings
from services.gateway.auth import mint
from services.gateway.settings import GatewaySettings
from services.users.client import UsersClient
from services.users.schemas import Handle


class UnknownUser(Exception):
    """users does not know the handle, or could not be asked."""


async def check_user(handle: str, users_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Raise `UnknownUser` unless users knows `handle`.

    Args:
        handle: the user the token would speak for.
        users_url: users' base URL.
        transport: the transport to users (tests route it to an in-process app).
    """
    async with httpx.AsyncClient(base_url=users_url, timeout=5.0, transport=transport) as http:
        try:
            await UsersClient(http).get(handle)
        except NotFoundError:
            raise UnknownUser(f"unknown user: {handle!r} (users does not know this handle)") from None
        except DownstreamError as exc:
            raise UnknownUser(f"cannot check that {handle!r} exists: {exc.message} at {users_url}") from None


def issue(
    handle: str,
    settings: GatewaySettings,
    *,
    ttl: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """A token for an existing user, valid `ttl` seconds (`AUTH_TOKEN_TTL` by default).

    Raises:
        UnknownUser: users does not know the handle, or cannot be reached.
        ValueError: `ttl` is not positive or beyond `AUTH_TOKEN_MAX_TTL`.
    """
    lifetime = ttl if ttl is not None else settings.auth_token_ttl
    if not 0 < lifetime <= settings.auth_token_max_ttl:
        raise ValueError(f"--ttl must be between 1 and AUTH_TOKEN_MAX_TTL ({settings.auth_token_max_ttl})")
    asyncio.run(check_user(handle, settings.users_url, transport))
    return mint(handle, settings.secret, ttl=lifetime)


def main(argv: list[str] | None = None, transport: httpx.AsyncBaseTransport | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint a bearer token signed with AUTH_SECRET.")
    parser.add_argument("handle", help="the user the token speaks for, for example andrewbrown")
    parser.add_argument("--ttl", type=int, default=None, help="seconds the token lives (AUTH_TOKEN_TTL)")
    args = parser.parse_args(argv)
    try:
        handle = TypeAdapter(Handle).validate_python(args.handle)
    except ValidationError:
        parser.error(f"not a handle: {args.handle!r} (letters, digits and _, at most 32)")
    settings = load_settings(GatewaySettings)
    try:
        print(issue(handle, settings, ttl=args.ttl, transport=transport))
    except ValueError as exc:
        parser.error(str(exc))
    except UnknownUser as exc:
        print(f"no token: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
