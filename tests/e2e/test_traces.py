"""One request through the gateway is one trace across three real processes, as OTLP receives it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.harness import Stack, base_env, feed_answers_quickly, free_port, poll
from tests.standins.otlp import OtlpReceiver, ReceivedSpan
from tests.topology import edges, roots
from tests.xray_stub import rules_file

pytestmark = pytest.mark.e2e

HOME_EDGES = {("gateway", "activities"), ("activities", "users")}
PROFILE_EDGES = {("gateway", "activities"), ("gateway", "users"), ("activities", "users")}


def trace_id_of(response: httpx.Response) -> str:
    version, trace_id, span_id, flags = response.headers["traceresponse"].split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    assert int(flags, 16) & 1, "the gateway's own decision is to sample"
    return trace_id


def wait_for_edges(otlp: OtlpReceiver, trace_id: str, expected: set[tuple[str, str]]) -> list[ReceivedSpan]:
    def complete() -> list[ReceivedSpan] | None:
        # Services export in their own batches: the trace is whole once every edge is there and
        # the gateway's server span (it ends last) has arrived.
        spans = otlp.trace(trace_id)
        arrived = any(s.service == "gateway" and s.kind == "SERVER" for s in spans)
        return spans if arrived and expected <= edges(spans) else None

    return poll(complete, what=f"edges {sorted(expected)} in trace {trace_id}")


def test_home_feed_is_one_trace_across_three_services(traced_stack: Stack, otlp: OtlpReceiver) -> None:
    """The home feed's spans from all three processes share one trace id, rooted at the gateway."""
    response = httpx.get(f"{traced_stack.gateway}/api/activities/home")
    assert response.status_code == 200
    assert all(post["author"] for post in response.json())
    trace_id = trace_id_of(response)
    spans = wait_for_edges(otlp, trace_id, HOME_EDGES)
    assert edges(spans) == HOME_EDGES
    [root] = roots(spans)
    assert (root.service, root.kind, root.name) == ("gateway", "SERVER", "GET /api/activities/home")
    enrich = [s for s in spans if s.name == "activities.enrich_authors"]
    assert enrich and enrich[0].attributes["app.result_length"] == len(response.json())
    queries = {s.service: s for s in spans if "db.query.text" in s.attributes}
    assert set(queries) == {"activities", "users"}, "each store's query is a span of that service"
    assert queries["users"].kind == "CLIENT" and "?" in str(queries["users"].attributes["db.query.text"])
    assert not [s for s in spans if s.name.endswith(("http send", "http receive"))]


def test_profile_page_calls_users_and_activities_from_the_gateway(
    traced_stack: Stack, otlp: OtlpReceiver
) -> None:
    """The profile page fans out from the gateway to both services within one trace."""
    response = httpx.get(f"{traced_stack.gateway}/api/activities/@worf")
    assert response.status_code == 200
    spans = wait_for_edges(otlp, trace_id_of(response), PROFILE_EDGES)
    assert edges(spans) == PROFILE_EDGES


def test_incoming_traceparent_is_continued(traced_stack: Stack, otlp: OtlpReceiver) -> None:
    """A request that arrives with a W3C traceparent continues that trace in every service."""
    trace_id, parent = "5f3c1a2b" + "0" * 8 + "1234567890abcdef", "00f067aa0ba902b7"
    response = httpx.get(
        f"{traced_stack.gateway}/api/activities/home", headers={"traceparent": f"00-{trace_id}-{parent}-01"}
    )
    assert trace_id_of(response) == trace_id
    spans = wait_for_edges(otlp, trace_id, HOME_EDGES)
    [root] = roots(spans)
    assert root.parent_span_id == parent


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "00-xyz-abc-01",
        "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
    ],
)
def test_malformed_traceparent_starts_a_new_trace(
    traced_stack: Stack, otlp: OtlpReceiver, header: str
) -> None:
    """A malformed traceparent is ignored: the request gets 200 and a fresh, complete trace."""
    response = httpx.get(f"{traced_stack.gateway}/api/activities/home", headers={"traceparent": header})
    assert response.status_code == 200
    trace_id = trace_id_of(response)
    assert trace_id not in header
    wait_for_edges(otlp, trace_id, HOME_EDGES)


def test_enduser_is_on_the_server_span_of_every_service(traced_stack: Stack, otlp: OtlpReceiver) -> None:
    """The token's user is recorded as enduser.id on each service's server span; a claimed one is not."""
    from services.gateway.auth import mint
    from services.gateway.settings import DEV_AUTH_SECRET

    response = httpx.post(
        f"{traced_stack.gateway}/api/activities",
        json={"message": "traced post"},
        headers={"Authorization": f"Bearer {mint('worf', DEV_AUTH_SECRET)}", "baggage": "enduser.id=garek"},
    )
    assert response.status_code == 201, response.text
    spans = wait_for_edges(otlp, trace_id_of(response), {("gateway", "activities"), ("activities", "users")})
    servers = {s.service: s.attributes.get("enduser.id") for s in spans if s.kind == "SERVER"}
    assert servers == {"gateway": "worf", "activities": "worf", "users": "worf"}

    anonymous = httpx.get(
        f"{traced_stack.gateway}/api/activities/home", headers={"baggage": "enduser.id=garek"}
    )
    spans = wait_for_edges(otlp, trace_id_of(anonymous), HOME_EDGES)
    assert [s.attributes.get("enduser.id") for s in spans if s.kind == "SERVER"] == [None] * 3


def test_healthz_is_not_traced(traced_stack: Stack, otlp: OtlpReceiver) -> None:
    """Liveness checks make no spans."""
    for _ in range(3):
        assert httpx.get(f"{traced_stack.gateway}/healthz").status_code == 200
    httpx.get(f"{traced_stack.gateway}/api/activities/home")
    poll(lambda: otlp.snapshot() or None, what="any span")
    time.sleep(0.3)
    assert not [s for s in otlp.snapshot() if "healthz" in s.name]


def test_unreachable_exporter_changes_nothing_for_requests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With the OTLP endpoint down, every service answers as usual and quickly."""
    dead = f"http://127.0.0.1:{free_port()}"
    stack = Stack(tmp_path, base_env(OTEL_EXPORTER_OTLP_ENDPOINT=dead, OTEL_BSP_SCHEDULE_DELAY="50")).start()
    try:
        assert "traceresponse" in feed_answers_quickly(stack.gateway).headers
    finally:
        stack.stop()


def test_trace_context_flows_with_no_backend_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With no telemetry variables, the gateway still continues traceparent and answers traceresponse."""
    stack = Stack(tmp_path, base_env()).start()
    try:
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        response = httpx.get(
            f"{stack.gateway}/api/activities/home",
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        assert response.status_code == 200 and trace_id_of(response) == trace_id
        assert "not exporting" in stack.services["users"].output()
    finally:
        stack.stop()


def test_stop_is_bounded_with_every_backend_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After load with every backend unreachable, each service exits within compose's 20 s grace period."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = base_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=dead,
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{free_port()}",
        XRAY_SAMPLING_RULES=str(rules_file(tmp_path)),
        ROLLBAR_ACCESS_TOKEN="unused-token",
        ROLLBAR_ENDPOINT=f"{dead}/api/1",
        CLOUDWATCH_LOG_GROUP="/cruddur/stop",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=dead,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    stack = Stack(tmp_path, env).start()
    try:
        with ThreadPoolExecutor(8) as pool:  # enough spans to fill export batches the exporter retries
            list(pool.map(lambda _: httpx.get(f"{stack.gateway}/api/activities/home"), range(400)))
        httpx.get(f"{stack.gateway}/api/debug/error")
    finally:
        took = {}
        for name in ("gateway", "activities", "users"):
            started = time.monotonic()
            stack.services[name].stop(timeout=30)
            took[name] = time.monotonic() - started
    # Flush (3 s), Rollbar and CloudWatch close (3 s each) and the span exporter (3 s) are each bounded.
    assert max(took.values()) < 18, f"stopping took {took}"
