"""Request limits at the edge of the running chain: bounded bodies, short 422s that always encode, no
body leaks."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET
from tests.inprocess.wiring import Apps

AUTH = {"Authorization": f"Bearer {mint('worf', DEV_AUTH_SECRET)}", "content-type": "application/json"}


async def test_an_oversized_body_is_413_before_authentication(apps: Apps) -> None:
    """A body over 64 KiB is a JSON 413 even without a token (it is refused before auth and parsing)."""
    body = b'{"message": "' + b"x" * 100_000 + b'"}'
    response = await apps.client.post(
        "/api/activities", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 65536 bytes"}


async def test_an_oversized_chunked_body_is_413(apps: Apps) -> None:
    """A body without Content-Length is cut off once it passes the limit, not read to its end."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"message": "'
        for _ in range(1_000):  # 16 MB if it were all read
            sent += 1
            yield b"x" * 16_384
        yield b'"}'

    response = await apps.client.post("/api/activities", content=chunks(), headers=AUTH)
    assert response.status_code == 413
    assert sent < 10


async def test_a_body_under_the_limit_still_works(apps: Apps) -> None:
    """The limit leaves ordinary posts alone."""
    response = await apps.client.post("/api/activities", json={"message": "fits"}, headers=AUTH)
    assert response.status_code == 201


async def test_a_422_never_echoes_more_than_an_excerpt(apps: Apps) -> None:
    """A rejected 60 KB message comes back as a short excerpt, not the whole input."""
    response = await apps.client.post("/api/activities", json={"message": "y" * 60_000}, headers=AUTH)
    assert response.status_code == 422
    assert len(response.content) < 1_000
    assert response.json()["detail"][0]["loc"] == ["body", "message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": NaN}',
        b'{"message": Infinity}',
        b'{"message": -Infinity}',
        b'{"message": 1e999999}',
        b'{"message": "\\ud800"}',
        b'{"message": "ok \\udfff"}',
        b'{"message": "hi", "\\ud800": 1}',
        b'{"message": "a\\u0000b"}',
        b"[" * 100_00 + b"]" * 100_00,
    ],
)
async def test_unrepresentable_input_is_a_4xx_not_a_500(apps: Apps, body: bytes) -> None:
    """Non-finite numbers, lone surrogates, NUL and deep nesting are refused with a 4xx that encodes."""
    response = await apps.client.post("/api/activities", content=body, headers=AUTH)
    assert response.status_code in (400, 422), response.text
    response.json()


async def test_a_rejected_body_is_not_logged(apps: Apps, caplog: pytest.LogCaptureFixture) -> None:
    """A body refused for a NaN is in no log line, so a password field in it goes nowhere."""
    body = b'{"message": NaN, "password": "hunter2-in-the-body"}'
    with caplog.at_level(logging.DEBUG):
        response = await apps.client.post("/api/activities", content=body, headers=AUTH)
    assert response.status_code == 422
    assert "hunter2-in-the-body" not in caplog.text
    assert "hunter2-in-the-body" not in response.text


async def test_a_body_of_many_keys_is_refused_at_parse(apps: Apps) -> None:
    """The worst 64 KiB body (6,500 unknown keys) is a 422 from the parser, before any validation."""
    keys = ",".join(f'"k{i}":0' for i in range(6_500))
    body = ('{"message": "hi",' + keys + "}").encode()
    assert len(body) < 65_536
    started = time.perf_counter()
    response = await apps.client.post("/api/activities", content=body, headers=AUTH)
    elapsed = time.perf_counter() - started
    print(f"6,500-key body answered in {elapsed * 1000:.1f} ms")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert elapsed < 1.0  # about 8 ms here, end to end in-process; 400,000 keys once held the loop 12.6 s


async def test_a_422_names_at_most_ten_errors(apps: Apps) -> None:
    """A body with 60 unknown fields is a 422 listing ten of them and saying how many there were."""
    body = {"message": "hi", **{f"k{i}": 0 for i in range(60)}}
    response = await apps.client.post("/api/activities", json=body, headers=AUTH)
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 10 and response.json()["errors"] == 60


async def test_no_host_header_is_reflected_in_a_redirect(apps: Apps) -> None:
    """A trailing slash is a plain 404, never a redirect to whatever host the client named."""
    response = await apps.client.get("/api/activities/home/", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
