"""Each request through three real processes is one valid X-Ray tree with the OTel trace's id."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import Stack
from tests.e2e.xray_checks import (
    HOME,
    HOME_EDGES,
    assert_mirrors_otel,
    daemon_env,
    requests_in_parallel,
    trace_id_of,
    wait_for_tree,
    xray_edges,
    xray_id,
)
from tests.standins.cloudwatch import CloudWatchStandIn
from tests.standins.otlp import OtlpReceiver
from tests.standins.xray_daemon import XRayDaemon, walk

pytestmark = pytest.mark.e2e

PROFILE_EDGES = HOME_EDGES | {("gateway", "users")}
LOG_GROUP = "/cruddur/gateway"


@pytest.fixture(scope="module")
def daemon() -> Iterator[XRayDaemon]:
    listener = XRayDaemon().start()
    yield listener
    listener.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    otlp: OtlpReceiver,
    daemon: XRayDaemon,
    cloudwatch: CloudWatchStandIn,
) -> Iterator[Stack]:
    """The three services under uvloop; activities streams every closed subsegment on its own; the gateway
    trusts its caller's sampling decision, as behind a proxy that samples (these tests send decisions)."""
    tmp = tmp_path_factory.mktemp("xray")
    gateway_logs = {
        "TRUST_INCOMING_SAMPLING": "true",
        "CLOUDWATCH_LOG_GROUP": LOG_GROUP,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": cloudwatch.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    per_service = {"activities": {"XRAY_STREAMING_THRESHOLD": "0"}, "gateway": gateway_logs}
    running = Stack(tmp, daemon_env(tmp, otlp, daemon, "uvloop"), per_service=per_service).start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_invalid_documents(daemon: XRayDaemon) -> Iterator[None]:
    yield
    assert daemon.invalid == [], "every document the daemon received must be valid"


def test_home_feed_is_one_three_service_tree(stack: Stack, daemon: XRayDaemon, otlp: OtlpReceiver) -> None:
    """Segments of all three services share the OTel trace id, and each parent is the caller's subsegment."""
    response = httpx.get(f"{stack.gateway}/api/activities/home")
    assert response.status_code == 200
    trace_id = trace_id_of(response)
    assert response.headers["x-amzn-trace-id"] == f"Root={xray_id(trace_id)};Sampled=1"
    segments = wait_for_tree(daemon, trace_id, HOME_EDGES)
    assert xray_edges(segments) == HOME_EDGES and {s["name"] for s in segments} == HOME
    assert_mirrors_otel(segments, otlp, trace_id)
    [gateway] = [s for s in segments if s["name"] == "gateway"]
    assert gateway["aws"]["cloudwatch_logs"] == [{"log_group": LOG_GROUP}]
    assert gateway["annotations"]["route"] == "/api/activities/home"
    queries = [e for s in segments for e in walk(s) if "sql" in e]
    assert {q["trace_id"] for q in queries} == {xray_id(trace_id)} and len(queries) >= 2


def test_profile_page_fans_out_from_the_gateway(stack: Stack, daemon: XRayDaemon, otlp: OtlpReceiver) -> None:
    """The concurrent calls of the profile page are sibling subsegments, each parent of one segment."""
    response = httpx.get(f"{stack.gateway}/api/activities/@worf")
    assert response.status_code == 200
    segments = wait_for_tree(daemon, trace_id_of(response), PROFILE_EDGES)
    assert xray_edges(segments) == PROFILE_EDGES
    assert_mirrors_otel(segments, otlp, trace_id_of(response))


def test_streamed_subsegments_are_put_back_in_their_tree(stack: Stack, daemon: XRayDaemon) -> None:
    """activities sends its subsegments as their own documents; the tree is whole and every datagram small."""
    response = httpx.get(f"{stack.gateway}/api/activities/home")
    segments = wait_for_tree(daemon, trace_id_of(response), HOME_EDGES)
    assert daemon.streamed(xray_id(trace_id_of(response))) >= 2
    [activities] = [s for s in segments if s["name"] == "activities"]
    assert {"sql" in sub for sub in activities["subsegments"]} == {True, False}, "a query and a call"
    assert max(daemon.sizes) < 64_000


def test_twenty_concurrent_requests_give_twenty_trees(stack: Stack, daemon: XRayDaemon) -> None:
    """20 requests at once give 20 separate trees of three segments, none mixed with another."""
    responses = requests_in_parallel(f"{stack.gateway}/api/activities/home")
    assert [r.status_code for r in responses] == [200] * 20
    trace_ids = {trace_id_of(r) for r in responses}
    assert len(trace_ids) == 20
    for trace_id in trace_ids:
        segments = wait_for_tree(daemon, trace_id, HOME_EDGES)
        assert sorted(s["name"] for s in segments) == sorted(HOME)
        assert {e["trace_id"] for s in segments for e in walk(s) if "trace_id" in e} == {xray_id(trace_id)}


ROOT = "1-5759e988-bd862e3fe1be46a994272793"


def test_xray_header_alone_continues_the_trace_in_both_systems(
    stack: Stack, daemon: XRayDaemon, otlp: OtlpReceiver
) -> None:
    """A request with only X-Amzn-Trace-Id keeps its trace id in OTel and X-Ray, under the given parent."""
    header = f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
    response = httpx.get(f"{stack.gateway}/api/activities/home", headers={"X-Amzn-Trace-Id": header})
    assert response.status_code == 200 and xray_id(trace_id_of(response)) == ROOT
    segments = wait_for_tree(daemon, trace_id_of(response), HOME_EDGES)
    [gateway] = [s for s in segments if s["name"] == "gateway"]
    assert gateway["parent_id"] == "53995c3f42cd8ad8"
    assert_mirrors_otel([s for s in segments if s["name"] != "gateway"], otlp, trace_id_of(response))


@pytest.mark.parametrize(
    "header",
    [
        "Root=1-zzzz;Parent=53995c3f42cd8ad8;Sampled=1",
        f"Root={ROOT};Sampled=1;Parent=",
        f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=x",
        "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1",
        f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=" + "a" * 4000,
        "\u00e9;;;=",
    ],
)
def test_malformed_xray_header_gets_200_and_a_new_trace(
    stack: Stack, daemon: XRayDaemon, header: str
) -> None:
    """A malformed X-Amzn-Trace-Id is ignored: 200, and a fresh complete tree under a new trace id."""
    response = httpx.get(
        f"{stack.gateway}/api/activities/home", headers={b"X-Amzn-Trace-Id": header.encode("utf-8")}
    )
    assert response.status_code == 200
    assert xray_id(trace_id_of(response)) != ROOT
    wait_for_tree(daemon, trace_id_of(response), HOME_EDGES)


def test_unsampled_request_sends_no_segments(stack: Stack, daemon: XRayDaemon) -> None:
    """A caller's decision not to sample is followed by all three services: no documents for that trace."""
    trace_id = "5f3c1a2b" + "0" * 8 + "fedcba9876543210"
    response = httpx.get(
        f"{stack.gateway}/api/activities/home", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"}
    )
    assert response.status_code == 200
    assert response.headers["x-amzn-trace-id"] == f"Root={xray_id(trace_id)};Sampled=0"
    sampled = httpx.get(f"{stack.gateway}/api/activities/home")
    wait_for_tree(daemon, trace_id_of(sampled), HOME_EDGES)  # later than anything the first could send
    time.sleep(0.3)
    assert daemon.trace(xray_id(trace_id)) == []
