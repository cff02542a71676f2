"""Under load, no callback in any service holds its event loop: asyncio's debug mode logs none."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Stack, free_port, traced_env
from tests.standins.cloudwatch import CloudWatchStandIn
from tests.standins.otlp import OtlpReceiver

pytestmark = pytest.mark.e2e

# Wall-clock, as asyncio measures it: on 2 cores shared by three services, the load and the OTLP
# receiver, task steps that only await aiosqlite were seen at 100-180 ms from scheduling alone, so
# asyncio's default of 100 ms flakes; a blocking network call in the telemetry path takes far longer.
SLOW_MS = 250
CONCURRENCY, WARM_UP, SECONDS = 16, 1.0, 4.0
ROUTES = ("/api/activities/home", "/api/activities/@worf")


@pytest.fixture(scope="module")
def watched_stack(
    tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver, cloudwatch: CloudWatchStandIn
) -> Iterator[Stack]:
    """Every service with all its telemetry on (100% sampling) and slow-callback logging on.

    X-Ray datagrams go to a bound socket nobody reads, Rollbar to a closed port (it only posts on
    errors), log lines to moto as CloudWatch Logs.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        env = traced_env(
            otlp.endpoint,
            AWS_XRAY_SDK_ENABLED="true",
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
            ROLLBAR_ACCESS_TOKEN="no-blocking-test-token",
            ROLLBAR_ENDPOINT=f"http://127.0.0.1:{free_port()}/api/1/",
            CLOUDWATCH_LOG_GROUP="/cruddur/no-blocking",
            CLOUDWATCH_SEND_INTERVAL="0.5",
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL=cloudwatch.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            ASYNCIO_SLOW_CALLBACK_MS=str(SLOW_MS),
        )
        stack = Stack(tmp_path_factory.mktemp("watched"), env).start()
        yield stack
        stack.stop()


async def drive(gateway: str, seconds: float) -> list[int]:
    statuses: list[int] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:

        async def worker(n: int) -> None:
            while time.monotonic() < deadline:
                statuses.append((await http.get(ROUTES[n % len(ROUTES)])).status_code)

        await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return statuses


def slow_callbacks(log: Path, offset: int) -> list[str]:
    lines = log.read_text(errors="replace")[offset:].splitlines()
    return [line for line in lines if "Executing" in line and "took" in line]


def test_no_slow_callback_under_load(watched_stack: Stack) -> None:
    """16 concurrent clients for 4 s through three traced services log no callback over 250 ms."""
    services = watched_stack.services.values()
    for service in services:
        assert "asyncio debug on" in service.output(), f"{service.name} runs without slow-callback logging"
        active = httpx.get(f"{service.url}/healthz").json()["telemetry"]
        assert active == ["otel", "otlp", "xray-sdk", "rollbar", "cloudwatch"], (
            f"{service.name}: only {active} on"
        )
    # The first requests pay one-off costs (imports on first use, filling the connection pools).
    assert set(asyncio.run(drive(watched_stack.gateway, WARM_UP))) == {200}
    offsets = {s.name: len(s.output()) for s in services}
    statuses = asyncio.run(drive(watched_stack.gateway, SECONDS))
    assert len(statuses) > 50 and set(statuses) == {200}
    found = {s.name: slow_callbacks(s.log_path, offsets[s.name]) for s in services}
    assert found == {"users": [], "activities": [], "gateway": []}
