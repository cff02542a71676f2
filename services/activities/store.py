"""The activities' own data: one table of posts, seeded with the demo feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Index, MetaData, String, Table, bindparam, insert, select

from services.activities.schemas import Activity
from services.common.db import Database

metadata = MetaData()
activities = Table(
    "activities",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("handle", String(32), nullable=False),
    Column("message", String(280), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_activities_created_at", "created_at"),
    Index("ix_activities_handle_created_at", "handle", "created_at"),
)

# Built once: constructing and coercing a statement per call cost as much as running it (the
# profile of the bare chain; docs/performance.md).
RECENT = select(activities).order_by(activities.c.created_at.desc()).limit(bindparam("limit"))
RECENT_BY_HANDLE = RECENT.where(activities.c.handle == bindparam("handle"))
INSERT = insert(activities)

DEMO_POSTS = [
    ("andrewbrown", "Cloud is very fun!", 2),
    ("worf", "This post has no honor!", 5),
    ("garek", "My dear doctor, I am just a simple tailor. Ask me anything about fabric.", 24),
    ("bayko", "Tracing a request across three services: one trace id, every backend.", 30),
    ("londo", "Ah, arrogance and stupidity all in the same package. How efficient of you.", 48),
]
FEED_LENGTH = 20


def demo_rows() -> list[dict[str, Any]]:
    """The demo feed, as rows dated back from now."""
    now = datetime.now(UTC)
    return [
        {"uuid": str(uuid.uuid4()), "handle": h, "message": m, "created_at": now - timedelta(hours=age)}
        for h, m, age in DEMO_POSTS
    ]


class ActivityStore:
    """Reads and writes posts, newest first (each call one unit of work on the database)."""

    def __init__(self, database: Database):
        self.database = database

    async def recent(self, *, handle: str | None = None, limit: int = FEED_LENGTH) -> list[Activity]:
        query, params = (
            (RECENT, {"limit": limit})
            if handle is None
            else (RECENT_BY_HANDLE, {"limit": limit, "handle": handle})
        )

        def read(conn: Connection) -> list[Activity]:
            rows = conn.execute(query, params)
            return [
                Activity.model_validate({**row._asdict(), "created_at": _utc(row.created_at)}) for row in rows
            ]

        return await self.database.read(read)

    async def create(self, handle: str, message: str) -> Activity:
        row = {
            "uuid": str(uuid.uuid4()),
            "handle": handle,
            "message": message,
            "created_at": datetime.now(UTC),
        }
        await self.database.write(lambda conn: conn.execute(INSERT, [row]))
        return Activity.model_validate(row)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time stored here is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
