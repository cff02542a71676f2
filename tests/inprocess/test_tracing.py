"""Tracing through the three real apps: one server span a service, sampling flags followed or not,
traceresponse."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.telemetry import Telemetry, configure
from services.common.settings import ServiceSettings
from tests.inprocess.wiring import Apps, three_apps
from tests.topology import from_sdk


async def test_one_server_span_per_service(apps: Apps) -> None:
    """Each service records its request once: FastAPI's native spans are off, no ASGI send/receive spans."""
    await apps.client.get("/api/activities/home")
    spans = [from_sdk(s) for s in apps.finished_spans()]
    servers = sorted(s.service for s in spans if s.kind == "SERVER")
    assert servers == ["activities", "gateway", "users"]
    assert not [s for s in spans if s.name.endswith(("http send", "http receive"))]
    assert len(spans) == len({s.span_id for s in spans})


async def test_a_clients_unsampled_flag_does_not_hide_its_request(apps: Apps) -> None:
    """A client's `-00` keeps its trace id, but the gateway samples by its own policy, and downstream
    services follow the gateway."""
    header = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-00"
    response = await apps.client.get("/api/activities/home", headers={"traceparent": header})
    assert response.status_code == 200
    assert response.headers["traceresponse"].startswith("00-" + "ab" * 16)
    assert response.headers["traceresponse"].endswith("-01")
    spans = [from_sdk(s) for s in apps.finished_spans()]
    assert sorted(s.service for s in spans if s.kind == "SERVER") == ["activities", "gateway", "users"]
    assert {s.trace_id for s in spans} == {"ab" * 16}


async def test_a_trusted_callers_unsampled_flag_is_followed_everywhere(tmp_path: Path) -> None:
    """With TRUST_INCOMING_SAMPLING=true a caller's `-00` makes no span in any service, and still a 200."""
    exporter = InMemorySpanExporter()

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        return configure(settings, service_name=name, span_exporter=exporter)

    header = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-00"
    async with three_apps(tmp_path, telemetry_for, trust_incoming_sampling=True) as running:
        exporter.clear()
        response = await running.client.get("/api/activities/home", headers={"traceparent": header})
        for item in running.telemetry.values():
            item.force_flush()
    assert response.status_code == 200 and response.headers["traceresponse"].endswith("-00")
    assert exporter.get_finished_spans() == ()


async def test_a_clients_sampled_flag_does_not_force_sampling(tmp_path: Path) -> None:
    """A client's `-01` cannot make the gateway sample what its own ratio (here 0) would not."""
    exporter = InMemorySpanExporter()

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        return configure(settings, service_name=name, span_exporter=exporter)

    header = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    async with three_apps(
        tmp_path, telemetry_for, otel_traces_sampler="parentbased_traceidratio", otel_traces_sampler_arg=0.0
    ) as running:
        exporter.clear()
        response = await running.client.get("/api/activities/home", headers={"traceparent": header})
        for item in running.telemetry.values():
            item.force_flush()
    assert response.status_code == 200
    assert response.headers["traceresponse"].startswith("00-" + "ab" * 16)
    assert exporter.get_finished_spans() == ()


async def test_traceresponse_names_the_gateway_server_span(apps: Apps) -> None:
    """traceresponse carries the trace id and the gateway's server span id."""
    response = await apps.client.get("/api/activities/@worf")
    _, trace_id, span_id, _ = response.headers["traceresponse"].split("-")
    [root] = [
        s for s in map(from_sdk, apps.finished_spans()) if s.service == "gateway" and s.kind == "SERVER"
    ]
    assert (root.trace_id, root.span_id) == (trace_id, span_id)
