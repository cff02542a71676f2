"""Stopping a service flushes its log lines and Rollbar items, within a bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Stack, base_env, poll
from tests.standins.cloudwatch import CREDENTIALS, REGION, CloudWatchStandIn
from tests.standins.rollbar import RollbarStandIn

pytestmark = pytest.mark.e2e


def test_shutdown_flushes_lines_and_items_within_a_bounded_time(
    tmp_path: Path, cloudwatch: CloudWatchStandIn, rollbar: RollbarStandIn
) -> None:
    """With a 60 s send interval, lines and the item of a last request still arrive when the services stop."""
    group = "/cruddur/flush"
    env = base_env(
        **rollbar.env(),
        CLOUDWATCH_LOG_GROUP=group,
        CLOUDWATCH_SEND_INTERVAL="60",
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=cloudwatch.endpoint,
        **CREDENTIALS,
    )
    stack = Stack(tmp_path, env).start()
    items_before = len(rollbar.snapshot())
    try:
        poll(lambda: "shipping logs" in stack.services["gateway"].output(), what="the gateway connected")
        response = httpx.get(f"{stack.gateway}/api/debug/error", params={"service": "users"})
        assert response.status_code == 502
    finally:
        started = time.monotonic()
        stack.stop()
        assert time.monotonic() - started < 15
    paths = {
        stream.split("/")[0]: {e.get("http_path") for e in events}
        for stream, events in cloudwatch.events(group).items()
    }
    assert "/api/debug/error?service=users" in paths["gateway"] and "/debug/error" in paths["users"]
    [item] = rollbar.snapshot()[items_before:]
    assert item["custom"]["service"] == "users" and item["request"]["route"] == "/debug/error"
