"""X-Ray across real processes under the asyncio loop, and with the daemon down."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Stack, base_env, feed_answers_quickly
from tests.e2e.xray_checks import (
    HOME,
    HOME_EDGES,
    daemon_env,
    requests_in_parallel,
    trace_id_of,
    wait_for_tree,
)
from tests.standins.otlp import OtlpReceiver
from tests.standins.xray_daemon import XRayDaemon

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def daemon() -> Iterator[XRayDaemon]:
    listener = XRayDaemon().start()
    yield listener
    listener.stop()
    assert listener.invalid == [], "every document the daemon received must be valid"


def test_trees_are_whole_under_the_asyncio_loop_too(
    tmp_path: Path, otlp: OtlpReceiver, daemon: XRayDaemon
) -> None:
    """With SERVER_LOOP=asyncio, 20 concurrent requests also give 20 complete trees."""
    running = Stack(tmp_path, daemon_env(tmp_path, otlp, daemon, "asyncio")).start()
    try:
        responses = requests_in_parallel(f"{running.gateway}/api/activities/home")
        assert [r.status_code for r in responses] == [200] * 20
        for trace_id in {trace_id_of(r) for r in responses}:
            assert sorted(s["name"] for s in wait_for_tree(daemon, trace_id, HOME_EDGES)) == sorted(HOME)
    finally:
        running.stop()


def test_daemon_down_changes_nothing_for_requests(tmp_path: Path, otlp: OtlpReceiver) -> None:
    """With nothing listening at the daemon address, every service answers as usual and quickly."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    env = base_env(OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint, AWS_XRAY_DAEMON_ADDRESS=dead)
    running = Stack(tmp_path, env).start()
    try:
        assert "x-amzn-trace-id" in feed_answers_quickly(running.gateway).headers
    finally:
        running.stop()
    assert "Traceback" not in running.services["gateway"].output()
