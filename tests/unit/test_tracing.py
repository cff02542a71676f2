"""Tracing pieces: sampler choice, the traceresponse header, and no duplicate server spans."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import ParentBased

from observability.otel.provider import build_sampler
from observability.settings import TelemetrySettings
from tests.conftest import Apps
from tests.topology import from_sdk


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


async def test_one_server_span_per_service(apps: Apps) -> None:
    """Each service records its request once: FastAPI's native spans are off, no ASGI send/receive spans."""
    await apps.client.get("/api/activities/home")
    spans = [from_sdk(s) for s in apps.finished_spans()]
    servers = sorted(s.service for s in spans if s.kind == "SERVER")
    assert servers == ["activities", "gateway", "users"]
    assert not [s for s in spans if s.name.endswith(("http send", "http receive"))]
    assert len(spans) == len({s.span_id for s in spans})


async def test_unsampled_parent_is_followed_everywhere(apps: Apps) -> None:
    """An incoming traceparent that says not sampled makes no span in any service, and still a 200."""
    header = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-00"
    response = await apps.client.get("/api/activities/home", headers={"traceparent": header})
    assert response.status_code == 200
    assert response.headers["traceresponse"].startswith("00-" + "ab" * 16) and response.headers[
        "traceresponse"
    ].endswith("-00")
    assert apps.finished_spans() == []


async def test_traceresponse_names_the_gateway_server_span(apps: Apps) -> None:
    """traceresponse carries the trace id and the gateway's server span id."""
    response = await apps.client.get("/api/activities/@worf")
    _, trace_id, span_id, _ = response.headers["traceresponse"].split("-")
    [root] = [
        s for s in map(from_sdk, apps.finished_spans()) if s.service == "gateway" and s.kind == "SERVER"
    ]
    assert (root.trace_id, root.span_id) == (trace_id, span_id)


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
