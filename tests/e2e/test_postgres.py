"""The stores run on PostgreSQL as well as SQLite: the same stack with DATABASE_URL=postgresql://..."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.db import normalize_database_url
from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET
from tests.e2e.harness import Stack, base_env

pytestmark = pytest.mark.e2e

SERVER = os.environ.get("TEST_POSTGRES_URL")
REASON = 'TEST_POSTGRES_URL is not set: eval "$(scripts/postgres-for-tests)" sets it (.ci/run does)'


async def drop_tables(url: str) -> None:
    engine = create_async_engine(normalize_database_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS users, activities"))
    await engine.dispose()


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not SERVER:
        pytest.skip(REASON)
    urls = {name: f"{SERVER}/cruddur_{name}_test" for name in ("users", "activities")}
    for url in urls.values():
        asyncio.run(drop_tables(url))
    per_service = {name: {"DATABASE_URL": url} for name, url in urls.items()}
    stack = Stack(tmp_path_factory.mktemp("pg"), base_env(), per_service=per_service).start()
    yield stack
    stack.stop()


def test_postgres_stores_seed_serve_and_write(postgres_stack: Stack) -> None:
    """On empty PostgreSQL databases the tables are created and seeded, and a new post reads back."""
    feed = httpx.get(f"{postgres_stack.gateway}/api/activities/home")
    assert feed.status_code == 200 and len(feed.json()) == 5
    token = mint("londo", DEV_AUTH_SECRET)
    created = httpx.post(
        f"{postgres_stack.gateway}/api/activities",
        json={"message": "Stored in PostgreSQL."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    page = httpx.get(f"{postgres_stack.gateway}/api/activities/@londo").json()
    assert page["activities"][0]["message"] == "Stored in PostgreSQL."
    assert page["activities"][0]["created_at"].endswith("Z")


def test_restart_does_not_seed_twice(postgres_stack: Stack) -> None:
    """Restarting a service on a database that has data leaves the data as it is."""
    before = httpx.get(f"{postgres_stack.gateway}/api/activities/home").json()
    postgres_stack.services["activities"].stop()
    postgres_stack.services["activities"].start()
    after = httpx.get(f"{postgres_stack.gateway}/api/activities/home").json()
    assert [p["uuid"] for p in after] == [p["uuid"] for p in before]
