"""In an unsampled trace no child span is made (client, database, a service's own, nor the server span
continued from an unsampled caller): none would be recorded.

A call still names a parent id of its own (W3C), made without the tracer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, TraceState
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from observability.otel.client_span import ClientSpanTransport
from observability.otel.db import trace_engine
from observability.otel.edge import EdgeSampler
from observability.otel.propagation import use_project_propagation
from observability.otel.sampling import Candidate, DecidingSampler, ParentDecides
from observability.otel.server_span import instrument
from observability.telemetry import Telemetry

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0xB7AD6B7169203331


class CountingSampler(DecidingSampler):
    """The parent-based sampler the services use, counting the spans it is asked about."""

    def __init__(self) -> None:
        self.asked = 0
        self.inner = ParentBased(ALWAYS_ON)

    def decide(self, candidate: Candidate) -> SamplingResult:
        self.asked += 1
        return self.inner.should_sample(*candidate)

    def get_description(self) -> str:
        return "CountingSampler"


def traced() -> tuple[TracerProvider, CountingSampler, InMemorySpanExporter]:
    sampler, exporter = CountingSampler(), InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, sampler, exporter


@contextmanager
def current(span: trace.Span) -> Iterator[trace.Span]:
    token = context.attach(trace.set_span_in_context(span))
    try:
        yield span
    finally:
        context.detach(token)


def unsampled() -> NonRecordingSpan:
    return NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(0)))


async def calls(provider: TracerProvider, count: int = 1) -> list[httpx.Headers]:
    """The headers each of `count` calls through the client span transport sent."""
    seen: list[httpx.Headers] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200)

    use_project_propagation(read_xray_header=False)
    transport = ClientSpanTransport(httpx.MockTransport(answer), provider)
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        for _ in range(count):
            await client.get("/users")
    return seen


async def test_unsampled_calls_each_name_a_new_parent_id_without_a_client_span() -> None:
    """Under an unsampled span each call carries the trace, unsampled, with a parent id of its own;
    the sampler is never asked and nothing is exported."""
    provider, sampler, exporter = traced()
    with current(unsampled()):
        sent = await calls(provider, 3)
    parents = [headers["traceparent"].split("-") for headers in sent]
    assert {(version, trace_id, flags) for version, trace_id, _, flags in parents} == {
        ("00", f"{TRACE_ID:032x}", "00")
    }
    ids = {parent_id for _, _, parent_id, _ in parents}
    assert len(ids) == 3 and f"{SPAN_ID:016x}" not in ids
    assert sampler.asked == 0
    assert exporter.get_finished_spans() == ()


async def test_sampled_call_still_makes_its_client_span() -> None:
    """Under a recording span the call gets its own CLIENT span, whose id travels in `traceparent`."""
    provider, sampler, exporter = traced()
    parent = provider.get_tracer("test").start_span("GET /api")
    with current(parent):
        (headers,) = await calls(provider)
    (client_span,) = exporter.get_finished_spans()
    assert client_span.kind is SpanKind.CLIENT
    assert client_span.parent is not None and client_span.parent.span_id == parent.get_span_context().span_id
    assert headers["traceparent"].split("-")[2] == f"{client_span.context.span_id:016x}"
    assert sampler.asked == 2


def test_unsampled_statement_makes_no_database_span_and_a_sampled_one_does() -> None:
    """A statement under an unsampled span asks no sampler; under a recording span it is a CLIENT span."""
    provider, sampler, exporter = traced()
    engine = create_engine("sqlite://")
    trace_engine(engine, provider)
    with current(unsampled()), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert sampler.asked == 0
    parent = provider.get_tracer("test").start_span("GET /users")
    with current(parent), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    (statement,) = exporter.get_finished_spans()
    assert statement.name == "SELECT" and statement.kind is SpanKind.CLIENT
    assert sampler.asked == 2


def test_service_span_in_an_unsampled_trace_is_the_current_span() -> None:
    """`Telemetry.span` under an unsampled span yields that span; under a recording one, a new child."""
    provider, sampler, exporter = traced()
    telemetry = Telemetry(service_name="activities", tracer_provider=provider)
    with current(unsampled()) as span, telemetry.span("activities.enrich_authors") as inside:
        assert inside is span
        assert trace.get_current_span() is span
    assert sampler.asked == 0
    parent = provider.get_tracer("test").start_span("GET /activities/home")
    with current(parent), telemetry.span("activities.enrich_authors") as inside:
        assert inside.is_recording()  # type: ignore[attr-defined]
    (enrich,) = exporter.get_finished_spans()
    assert enrich.name == "activities.enrich_authors"


def test_service_spans_come_from_one_tracer_asked_for_once() -> None:
    """`Telemetry.span` asks the provider for its tracer once, not once a span (it costs about a span)."""
    provider, _, exporter = traced()
    asked: list[str] = []
    get_tracer = provider.get_tracer

    def counting(name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        asked.append(name)
        return get_tracer(name, *args, **kwargs)

    provider.get_tracer = counting  # type: ignore[method-assign,assignment]
    telemetry = Telemetry(service_name="activities", tracer_provider=provider)
    for _ in range(3):
        with telemetry.span("activities.enrich_authors"):
            pass
    assert asked == ["services.activities"]
    assert [span.name for span in exporter.get_finished_spans()] == ["activities.enrich_authors"] * 3


class CountingParentDecides(ParentDecides):
    """The services' sampler (`ParentDecides`), counting the spans it is asked about."""

    asked = 0

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        self.asked += 1
        return super().should_sample(*args, **kwargs)


async def serve(traceparent: str) -> tuple[CountingParentDecides, InMemorySpanExporter, dict[str, Any]]:
    """One request with `traceparent` to an app with server spans that calls downstream once."""
    sampler, exporter = CountingParentDecides(ALWAYS_ON), InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: dict[str, Any] = {}

    async def route(request: Request) -> JSONResponse:
        seen["current"] = trace.get_current_span().get_span_context()
        (headers,) = await calls(provider)
        seen["downstream"] = headers["traceparent"]
        return JSONResponse({})

    app = Starlette(routes=[Route("/activities/home", route)])
    instrument(app, provider, excluded="/healthz", on_request=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://activities") as client:
        answer = await client.get("/activities/home", headers={"traceparent": traceparent})
    assert answer.status_code == 200
    return sampler, exporter, seen


async def test_request_from_an_unsampled_caller_asks_no_sampler_and_makes_no_span() -> None:
    """A caller's `-00` stands: no sampler call, no span; the request runs in the caller's trace under
    a new span id, which the downstream call names with a parent id of its own."""
    sampler, exporter, seen = await serve(f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-00")
    assert sampler.asked == 0
    assert exporter.get_finished_spans() == ()
    current = seen["current"]
    assert (current.trace_id, current.is_remote, current.trace_flags.sampled) == (TRACE_ID, False, False)
    assert current.span_id != SPAN_ID
    _, trace_id, parent_id, flags = seen["downstream"].split("-")
    assert (trace_id, flags) == (f"{TRACE_ID:032x}", "00")
    assert parent_id not in (f"{SPAN_ID:016x}", f"{current.span_id:016x}")


async def test_request_from_a_sampled_caller_still_makes_its_server_span() -> None:
    """A caller's `-01`: the sampler is asked and the server span continues the caller's trace."""
    sampler, exporter, seen = await serve(f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-01")
    server = next(span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER)
    assert server.context.trace_id == TRACE_ID and server.parent is not None
    assert server.parent.span_id == SPAN_ID and seen["current"].span_id == server.context.span_id
    assert sampler.asked >= 1


def test_parent_decides_drops_only_an_unsampled_remote_parent_that_left_nothing_open() -> None:
    """`drops_under_remote` holds for an unsampled remote parent, not for a sampled, local or missing one,
    nor when the parent left the decision to this hop."""

    def under(span_id: int, *, remote: bool, sampled: bool) -> Context:
        flags = TraceFlags(TraceFlags.SAMPLED if sampled else 0)
        parent = SpanContext(TRACE_ID, span_id, is_remote=remote, trace_flags=flags)
        return trace.set_span_in_context(NonRecordingSpan(parent))

    sampler = ParentDecides(ALWAYS_ON)
    assert sampler.drops_under_remote(under(SPAN_ID, remote=True, sampled=False))
    assert not sampler.drops_under_remote(under(SPAN_ID, remote=True, sampled=True))
    assert not sampler.drops_under_remote(under(SPAN_ID, remote=False, sampled=False))
    assert not sampler.drops_under_remote(under(0, remote=True, sampled=False))  # invalid
    assert not sampler.drops_under_remote(Context())
    opened = ParentDecides(ALWAYS_ON, left_open=lambda context, trace_id: trace_id == TRACE_ID)
    assert not opened.drops_under_remote(under(SPAN_ID, remote=True, sampled=False))
    result = opened.should_sample(under(SPAN_ID, remote=True, sampled=False), TRACE_ID, "GET")
    assert result.decision is Decision.RECORD_AND_SAMPLE  # left open: the root (ALWAYS_ON) decided


@pytest.mark.parametrize("remote", [False, True])
@pytest.mark.parametrize("sampled", [False, True])
@pytest.mark.parametrize("state", [TraceState(), TraceState([("vendor", "x")])], ids=["no-state", "state"])
@pytest.mark.parametrize("root", [ALWAYS_ON, ALWAYS_OFF], ids=["root-on", "root-off"])
def test_parent_decides_answers_as_parent_based(
    remote: bool, sampled: bool, state: TraceState, root: Sampler
) -> None:
    """Whatever the parent, and at a root, `ParentDecides` gives `ParentBased`'s answer, field by field."""
    attributes = {"http.method": "GET", "db.system.name": "sqlite"}
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else 0)
    parent = SpanContext(TRACE_ID, SPAN_ID, is_remote=remote, trace_flags=flags, trace_state=state)
    for ctx in (trace.set_span_in_context(NonRecordingSpan(parent)), Context(), None):
        ours = ParentDecides(root).should_sample(ctx, TRACE_ID, "span", SpanKind.CLIENT, attributes)
        theirs = ParentBased(root).should_sample(ctx, TRACE_ID, "span", SpanKind.CLIENT, attributes)
        assert (ours.decision, dict(ours.attributes), ours.trace_state) == (
            theirs.decision,
            dict(theirs.attributes),
            theirs.trace_state,
        )


@pytest.mark.parametrize("remote", [False, True])
@pytest.mark.parametrize("sampled", [False, True])
@pytest.mark.parametrize("kind", [SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL])
def test_a_span_follows_its_sampled_parent_only_where_should_sample_says_so(
    remote: bool, sampled: bool, kind: SpanKind
) -> None:
    """Where a project sampler says a span follows its sampled parent (the lean tracer then skips the
    call), `should_sample` gives it the parent's "sampled", trace state and the span's attributes; the
    edge never says so for a remote caller's server span, which it decides itself."""
    state = TraceState([("vendor", "x")])
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else 0)
    parent = SpanContext(TRACE_ID, SPAN_ID, is_remote=remote, trace_flags=flags, trace_state=state)
    ctx = trace.set_span_in_context(NonRecordingSpan(parent))
    services, edge = ParentDecides(ALWAYS_OFF), EdgeSampler(ParentDecides(ALWAYS_OFF))
    assert services.follows_sampled_parent(kind, parent) is sampled
    assert edge.follows_sampled_parent(kind, parent) is (sampled and not (remote and kind is SpanKind.SERVER))
    for sampler in (services, edge):
        if sampler.follows_sampled_parent(kind, parent):
            result = sampler.should_sample(ctx, TRACE_ID, "span", kind, {"a": 1})
            assert (result.decision, dict(result.attributes or {}), result.trace_state) == (
                Decision.RECORD_AND_SAMPLE,
                {"a": 1},
                state,
            )
