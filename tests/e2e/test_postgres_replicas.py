"""Replicas share one PostgreSQL: those starting together create the tables and seed the data once.

The Kubernetes aws overlay and the ECS services run two or more replicas of each store on one
database; each replica runs `prepare` at start-up, at the same moment after a deployment.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text

from services.common.db import Database, normalize_database_url

pytestmark = pytest.mark.e2e

SERVER = os.environ.get("TEST_POSTGRES_URL")
REASON = 'TEST_POSTGRES_URL is not set: eval "$(scripts/postgres-for-tests)" sets it (.ci/run does)'
REPLICAS = 8
probe = Table(
    "replica_start_probe", MetaData(), Column("id", Integer, primary_key=True), Column("name", String)
)


def seed() -> list[dict[str, Any]]:
    """Three rows, as a service's demo data."""
    return [{"id": n, "name": f"row {n}"} for n in range(1, 4)]


@pytest.mark.skipif(not SERVER, reason=REASON)
async def test_replicas_starting_together_create_and_seed_once() -> None:
    """Eight replicas preparing one empty database at once all start, and the seed rows exist once."""
    url = normalize_database_url(f"{SERVER}/cruddur_activities_test")
    databases = [Database(url) for _ in range(REPLICAS)]
    drop = text(f"DROP TABLE IF EXISTS {probe.name}")
    try:
        await databases[0].write(lambda conn: conn.execute(drop))
        async with asyncio.timeout(60):
            await asyncio.gather(*(database.prepare(probe, seed) for database in databases))
        count = select(func.count()).select_from(probe)
        assert await databases[0].read(lambda conn: conn.execute(count).scalar_one()) == len(seed())
    finally:
        await databases[0].write(lambda conn: conn.execute(drop))
        await asyncio.gather(*(database.dispose() for database in databases))
