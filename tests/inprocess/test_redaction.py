"""The redaction policy through the running chain: no secret in a request's URL reaches a span or an
access line."""

from __future__ import annotations

import logging

import pytest

from tests.inprocess.wiring import Apps
from tests.unit.test_redaction import AWS_KEY_ID, JWT, SECRET_NAMES


def span_values(apps: Apps) -> list[str]:
    values = []
    for span in apps.finished_spans():
        values += [str(v) for v in (span.attributes or {}).values()]  # type: ignore[attr-defined]
        values.append(span.name)  # type: ignore[attr-defined]
    return values


async def test_query_secrets_never_reach_a_span(apps: Apps) -> None:
    """Secret query values (every secret-like name, and AWS key shapes under any name) are in no span."""
    query = "&".join(f"{name}=value{i}xyz" for i, name in enumerate(SECRET_NAMES)) + f"&q={AWS_KEY_ID}"
    response = await apps.client.get(f"/api/activities/home?{query}")
    assert response.status_code == 200
    values = " ".join(span_values(apps))
    assert "http" in values  # the URL attributes are there, only redacted
    leaked = [f"value{i}xyz" for i in range(len(SECRET_NAMES)) if f"value{i}xyz" in values]
    assert leaked == [] and AWS_KEY_ID not in values


async def test_a_token_in_the_path_reaches_neither_span_nor_access_line(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    """A JWT pasted into the path is redacted in the server span's URL attributes and in the access line."""
    with caplog.at_level(logging.INFO, logger="cruddur.access"):
        await apps.client.get(f"/api/activities/@{JWT}")
    assert JWT not in " ".join(span_values(apps))
    access = [r.getMessage() for r in caplog.records if r.name == "cruddur.access"]
    assert access and not [line for line in access if JWT in line]
