"""Errors reach Rollbar and log lines reach CloudWatch, each stamped with the trace of the request."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET
from tests.e2e.harness import Stack, poll, traced_env
from tests.standins.cloudwatch import CREDENTIALS, REGION, CloudWatchStandIn
from tests.standins.otlp import OtlpReceiver
from tests.standins.rollbar import RollbarStandIn

pytestmark = pytest.mark.e2e

GROUP = "/cruddur/e2e"
RATE_LIMIT = 3
XRAY_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    otlp: OtlpReceiver,
    cloudwatch: CloudWatchStandIn,
    rollbar: RollbarStandIn,
) -> Iterator[Stack]:
    """The three services with tracing, Rollbar and CloudWatch Logs all on, against local stand-ins."""
    env = traced_env(
        otlp.endpoint,
        **rollbar.env(),
        ROLLBAR_RATE_LIMIT=str(RATE_LIMIT),
        ROLLBAR_HOURLY_BUDGET="1000",  # these tests report more errors per service than the free-tier budget
        CLOUDWATCH_LOG_GROUP=GROUP,
        CLOUDWATCH_SEND_INTERVAL="0.2",
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=cloudwatch.endpoint,
        HONEYCOMB_TEAM="cruddur",
        HONEYCOMB_ENVIRONMENT="test",
        **CREDENTIALS,
    )
    running = Stack(tmp_path_factory.mktemp("reporting"), env).start()
    yield running
    running.stop()


def trace_id_of(response: httpx.Response) -> str:
    return response.headers["traceresponse"].split("-")[1]


def token(handle: str = "andrewbrown") -> str:
    return mint(handle, DEV_AUTH_SECRET)


def lines_of(cloudwatch: CloudWatchStandIn, trace_id: str) -> dict[str, list[dict[str, Any]]]:
    """The CloudWatch events of one trace, by service (the stream is `<service>/<host>`)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for stream, events in cloudwatch.events(GROUP).items():
        mine = [e for e in events if e.get("trace_id") == trace_id]
        if mine:
            found.setdefault(stream.split("/")[0], []).extend(mine)
    return found


def test_every_service_ships_json_lines_with_the_trace_id(
    stack: Stack, cloudwatch: CloudWatchStandIn
) -> None:
    """After one home-feed request, each service's stream holds its JSON access line for that trace."""
    response = httpx.get(f"{stack.gateway}/api/activities/home")
    assert response.status_code == 200
    trace_id = trace_id_of(response)

    def all_three() -> dict[str, list[dict[str, Any]]] | None:
        found = lines_of(cloudwatch, trace_id)
        return found if set(found) == {"gateway", "activities", "users"} else None

    found = poll(all_three, what=f"lines of trace {trace_id} in every stream")
    for service, events in found.items():
        access = [e for e in events if e["logger"] == "cruddur.access"]
        assert len(access) == 1, f"one access line per request in {service}"
        line = access[0]
        assert line["service"] == service and line["level"] == "INFO" and line["http_status"] == 200
        assert XRAY_ID.match(line["xray_trace_id"]) and line["xray_trace_id"].replace("-", "")[1:] == trace_id
        assert line["span_id"] and line["route"] and line["duration_ms"] >= 0
    assert found["gateway"][0]["route"] == "/api/activities/home"


def test_error_in_users_is_one_item_reported_by_users(
    stack: Stack, rollbar: RollbarStandIn, cloudwatch: CloudWatchStandIn, otlp: OtlpReceiver
) -> None:
    """`?service=users` is a 502 only users reports (SDK-built, with trace and user); the gateway logs it."""
    response = httpx.get(
        f"{stack.gateway}/api/debug/error",
        params={"service": "users"},
        headers={"Authorization": f"Bearer {token()}"},
    )
    assert response.status_code == 502 and response.json()["service"] == "users"
    trace_id = trace_id_of(response)
    [item] = poll(lambda: rollbar.for_trace(trace_id) or None, what="the item of the users error")
    time.sleep(1.0)  # a second item (from activities or gateway) would have arrived by now
    assert rollbar.for_trace(trace_id) == [item]
    assert item["custom"]["service"] == "users" and item["person"]["id"] == "andrewbrown"
    assert item["body"]["trace"]["exception"]["class"] == "DeliberateError"
    assert item["request"]["route"] == "/debug/error" and item["request"]["method"] == "GET"
    assert item["environment"] == "development" and item["code_version"] == "0.1.0"
    assert item["notifier"]["name"] == "pyrollbar", "the rollbar SDK built the item"
    innermost = item["body"]["trace"]["frames"][-1]
    assert innermost["filename"].endswith("services/common/debug.py") and innermost["method"] == "debug_error"
    assert innermost["code"].startswith("raise DeliberateError(")

    def users_span_with_uuid() -> Any:
        spans = [s for s in otlp.trace(trace_id) if s.service == "users" and s.kind == "SERVER"]
        return spans[0] if spans and spans[0].attributes.get("rollbar.item.uuid") else None

    span = poll(users_span_with_uuid, what="the users server span with the item's uuid")
    assert span.attributes["rollbar.item.uuid"] == item["uuid"] and "exception" in span.events

    def gateway_warning() -> Any:
        events = lines_of(cloudwatch, trace_id).get("gateway", [])
        return [e for e in events if e["logger"] == "services.common.downstream"] or None

    [warning] = poll(gateway_warning, what="the gateway's log line of the 502")
    assert warning["level"] == "WARNING" and warning["user"] == "andrewbrown"


def test_gateway_error_item_has_person_links_and_scrubbed_headers(
    stack: Stack, rollbar: RollbarStandIn
) -> None:
    """A gateway error's item names the user and trace links, and no secret header reaches Rollbar."""
    secret = token()
    response = httpx.get(
        f"{stack.gateway}/api/debug/error",
        params={"api_key": "k-123-secret"},
        headers={"Authorization": f"Bearer {secret}", "Cookie": "session=s3cr3t", "X-Api-Token": "t0ken"},
    )
    assert response.status_code == 500
    trace_id = trace_id_of(response)
    [item] = poll(lambda: rollbar.for_trace(trace_id) or None, what="the item of the gateway error")
    assert item["person"] == {"id": "andrewbrown", "username": "andrewbrown"}
    headers = item["request"]["headers"]
    assert headers["authorization"] == headers["cookie"] == headers["x-api-token"] == "[REDACTED]"
    raw = json.dumps(item)
    for leaked in (secret, "s3cr3t", "t0ken", "k-123-secret"):
        assert leaked not in raw
    custom = item["custom"]
    assert custom["trace_id"] == trace_id and XRAY_ID.match(custom["xray_trace_id"]) and custom["span_id"]
    assert custom["links"]["honeycomb"].endswith(f"/cruddur/environments/test/trace?trace_id={trace_id}")
    assert custom["links"]["xray"].endswith(f"#xray:traces/{custom['xray_trace_id']}")


def test_client_errors_are_not_reported(stack: Stack, rollbar: RollbarStandIn) -> None:
    """404, 401 and 422 answers make no Rollbar item; an error sent after them does."""
    url = f"{stack.gateway}/api/activities"
    quiet = [
        httpx.get(f"{url}/@nobody"),
        httpx.post(url, json={"message": "hi"}),
        httpx.post(url, json={"message": ""}, headers={"Authorization": f"Bearer {token()}"}),
    ]
    assert [r.status_code for r in quiet] == [404, 401, 422]
    marker = httpx.get(f"{stack.gateway}/api/debug/error", params={"service": "users"})
    poll(lambda: rollbar.for_trace(trace_id_of(marker)) or None, what="the marker error's item")
    time.sleep(0.5)
    assert not [item for r in quiet for item in rollbar.for_trace(trace_id_of(r))]


def test_repeated_errors_are_rate_limited_per_fingerprint(stack: Stack, rollbar: RollbarStandIn) -> None:
    """Eight identical activities errors in a row make ROLLBAR_RATE_LIMIT items, no more."""
    traces = []
    for _ in range(8):
        response = httpx.get(f"{stack.gateway}/api/debug/error", params={"service": "activities"})
        assert response.status_code == 502
        traces.append(trace_id_of(response))

    def reported() -> list[dict[str, Any]]:
        return [item for trace_id in traces for item in rollbar.for_trace(trace_id)]

    poll(lambda: len(reported()) >= RATE_LIMIT or None, what=f"{RATE_LIMIT} items")
    time.sleep(1.0)
    assert len(reported()) == RATE_LIMIT
    assert {item["custom"]["service"] for item in reported()} == {"activities"}
    assert len({item["fingerprint"] for item in reported()}) == 1
