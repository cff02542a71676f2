"""Bearer tokens: HS256 JWTs signed with `AUTH_SECRET`, whose subject is the user's handle."""

from __future__ import annotations

import time
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import Scope

from services.users.schemas import Handle

ALGORITHM = "HS256"
USER_KEY = "cruddur.user"
ERROR_KEY = "cruddur.auth_error"


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed or expired."""


def mint(handle: Handle, secret: str, *, ttl: int = 3600, now: float | None = None) -> str:
    """A signed token for `handle`, valid `ttl` seconds."""
    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": handle, "iat": issued, "exp": issued + ttl}, secret, algorithm=ALGORITHM)


def verify(token: str, secret: str) -> str:
    """The handle a valid token names; `InvalidToken` says why it is not valid."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("invalid token") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("invalid token")
    return subject


class Authenticator:
    """The edge's `identify`: the user a valid bearer token names, or None with the reason in the scope.

    Routes that need a user read it with `CurrentUserDep`; observability's edge middleware puts it on
    the span and in the baggage the internal services trust.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, scope: Scope) -> str | None:
        header = Headers(scope=scope).get("authorization")
        if header is None:
            scope[ERROR_KEY] = "missing bearer token"
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            scope[ERROR_KEY] = "expected 'Authorization: Bearer <token>'"
            return None
        try:
            user = verify(token.strip(), self.secret)
        except InvalidToken as exc:
            scope[ERROR_KEY] = str(exc)
            return None
        scope[USER_KEY] = user
        return user


async def _current_user(request: Request) -> str:
    user = request.scope.get(USER_KEY)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail=request.scope.get(ERROR_KEY, "missing bearer token"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return str(user)


CurrentUserDep = Annotated[str, Depends(_current_user)]
