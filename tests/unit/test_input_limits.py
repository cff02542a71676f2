"""No SQL values leak: a failed statement's error names the statement, not its parameters.

The rest of the request limits (bounded bodies, short 422s) are pinned through the running chain in
tests/inprocess/test_input_limits.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from services.common.db import Database, normalize_database_url


async def test_sql_parameters_stay_out_of_database_errors(tmp_path: Path) -> None:
    """A failed statement's error names the statement, never its parameters (the post's text)."""
    database = Database(normalize_database_url(f"sqlite:///{tmp_path}/t.db"))
    table = Table("t", MetaData(), Column("id", String, primary_key=True), Column("text", String))
    try:
        await database.prepare(table, lambda: [{"id": "1", "text": "first"}])
        with pytest.raises(IntegrityError) as caught:
            await database.write(
                lambda conn: conn.execute(insert(table), [{"id": "1", "text": "my private post"}])
            )
        assert "my private post" not in str(caught.value)
        assert "INSERT INTO t" in str(caught.value)
    finally:
        await database.dispose()
