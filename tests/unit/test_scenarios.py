"""The scenarios command: the fault it sends, and the trace links it prints for every answer."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from services.scenarios import SCENARIOS, ScenarioSettings, run

TRACE_ID = "6b0a55500c65729f252e522db9c8e1a4"


def gateway(faults_on: bool, seen: list[httpx.Request]) -> httpx.MockTransport:
    """A stand-in gateway: /healthz says whether faults are on; every other path is a traced 502."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            return httpx.Response(
                200, json={"status": "ok", "telemetry": ["otel", "faults"] if faults_on else []}
            )
        seen.append(request)
        headers = {"traceresponse": f"00-{TRACE_ID}-2f9b3c8a1d4e5f60-01"}
        return httpx.Response(
            502, json={"detail": "activities failed", "service": "activities"}, headers=headers
        )

    return httpx.MockTransport(handle)


def test_each_request_carries_the_fault_and_prints_its_trace_links() -> None:
    """Every request of a scenario carries its baggage and the secret; each answer prints its links."""
    settings = ScenarioSettings(
        gateway_url="http://gateway.test",
        jaeger_url="http://jaeger.test:16686",
        faults_secret=SecretStr("s3cr3t"),
        honeycomb_team="cruddur",
        honeycomb_environment="test",
        aws_region="us-east-1",
    )
    seen: list[httpx.Request] = []
    lines: list[str] = []
    assert run("flaky-activities", settings, lines.append, gateway(True, seen)) == 0
    scenario = SCENARIOS["flaky-activities"]
    assert len(seen) == scenario.requests
    assert {(r.url.path, r.headers["baggage"], r.headers["x-fault-secret"]) for r in seen} == {
        (scenario.path, scenario.baggage, "s3cr3t")
    }
    text = "\n".join(lines)
    assert text.count("502") >= scenario.requests and text.count(f"trace {TRACE_ID}") == scenario.requests
    assert f"jaeger    http://jaeger.test:16686/trace/{TRACE_ID}" in text
    assert f"trace?trace_id={TRACE_ID}" in text and "#xray:traces/1-6b0a5550-0c65729f252e522db9c8e1a4" in text
    assert "warning" not in text


def test_faults_off_at_the_gateway_is_said_before_the_requests() -> None:
    """When the gateway's /healthz does not list faults, the scenario warns that nothing will fire."""
    lines: list[str] = []
    run("slow-users", ScenarioSettings(), lines.append, gateway(False, []))
    assert any(line.startswith("warning: faults are off at the gateway") for line in lines[:3])
