"""X-Ray settings, the root sampler backed by the rules, the emitter, and the transport's header."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision

from observability import Telemetry
from observability.otel.propagation import use_project_propagation
from observability.settings import TelemetrySettings
from observability.xray.header import XRayPropagator
from observability.xray.sampling import build_sampler
from observability.xray.sdk import configure_xray
from observability.xray.sdk.emitter import DaemonEmitter
from tests.xray_stub import StubEmitter


class Rules:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    def should_trace(self, sampling_req: dict[str, Any] | None = None) -> Any:
        self.requests.append(sampling_req or {})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def decide(rules: Rules, headers: dict[str, str] | None = None) -> Decision:
    ctx = XRayPropagator().extract(headers or {})
    parent = trace.get_current_span(ctx).get_span_context()
    trace_id = parent.trace_id if parent.is_valid else 0x1234
    attributes = {"http.method": "GET", "http.target": "/api/activities/home", "http.host": "gw"}
    sampler = build_sampler(rules, "gateway")
    return sampler.should_sample(ctx, trace_id, "GET /x", trace.SpanKind.SERVER, attributes).decision


ROOT = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"


def test_root_decision_is_the_rules() -> None:
    """At the root the rules decide, seeing the service, method, path and host."""
    assert decide(Rules("cruddur-api")) is Decision.RECORD_AND_SAMPLE
    assert decide(Rules(False)) is Decision.DROP
    rules = Rules(True)
    decide(rules)
    assert rules.requests == [
        {"service": "gateway", "method": "GET", "path": "/api/activities/home", "host": "gw"}
    ]


def test_downstream_follows_the_caller_and_decides_only_when_asked() -> None:
    """Sampled=1/0 is followed whatever the rules say; Sampled=? (or none) lets the rules decide here."""
    assert decide(Rules(False), {"X-Amzn-Trace-Id": f"{ROOT};Sampled=1"}) is Decision.RECORD_AND_SAMPLE
    assert decide(Rules(True), {"X-Amzn-Trace-Id": f"{ROOT};Sampled=0"}) is Decision.DROP
    assert decide(Rules(True), {"X-Amzn-Trace-Id": f"{ROOT};Sampled=?"}) is Decision.RECORD_AND_SAMPLE
    assert decide(Rules(False), {"X-Amzn-Trace-Id": ROOT}) is Decision.DROP


def test_failing_rules_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    """Rules that raise make the trace unsampled and log a warning; the request goes on."""
    with caplog.at_level(logging.WARNING):
        assert decide(Rules(RuntimeError("rules broke"))) is Decision.DROP
    assert "sampling rules failed" in caplog.text


def test_emitter_never_raises_when_the_daemon_is_down(caplog: pytest.LogCaptureFixture) -> None:
    """Sending to a closed port and sending an oversized document both return quietly, logged once."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emitter = DaemonEmitter(("127.0.0.1", port))

    class Entity:
        def __init__(self, size: int) -> None:
            self.size = size

        def serialize(self) -> str:
            return json.dumps({"pad": "x" * self.size})

    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            emitter.send_entity(Entity(10))
        emitter.send_entity(Entity(70_000))
    emitter.close()
    assert emitter.failures >= 1
    assert caplog.text.count("X-Ray") + caplog.text.count("UDP budget") <= 2


async def test_transport_header_names_the_client_span_as_parent() -> None:
    """Each call carries X-Amzn-Trace-Id with the OTel trace id and the client span (= subsegment) id."""
    emitter = StubEmitter()
    xray = configure_xray(TelemetrySettings(), service_name="gateway", emitter=emitter)
    assert xray is not None
    seen: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-amzn-trace-id"])
        assert request.headers.get_list("x-amzn-trace-id") == [seen[-1]], "exactly one writer"
        return httpx.Response(200, headers={"content-length": "0"})

    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    use_project_propagation(read_xray_header=True)
    telemetry = Telemetry(service_name="gateway", tracer_provider=provider, xray_mode="sdk", xray_sdk=xray)
    async with telemetry.http_client("http://users", inner=httpx.MockTransport(echo)) as client:
        with tracer.start_as_current_span("request") as span, xray.segment(span):
            await client.get("/users/worf", headers={"X-Amzn-Trace-Id": "Root=forged"})
    [document] = emitter.documents
    [subsegment] = document["subsegments"]
    trace_hex = f"{span.get_span_context().trace_id:032x}"
    assert seen == [f"Root=1-{trace_hex[:8]}-{trace_hex[8:]};Parent={subsegment['id']};Sampled=1"]
    assert subsegment["http"]["response"]["status"] == 200 and subsegment["namespace"] == "remote"


def test_centralized_rules_come_from_the_daemons_tcp_address() -> None:
    """Centralized rules are polled from the daemon's TCP side, with the local file as fallback."""
    from observability.xray.sampling import rule_sampler
    from observability.xray.settings import load_rules

    sampler = rule_sampler(
        load_rules(None), centralized=True, daemon_address="tcp:127.0.0.1:3000 udp:127.0.0.1:2000"
    )
    assert type(sampler).__name__ == "DefaultSampler"
    assert sampler._connector._xray_client.meta.endpoint_url == "http://127.0.0.1:3000"
    local = rule_sampler(load_rules(None), centralized=False, daemon_address=None)
    assert type(local).__name__ == "LocalSampler"


def test_xray_without_otlp_still_makes_otel_ids(tmp_path: Path) -> None:
    """With X-Ray on and OTLP off, the process still has OTel ids and decisions to give X-Ray."""
    from observability.telemetry import configure
    from tests.xray_stub import rules_file

    settings = TelemetrySettings(
        aws_xray_daemon_address="127.0.0.1:2000", xray_sampling_rules=rules_file(tmp_path)
    )
    telemetry = configure(settings, service_name="users")
    try:
        assert telemetry.xray_sdk is not None and telemetry.xray_mode == "sdk"
        with telemetry.span("request"):
            context = trace.get_current_span().get_span_context()
            assert context.is_valid and context.trace_flags.sampled
    finally:
        telemetry.shutdown()
    off = configure(TelemetrySettings(), service_name="users")
    assert off.xray_sdk is None and off.xray_mode == "off"
