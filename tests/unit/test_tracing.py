"""Tracing pieces: sampler choice, the traceresponse header, and no duplicate server spans."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from observability.otel.provider import build_sampler
from observability.settings import TelemetrySettings
from observability.telemetry import configure
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings


@pytest.mark.parametrize(
    ("name", "arg", "expected"),
    [
        ("always_on", None, "AlwaysOnSampler"),
        ("always_off", None, "AlwaysOffSampler"),
        ("traceidratio", "0.25", "TraceIdRatioBased{0.25}"),
        ("parentbased_always_on", None, "ParentBased{root:AlwaysOnSampler"),
        ("PARENTBASED_TRACEIDRATIO", None, "ParentBased{root:TraceIdRatioBased{1.0}"),
    ],
)
def test_sampler_follows_otel_traces_sampler(
    monkeypatch: pytest.MonkeyPatch, name: str, arg: str | None, expected: str
) -> None:
    """OTEL_TRACES_SAMPLER and its argument pick the sampler the OTel spec names."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", name)
    if arg is not None:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
    assert build_sampler(TelemetrySettings()).get_description().startswith(expected)


def test_sampler_types() -> None:
    """The default is parent-based: downstream services follow the root's decision."""
    assert isinstance(build_sampler(TelemetrySettings()), ParentBased)


async def test_client_baggage_is_bounded_to_w3c_limits() -> None:
    """Of 100 baggage members a client sends, the gateway forwards at most W3C's 64, in order."""
    forwarded: list[str] = []

    def activities(request: httpx.Request) -> httpx.Response:
        forwarded.append(request.headers.get("baggage", ""))
        return httpx.Response(200, json=[])

    telemetry = configure(GatewaySettings(), service_name="gateway", span_exporter=InMemorySpanExporter())
    app = create_gateway(GatewaySettings(), telemetry, activities_transport=httpx.MockTransport(activities))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    header = ",".join(f"k{i}=v{i}" for i in range(100))
    async with app.router.lifespan_context(app), client:
        assert (await client.get("/api/activities/home", headers={"baggage": header})).status_code == 200
    telemetry.shutdown()
    members = [m.split("=")[0] for m in forwarded[0].split(",")]
    assert members == [f"k{i}" for i in range(64)]


async def test_sdk_disabled_means_no_trace_context() -> None:
    """OTEL_SDK_DISABLED=true builds no provider: no traceresponse, no traceparent sent, same answer."""
    import httpx

    from observability import telemetry
    from services.gateway.app import create_app
    from services.gateway.settings import GatewaySettings

    sent: list[httpx.Headers] = []

    def activities(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers)
        return httpx.Response(200, json=[])

    for disabled in (False, True):
        settings = GatewaySettings(otel_sdk_disabled=disabled)
        tel = telemetry.configure(settings, service_name="gateway")
        assert (tel.tracer_provider is None) is disabled
        assert tel.active() == ([] if disabled else ["otel"])
        app = create_app(settings, tel, activities_transport=httpx.MockTransport(activities))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        async with app.router.lifespan_context(app), client:
            response = await client.get("/api/activities/home")
        assert response.status_code == 200
        assert ("traceresponse" in response.headers) is not disabled
        assert ("traceparent" in sent[-1]) is not disabled
