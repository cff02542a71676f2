"""Each service's own database: an async SQLAlchemy engine, created and seeded without manual steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

Seed = Callable[[], list[dict[str, Any]]]

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalize_database_url(url: str) -> str:
    """Give a plain `sqlite://` or `postgresql://` URL its async driver; reject anything else."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ValueError("is not a database URL (sqlite:///path or postgresql://user@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"backend {backend!r} is not supported: use sqlite or postgresql")
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url` (SQLite's folder made); `Telemetry.instrument_engine` traces it.

    Args:
        url: a URL already passed through `normalize_database_url`.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    return engine


async def prepare(engine: AsyncEngine, table: Table, seed: Seed) -> None:
    """Create the service's tables if missing and seed `table` while it is empty, in one transaction.

    Args:
        engine: the service's engine.
        table: the table to seed (its metadata's other tables are created too).
        seed: the demo rows, asked for only when `table` is empty.
    """
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
        if (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 0:
            await conn.execute(insert(table), seed())
