"""The typed client that callers of users use: no URLs or raw dicts outside this file."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from services.common.downstream import call, parse
from services.users.schemas import MAX_BATCH, Profile

SERVICE = "users"


class UsersClient:
    """Profiles from the users service; failures raise `DownstreamError` or `NotFoundError`."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    async def get(self, handle: str) -> Profile:
        response = await call(self.http, SERVICE, "GET", f"/users/{handle}")
        profile: Profile = parse(response, SERVICE, Profile)
        return profile

    async def get_many(self, handles: Sequence[str]) -> dict[str, Profile]:
        """Profiles by handle, in one call per hundred handles; unknown handles are absent."""
        wanted = list(dict.fromkeys(handles))
        found: dict[str, Profile] = {}
        for start in range(0, len(wanted), MAX_BATCH):
            chunk = wanted[start : start + MAX_BATCH]
            response = await call(self.http, SERVICE, "GET", "/users", params={"handle": chunk})
            profiles: list[Profile] = parse(response, SERVICE, list[Profile])
            found.update((p.handle, p) for p in profiles)
        return found

    async def debug_error(self) -> None:
        """Make the service raise its deliberate error: a `DownstreamError` here (404 in production)."""
        await call(self.http, SERVICE, "GET", "/debug/error")
