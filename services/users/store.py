"""The users' own data: one table of profiles, seeded with the demo users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, MetaData, String, Table, bindparam, select

from services.common.db import Database
from services.users.schemas import Profile

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("handle", String(32), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("bio", String(280), nullable=False, default=""),
)

# Built once: constructing and coercing a statement per call cost as much as running it (the
# profile of the bare chain; docs/performance.md). The handles bind as an expanding IN list.
BY_HANDLES = select(users).where(users.c.handle.in_(bindparam("handles", expanding=True)))

DEMO_USERS = [
    Profile(handle="andrewbrown", display_name="Andrew Brown", bio="Cloud is very fun!"),
    Profile(handle="worf", display_name="Worf", bio="Son of Mogh."),
    Profile(handle="garek", display_name="Garak", bio="Just a simple tailor."),
    Profile(handle="bayko", display_name="Andrew Bayko", bio="Bootcamp co-host."),
    Profile(handle="londo", display_name="Londo Mollari", bio="Ambassador of the Centauri Republic."),
]


def demo_rows() -> list[dict[str, Any]]:
    """The demo users, as rows."""
    return [profile.model_dump() for profile in DEMO_USERS]


class UserStore:
    """Reads profiles by handle (each call one unit of work on the database)."""

    def __init__(self, database: Database):
        self.database = database

    async def get(self, handle: str) -> Profile | None:
        found = await self.get_many([handle])
        return found[0] if found else None

    async def get_many(self, handles: Sequence[str]) -> list[Profile]:
        """The profiles of the handles that exist, in the order asked, each once."""
        wanted = list(dict.fromkeys(handles))

        def read(conn: Connection) -> list[Profile]:
            rows = conn.execute(BY_HANDLES, {"handles": wanted})
            by_handle = {row.handle: Profile.model_validate(row._asdict()) for row in rows}
            return [by_handle[h] for h in wanted if h in by_handle]

        return await self.database.read(read)
