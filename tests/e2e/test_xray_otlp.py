"""X-Ray from the same spans, in process: three real services sign OTLP to a SigV4-checking stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import Stack, poll
from tests.e2e.test_traces import HOME_EDGES, trace_id_of, wait_for_edges
from tests.e2e.xray_checks import xray_env
from tests.standins.cloudwatch import CloudWatchStandIn
from tests.standins.otlp import OtlpReceiver, ReceivedSpan
from tests.standins.xray_otlp import ACCESS_KEY, REGION, SECRET_KEY, XrayOtlpReceiver
from tests.topology import edges

pytestmark = pytest.mark.e2e

LOG_GROUP = "/cruddur/xray-otlp"


@pytest.fixture(scope="module")
def xray() -> Iterator[XrayOtlpReceiver]:
    receiver = XrayOtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    otlp: OtlpReceiver,
    xray: XrayOtlpReceiver,
    cloudwatch: CloudWatchStandIn,
) -> Iterator[Stack]:
    """The three services with XRAY_EXPORTER=otlp, the stand-in's credentials, and a log group."""
    tmp = tmp_path_factory.mktemp("xray-otlp")
    env = xray_env(
        tmp,
        otlp,
        XRAY_EXPORTER="otlp",
        XRAY_OTLP_ENDPOINT=xray.traces_url,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        CLOUDWATCH_LOG_GROUP=LOG_GROUP,
        AWS_ENDPOINT_URL=cloudwatch.endpoint,
    )
    running = Stack(tmp, env).start()
    yield running
    running.stop()


def xray_tree(xray: XrayOtlpReceiver, trace_id: str, count: int) -> list[ReceivedSpan]:
    """The trace's spans as X-Ray received them, once `count` have arrived."""

    def complete() -> list[ReceivedSpan] | None:
        spans = xray.trace(trace_id)
        return spans if len(spans) >= count else None

    return poll(complete, what=f"{count} spans of {trace_id} at the X-Ray endpoint")


def test_xray_receives_the_same_three_service_tree_signed(
    stack: Stack, otlp: OtlpReceiver, xray: XrayOtlpReceiver
) -> None:
    """Each request reaches X-Ray's endpoint, signed, as the very spans the OTLP backend got: one tree."""
    from services.gateway.auth import mint
    from services.gateway.settings import DEV_AUTH_SECRET

    token = mint("worf", DEV_AUTH_SECRET)
    response = httpx.get(f"{stack.gateway}/api/activities/home", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    trace_id = trace_id_of(response)
    assert response.headers["x-amzn-trace-id"] == f"Root=1-{trace_id[:8]}-{trace_id[8:]};Sampled=1"
    otel = wait_for_edges(otlp, trace_id, HOME_EDGES)
    sent = xray_tree(xray, trace_id, len(otel))
    assert {s.span_id for s in sent} == {s.span_id for s in otel}, "the same spans, not copies"
    assert edges(sent) == HOME_EDGES
    accepted, forbidden = xray.counts()
    assert accepted >= 1 and forbidden == 0 and set(xray.access_keys) == {ACCESS_KEY}


def test_spans_carry_what_xray_shows(stack: Stack, xray: XrayOtlpReceiver) -> None:
    """Server spans name their annotations and the user; the resource names the log group to pivot to."""
    from services.gateway.auth import mint
    from services.gateway.settings import DEV_AUTH_SECRET

    response = httpx.post(
        f"{stack.gateway}/api/activities",
        json={"message": "seen in X-Ray"},
        headers={"Authorization": f"Bearer {mint('garek', DEV_AUTH_SECRET)}"},
    )
    assert response.status_code == 201, response.text
    trace_id = trace_id_of(response)

    def every_server() -> list[ReceivedSpan] | None:
        servers = [s for s in xray.trace(trace_id) if s.kind == "SERVER"]
        return servers if {s.service for s in servers} == {"gateway", "activities", "users"} else None

    for span in poll(every_server, what=f"the three server spans of {trace_id}"):
        indexed = ["http.route", "enduser.id", "fault.injected", "fault.kind"]  # fault.*: where one fired
        assert span.attributes["aws.xray.annotations"] == indexed
        assert span.attributes["enduser.id"] == "garek" and span.attributes["http.route"]
        assert span.resource["aws.log.group.names"] == [LOG_GROUP]
