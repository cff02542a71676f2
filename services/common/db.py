"""Each service's own database: one thread hop per unit of work on SQLite, asyncpg on PostgreSQL.

A store writes its work as a plain function of a SQLAlchemy `Connection` and awaits `Database.read`
or `Database.write`. On SQLite the whole function (check-out, statement, fetch, commit) runs in one
call to a small worker pool, with the caller's context (so its database spans are children of the
request's span). Through SQLAlchemy's async engine and aiosqlite the same query took four to six
hops between the loop and aiosqlite's thread, and under 16 concurrent requests the async pool
opened and closed a connection (and its thread) per overflowing request: 2.6 ms of CPU a query
against 0.5 ms here (docs/performance.md). On PostgreSQL the function runs on the async engine's
connection (`run_sync`, asyncpg underneath): no thread at all.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

Seed = Callable[[], list[dict[str, Any]]]
T = TypeVar("T")
Work = Callable[[Connection], T]

_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+aiosqlite": "sqlite+pysqlite",  # URLs written for the async driver used before
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
SQLITE_WORKERS = 4  # threads (and pooled connections) per SQLite database: it serializes writes anyway


def normalize_database_url(url: str) -> str:
    """Give a plain `sqlite://` or `postgresql://` URL the driver it runs on; reject anything else."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ValueError("is not a database URL (sqlite:///path or postgresql://user@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"backend {backend!r} is not supported: use sqlite or postgresql")
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


class Database:
    """A service's database: `read`/`write` run a function of a connection, off the event loop.

    Args:
        url: a URL already passed through `normalize_database_url`.
        workers: SQLite only: worker threads, and as many pooled connections (never more).
    """

    def __init__(self, url: str, *, workers: int = SQLITE_WORKERS) -> None:
        parsed = make_url(url)
        self._executor: ThreadPoolExecutor | None = None
        self._async: AsyncEngine | None = None
        # hide_parameters: a failed statement's error (logs, Rollbar) must not carry the values (post text).
        if parsed.get_backend_name() == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            if not memory:
                Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
            pool: dict[str, Any] = (
                {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
                if memory  # one connection, or each thread would see its own empty database
                else {"pool_size": workers, "max_overflow": 0}
            )
            self.engine: Engine = create_sync_engine(parsed, hide_parameters=True, **pool)
            self._executor = ThreadPoolExecutor(1 if memory else workers, thread_name_prefix="sqlite")
        else:
            self._async = create_async_engine(parsed, pool_pre_ping=True, hide_parameters=True)
            self.engine = self._async.sync_engine

    async def read(self, work: Work[T]) -> T:
        """`work(connection)` and its result; nothing is committed."""
        return await self._run(work, commit=False)

    async def write(self, work: Work[T]) -> T:
        """`work(connection)` in a transaction, committed when it returns (rolled back if it raises)."""
        return await self._run(work, commit=True)

    async def _run(self, work: Work[T], *, commit: bool) -> T:
        if self._async is not None:
            async with self._async.begin() if commit else self._async.connect() as conn:
                return await conn.run_sync(work)
        assert self._executor is not None
        call = contextvars.copy_context().run  # the request's span and pending faults go along
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, call, self._sync, work, commit
        )

    def _sync(self, work: Work[T], commit: bool) -> T:
        with self.engine.begin() if commit else self.engine.connect() as conn:
            return work(conn)

    async def prepare(self, table: Table, seed: Seed) -> None:
        """Create the service's tables if missing and seed `table` while it is empty, in one transaction.

        Args:
            table: the table to seed (its metadata's other tables are created too).
            seed: the demo rows, asked for only when `table` is empty.
        """
        await self.write(lambda conn: _prepare(conn, table, seed))

    async def dispose(self) -> None:
        """Close every pooled connection and stop the worker threads."""
        if self._async is not None:
            await self._async.dispose()
            return
        assert self._executor is not None
        executor = self._executor
        await asyncio.get_running_loop().run_in_executor(executor, self.engine.dispose)
        executor.shutdown(wait=False)


def _prepare(conn: Connection, table: Table, seed: Seed) -> None:
    if conn.dialect.name == "postgresql":
        # Replicas sharing the database start together: without this lock each one checks that the
        # table is missing, then all but one fail creating it (or seed it twice). The lock is the
        # transaction's, released at commit.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(table)})
    table.metadata.create_all(conn)
    if conn.execute(select(func.count()).select_from(table)).scalar_one() == 0:
        conn.execute(insert(table), seed())


def _lock_key(table: Table) -> int:
    """A stable signed 64-bit advisory lock key for preparing this table."""
    digest = hashlib.sha256(f"cruddur.prepare.{table.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
