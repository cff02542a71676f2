"""Rollbar slow or down and CloudWatch hung, down or back: requests answer as usual, memory stays bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import Stack, base_env, free_port, poll
from tests.standins.cloudwatch import CREDENTIALS, REGION, CloudWatchStandIn, HungEndpoint
from tests.standins.otlp import OtlpReceiver
from tests.standins.rollbar import RollbarStandIn

pytestmark = pytest.mark.e2e

GROUP = "/cruddur/outage"
QUEUE = 40
ROLLBAR_DELAY = 5.0


@pytest.fixture(scope="module")
def slow_rollbar() -> Iterator[RollbarStandIn]:
    standin = RollbarStandIn(delay=ROLLBAR_DELAY).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def cloudwatch_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def hung(cloudwatch_port: int) -> Iterator[HungEndpoint]:
    endpoint = HungEndpoint(cloudwatch_port).start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    otlp: OtlpReceiver,
    slow_rollbar: RollbarStandIn,
    hung: HungEndpoint,
) -> Iterator[Stack]:
    """CloudWatch hangs from the start; Rollbar answers after 5 s for gateway and is down for activities."""
    env = base_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint,
        **slow_rollbar.env(),
        CLOUDWATCH_LOG_GROUP=GROUP,
        CLOUDWATCH_SEND_INTERVAL="0.2",
        CLOUDWATCH_QUEUE_SIZE=str(QUEUE),
        CLOUDWATCH_RETRY_MAX="1",
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=hung.endpoint,
        **CREDENTIALS,
    )
    down = {"ROLLBAR_ENDPOINT": f"http://127.0.0.1:{free_port()}/api/1"}
    running = Stack(tmp_path_factory.mktemp("outage"), env, per_service={"activities": down}).start()
    yield running
    running.stop()


def timed_get(url: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_hung_cloudwatch_changes_no_answer_and_drops_are_counted(stack: Stack) -> None:
    """CloudWatch hanging: 150 requests answer 200 quickly; lines past the bound are dropped and reported."""
    for _ in range(150):
        response, seconds = timed_get(f"{stack.gateway}/api/activities/home")
        assert response.status_code == 200 and len(response.json()) == 5
        assert seconds < 2.0

    def dropped_enough() -> int | None:
        counts = [
            int(str(line["cloudwatch_dropped"]))
            for line in json_lines(stack.services["gateway"].output())
            if "cloudwatch_dropped" in line
        ]
        # At most the queue and one line in hand are kept: every other access line is dropped.
        return max(counts) if counts and max(counts) >= 150 - QUEUE - 1 else None

    # Reported between attempts to reach CloudWatch, each of which waits for botocore's timeouts.
    poll(dropped_enough, timeout=30, what="the gateway's report of dropped lines")
    every_line = json_lines(stack.services["gateway"].output())
    assert sum(1 for line in every_line if line.get("logger") == "cruddur.access") >= 150, "stdout keeps all"


def test_slow_or_down_rollbar_does_not_delay_the_error_response(
    stack: Stack, slow_rollbar: RollbarStandIn
) -> None:
    """A 5 s Rollbar gets its item, yet the 500 (gateway) and 502 (activities, Rollbar down) come at once."""
    response, seconds = timed_get(f"{stack.gateway}/api/debug/error")
    assert response.status_code == 500 and seconds < 2.0
    response, seconds = timed_get(f"{stack.gateway}/api/debug/error", params={"service": "activities"})
    assert response.status_code == 502 and seconds < 2.0
    for _ in range(5):
        assert timed_get(f"{stack.gateway}/api/activities/home")[0].status_code == 200
    poll(lambda: slow_rollbar.snapshot() or None, timeout=ROLLBAR_DELAY + 10, what="the slow item")
    assert {item["custom"]["service"] for item in slow_rollbar.snapshot()} == {"gateway"}

    def unreachable_logged() -> bool:
        return "Rollbar unreachable" in stack.services["activities"].output()

    poll(unreachable_logged, what="activities logging that Rollbar is down")


def test_shipping_resumes_when_cloudwatch_comes_back_and_after_an_outage(
    stack: Stack, hung: HungEndpoint, cloudwatch_port: int
) -> None:
    """Once CloudWatch answers, new lines arrive; it goes down under load (all 200) and resumes again."""
    hung.stop()
    cloudwatch = CloudWatchStandIn(cloudwatch_port).start()
    try:
        wait_until_shipping(stack, cloudwatch)
        cloudwatch.stop()
        for _ in range(60):
            response, seconds = timed_get(f"{stack.gateway}/api/activities/home")
            assert response.status_code == 200 and seconds < 2.0
        cloudwatch.start()
        wait_until_shipping(stack, cloudwatch)
    finally:
        cloudwatch.stop()


def wait_until_shipping(stack: Stack, cloudwatch: CloudWatchStandIn) -> None:
    """Send requests until the access line of one of them is in the gateway's stream."""
    sent: set[str] = set()

    def arrived() -> bool:
        response = httpx.get(f"{stack.gateway}/api/activities/home")
        sent.add(response.headers["traceresponse"].split("-")[1])
        gateway = [es for stream, es in cloudwatch.events(GROUP).items() if stream.startswith("gateway/")]
        return any(e.get("trace_id") in sent for events in gateway for e in events)

    poll(arrived, timeout=30, interval=0.5, what="a new line of the gateway in CloudWatch")
