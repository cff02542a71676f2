"""Faults in baggage, on three real processes: each kind fires where it is sent and shows everywhere."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import Stack, poll, traced_env
from tests.standins.otlp import OtlpReceiver, ReceivedSpan
from tests.standins.rollbar import RollbarStandIn

pytestmark = pytest.mark.e2e

SECRET = "e2e-fault-secret"
GATEWAY_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver, rollbar: RollbarStandIn
) -> Iterator[Stack]:
    """The three services with faults on, a fault secret at the gateway and a short gateway timeout."""
    env = traced_env(otlp.endpoint, **rollbar.env(), FAULTS_ENABLED="true", FAULTS_MAX_DELAY="5")
    gateway = {"FAULTS_SECRET": SECRET, "DOWNSTREAM_TIMEOUT": str(GATEWAY_TIMEOUT)}
    running = Stack(tmp_path_factory.mktemp("faults"), env, per_service={"gateway": gateway}).start()
    yield running
    running.stop()


def get(stack: Stack, path: str, faults: str, *, secret: str | None = SECRET) -> httpx.Response:
    headers = {"baggage": faults} | ({"X-Fault-Secret": secret} if secret else {})
    return httpx.get(f"{stack.gateway}{path}", headers=headers, timeout=15)


def trace_id_of(response: httpx.Response) -> str:
    return response.headers["traceresponse"].split("-")[1]


def span_of(
    otlp: OtlpReceiver, trace_id: str, service: str, kind: str = "SERVER", name: str | None = None
) -> ReceivedSpan:
    """The one span of that service and kind (and name) in the trace, once it has arrived."""

    def arrived() -> ReceivedSpan | None:
        found = [
            s
            for s in otlp.trace(trace_id)
            if s.service == service and s.kind == kind and name in (None, s.name)
        ]
        return found[0] if len(found) == 1 else None

    return poll(arrived, what=f"the {kind} span of {service} in {trace_id}")


def test_delay_on_users_is_the_users_span_and_the_gateways_latency(stack: Stack, otlp: OtlpReceiver) -> None:
    """`fault.users=delay:700ms`: the feed answers, users' span lasts 700 ms and is marked, and so waits
    the gateway; activities' own span is not marked."""
    started = time.monotonic()
    response = get(stack, "/api/activities/home", "fault.users=delay:700ms")
    assert response.status_code == 200 and len(response.json()) == 5
    assert time.monotonic() - started >= 0.7
    trace_id = trace_id_of(response)
    users = span_of(otlp, trace_id, "users")
    assert users.seconds >= 0.7 and "fault.injected" in users.events
    assert users.attributes["fault.injected"] is True and users.attributes["fault.kind"] == "delay"
    assert users.attributes["fault.delay_ms"] == 700.0
    assert span_of(otlp, trace_id, "gateway").seconds >= 0.7
    assert "fault.injected" not in span_of(otlp, trace_id, "activities").attributes


def test_error_on_activities_is_a_502_and_one_rollbar_item_from_activities(
    stack: Stack, otlp: OtlpReceiver, rollbar: RollbarStandIn
) -> None:
    """`fault.activities=status:503`: a 502 naming activities and the trace, one item that says injected."""
    response = get(stack, "/api/activities/home", "fault.activities=status:503")
    assert response.status_code == 502
    trace_id = trace_id_of(response)
    body = response.json()
    assert body["service"] == "activities" and body["trace_id"] == trace_id
    assert body["detail"] == "activities failed with status 503 (injected fault: status 503 in activities)"
    [item] = poll(lambda: rollbar.for_trace(trace_id) or None, what="the injected error's item")
    time.sleep(1.0)  # a second item (from the gateway) would have arrived by now
    assert rollbar.for_trace(trace_id) == [item]
    assert item["custom"]["service"] == "activities"
    assert item["custom"]["fault"] == {
        "injected": True,
        "kind": "status",
        "spec": "fault.activities=status:503",
        "service": "activities",
    }
    activities = span_of(otlp, trace_id, "activities")
    assert activities.attributes["fault.kind"] == "status" and activities.status_code == 2  # ERROR
    assert activities.attributes["rollbar.item.uuid"] == item["uuid"]


def test_timeout_on_activities_is_a_504_when_the_gateway_gives_up(stack: Stack, otlp: OtlpReceiver) -> None:
    """`fault.activities=timeout`: activities hangs, the gateway's own timeout fires and answers 504."""
    started = time.monotonic()
    response = get(stack, "/api/activities/home", "fault.activities=timeout")
    took = time.monotonic() - started
    assert response.status_code == 504 and GATEWAY_TIMEOUT <= took < GATEWAY_TIMEOUT + 2
    body = response.json()
    assert body["service"] == "activities" and body["trace_id"] == trace_id_of(response)
    assert body["detail"] == "activities did not answer in time"
    activities = span_of(otlp, trace_id_of(response), "activities")
    assert activities.attributes["fault.kind"] == "timeout" and "fault.injected" in activities.events


def test_dropped_connection_is_a_502_naming_the_service(stack: Stack, otlp: OtlpReceiver) -> None:
    """`fault.users.get_user=drop`: users closes the gateway's connection unanswered, a 502 naming users."""
    response = get(stack, "/api/activities/@worf", "fault.users.get_user=drop")
    assert response.status_code == 502
    body = response.json()
    assert body["service"] == "users" and body["detail"].startswith("users is unavailable (")
    users = span_of(otlp, trace_id_of(response), "users", name="GET /users/{handle}")
    assert users.attributes["fault.kind"] == "drop" and users.status_code == 2


def test_slow_query_is_the_database_span(stack: Stack, otlp: OtlpReceiver) -> None:
    """`fault.users=slow_query:500ms`: users' statement span lasts 500 ms and carries the fault."""
    response = get(stack, "/api/activities/home", "fault.users=slow_query:500ms")
    assert response.status_code == 200
    query = span_of(otlp, trace_id_of(response), "users", "CLIENT")
    assert "db.query.text" in query.attributes and query.seconds >= 0.5
    assert query.attributes["fault.kind"] == "slow_query" and "fault.injected" in query.events


def test_client_faults_without_the_secret_are_dropped_at_the_gateway(
    stack: Stack, otlp: OtlpReceiver
) -> None:
    """Without the right X-Fault-Secret, the client's faults go nowhere: a healthy answer, no marked span."""
    for secret in (None, "not-the-secret"):
        response = get(stack, "/api/activities/home", "fault.activities=status:503", secret=secret)
        assert response.status_code == 200
        span_of(otlp, trace_id_of(response), "users")  # the whole trace has arrived
        assert not [s for s in otlp.trace(trace_id_of(response)) if "fault.injected" in s.attributes]


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver) -> Iterator[Stack]:
    """The gateway forwards faults, but users runs in production and activities with faults off."""
    env = traced_env(otlp.endpoint)
    per_service = {
        "gateway": {"FAULTS_ENABLED": "true"},
        "users": {"FAULTS_ENABLED": "true", "ENVIRONMENT": "production"},
    }
    running = Stack(tmp_path_factory.mktemp("guarded"), env, per_service=per_service).start()
    yield running
    running.stop()


def test_faults_are_ignored_when_off_and_in_production(guarded_stack: Stack, otlp: OtlpReceiver) -> None:
    """Faults reach users (production) and activities (off), and neither applies them; users says why."""
    response = get(
        guarded_stack, "/api/activities/home", "fault.users=status:503,fault.activities=status:500"
    )
    assert response.status_code == 200 and len(response.json()) == 5
    span_of(otlp, trace_id_of(response), "users")
    assert not [s for s in otlp.trace(trace_id_of(response)) if "fault.injected" in s.attributes]
    refused = "FAULTS_ENABLED=true refused: ENVIRONMENT=production, no fault will be injected"
    assert refused in guarded_stack.services["users"].output()
    assert refused not in guarded_stack.services["activities"].output()
