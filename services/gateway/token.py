"""`python -m services.gateway.token HANDLE`: print a bearer token for a user (demo and tests)."""

from __future__ import annotations

import argparse

from pydantic import TypeAdapter, ValidationError

from services.common.server import load_settings
from services.gateway.auth import mint
from services.gateway.settings import GatewaySettings
from services.users.schemas import Handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint a bearer token signed with AUTH_SECRET.")
    parser.add_argument("handle", help="the user the token speaks for, for example andrewbrown")
    parser.add_argument("--ttl", type=int, default=None, help="seconds the token lives (AUTH_TOKEN_TTL)")
    args = parser.parse_args(argv)
    try:
        handle = TypeAdapter(Handle).validate_python(args.handle)
    except ValidationError:
        parser.error(f"not a handle: {args.handle!r} (letters, digits and _, at most 32)")
    settings = load_settings(GatewaySettings)
    ttl = args.ttl if args.ttl is not None else settings.auth_token_ttl
    if ttl <= 0:
        parser.error("--ttl must be positive")
    print(mint(handle, settings.secret, ttl=ttl))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
