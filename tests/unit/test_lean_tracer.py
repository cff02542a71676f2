"""The lean tracer exports what the SDK's tracer exports: each scenario runs on both and is compared."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.util import types

from observability.otel.edge import EdgeSampler
from observability.otel.encoding import encode
from observability.otel.provider import build_tracer_provider
from observability.otel.sampling import ParentDecides
from observability.otel.span import LeanSpan
from observability.otel.tracer import LeanTracerProvider
from observability.settings import TelemetrySettings
from observability.xray.sdk.recorder import _parent_of

REMOTE = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, True, TraceFlags(1))
UNSAMPLED_REMOTE = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, True, TraceFlags(0))
HTTP: dict[str, types.AnyValue] = {
    "http.request.method": "GET",
    "url.scheme": "http",
    "url.path": "/api/activities/home",
    "http.route": "/api/activities/home",
    "server.address": "gateway",
    "server.port": 8000,
    "client.address": "10.1.2.3",
    "network.protocol.version": "1.1",
    "user_agent.original": "curl/8",
    "http.response.status_code": 200,
    "sampled.ratio": 0.5,
    "cached": False,
    "tags": ["edge", "public"],
}
Scenario = Callable[[trace.Tracer], None]


class FixedIds(IdGenerator):
    """Counts up, so two providers given one each hand out the same ids."""

    def __init__(self) -> None:
        self.next = 0

    def generate_span_id(self) -> int:
        self.next += 1
        return self.next

    def generate_trace_id(self) -> int:
        self.next += 1
        return 0xABC00000000000000000000000000000 + self.next


class TaggingSampler(Sampler):
    """Samples everything, adds its own attributes and a trace state (as X-Ray-like samplers do)."""

    def should_sample(
        self,
        parent_context: context_api.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        added = {**(attributes or {}), "sampler.rule": "default", "": "dropped key"}
        return SamplingResult(Decision.RECORD_AND_SAMPLE, added, TraceState([("xray", "rule1")]))

    def get_description(self) -> str:
        return "TaggingSampler"


class Starts(SpanProcessor):
    """Remembers what `on_start` was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, Any]] = []

    def on_start(self, span: Any, parent_context: context_api.Context | None = None) -> None:
        self.seen.append((span.name, span.is_recording(), parent_context))


def context_view(context: SpanContext | None) -> tuple[Any, ...] | None:
    if context is None:
        return None
    return context.trace_id, context.span_id, context.is_remote, context.trace_flags, str(context.trace_state)


def attributes_view(attributes: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in (attributes or {}).items() if key != "exception.stacktrace"]


def view(span: ReadableSpan) -> dict[str, Any]:
    """Everything an exporter reads off a span, timestamps reduced to their presence and order."""
    assert span.start_time is not None and span.end_time is not None and span.end_time >= span.start_time
    return {
        "name": span.name,
        "kind": span.kind,
        "context": context_view(span.context),
        "parent": context_view(span.parent),
        "attributes": attributes_view(span.attributes),
        "dropped": (span.dropped_attributes, span.dropped_events, span.dropped_links),
        "events": [(e.name, attributes_view(e.attributes), e.dropped_attributes) for e in span.events],
        "stacktraces": [
            (e.attributes or {})["exception.stacktrace"].splitlines()[-1]  # type: ignore[union-attr]
            for e in span.events
            if "exception.stacktrace" in (e.attributes or {})
        ],
        "links": [
            (context_view(link.context), attributes_view(link.attributes), link.dropped_attributes)
            for link in span.links
        ],
        "status": (span.status.status_code, span.status.description),
        "resource": dict(span.resource.attributes),
        "scope": span.instrumentation_scope,
    }


class Warnings(logging.Handler):
    """Collects (logger, level, message) of every record."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.levelno, record.getMessage()))


def run_both(
    scenario: Scenario, sampler: Sampler = ALWAYS_ON, limits: Callable[[], SpanLimits | None] = lambda: None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scenario on a plain SDK provider and on a lean one: what each exported (and warned: the same)."""
    views, warned = [], []
    for cls in (TracerProvider, LeanTracerProvider):
        exporter, warnings = InMemorySpanExporter(), Warnings()
        provider = cls(
            sampler=sampler,
            resource=Resource.create({"service.name": "gateway"}),
            id_generator=FixedIds(),
            span_limits=limits(),
            shutdown_on_exit=False,
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("tests.lean", "1.2", "https://schema", {"scope.attr": "x"})
        logging.getLogger().addHandler(warnings)
        try:
            scenario(tracer)
        finally:
            logging.getLogger().removeHandler(warnings)
        views.append([view(span) for span in exporter.get_finished_spans()])
        warned.append(warnings.seen)
    assert warned[0] == warned[1]
    return views[0], views[1]


def remote(parent: SpanContext = REMOTE) -> context_api.Context:
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


def request_scenario(tracer: trace.Tracer) -> None:
    server = tracer.start_span("GET", context=remote(), kind=SpanKind.SERVER, attributes=HTTP)
    server.set_attribute("http.route", "/api/activities/@{handle}")  # rewritten: moves last
    server.set_attribute("aws.log.group.names", ["/cruddur/gateway", "/cruddur/users"])
    for key, value in {
        "mixed": [1, "a", 2.0],
        "nested": [[1], (2,)],
        "empty": [],
        "gaps": ["a", None],
    }.items():
        server.set_attribute(key, value)  # type: ignore[arg-type]
    server.set_attribute("opaque", object())  # type: ignore[arg-type]  # the SDK keeps None for a value it cannot stringify
    server.set_attribute("", "empty key")  # dropped and counted
    server.set_attributes({"raw": b"bytes", "flags": [True, False], 7: "int key", "fine": 1.5})  # type: ignore[dict-item]
    server.add_event("enqueued", {"depth": 3, "names": ("a", "b")})
    server.add_link(UNSAMPLED_REMOTE, {"link.kind": "follows"})
    server.update_name("GET /api/activities/@{handle}")
    with trace.use_span(server, end_on_exit=True):
        db = tracer.start_span("SELECT users", kind=SpanKind.CLIENT, attributes={"db.system.name": "sqlite"})
        db.set_status(StatusCode.ERROR, "locked")
        db.end()
        with tracer.start_as_current_span("users", kind=SpanKind.CLIENT, links=[Link(REMOTE, {"n": 1})]) as c:
            c.set_status(Status(StatusCode.OK))


@pytest.mark.parametrize("sampler", [ALWAYS_ON, ParentBased(ALWAYS_ON), TaggingSampler()], ids=str)
def test_a_request_exports_the_same_spans(sampler: Sampler) -> None:
    """Attributes (lists, bytes, odd keys and values), events, links, names, parents and ids match."""
    sdk, lean = run_both(request_scenario, sampler)
    assert len(sdk) == 3 and lean == sdk
    server = lean[2]
    assert server["parent"] == context_view(REMOTE) and server["kind"] is SpanKind.SERVER
    assert ("opaque", None) in server["attributes"] and ("flags", (True, False)) in server["attributes"]
    assert server["context"][0] == REMOTE.trace_id and server["name"] == "GET /api/activities/@{handle}"


@pytest.mark.parametrize(
    "sampler",
    [ParentDecides(ALWAYS_ON), EdgeSampler(ParentDecides(ALWAYS_ON))],
    ids=["ParentDecides", "EdgeSampler"],
)
def test_under_the_project_samplers_a_request_exports_the_same_spans(sampler: Sampler) -> None:
    """With the project's samplers (whose answer for a sampled parent the lean tracer knows without
    asking) the spans match the SDK's, the caller's trace state carried to every child."""
    stated = SpanContext(REMOTE.trace_id, REMOTE.span_id, True, TraceFlags(1), TraceState([("vendor", "x")]))

    def scenario(tracer: trace.Tracer) -> None:
        server = tracer.start_span("GET", context=remote(stated), kind=SpanKind.SERVER, attributes=HTTP)
        with trace.use_span(server, end_on_exit=True):
            tracer.start_span(
                "SELECT users", kind=SpanKind.CLIENT, attributes={"db.system.name": "sqlite"}
            ).end()
            with tracer.start_as_current_span(
                "users", kind=SpanKind.CLIENT, attributes={"http.method": "GET"}
            ):
                pass

    sdk, lean = run_both(scenario, sampler)
    assert len(sdk) == 3 and lean == sdk
    assert {span["context"][4] for span in lean} == {str(stated.trace_state)}
    assert [span["attributes"] for span in lean[:2]] == [
        [("db.system.name", "sqlite")],
        [("http.method", "GET")],
    ]


def test_the_dropped_key_counts_as_a_dropped_attribute() -> None:
    """An empty key is dropped and counted, so the exported span reports one dropped attribute."""
    sdk, lean = run_both(request_scenario)
    assert lean[2]["dropped"] == sdk[2]["dropped"] == (1, 0, 0)


def status_scenario(tracer: trace.Tracer) -> None:
    span = tracer.start_span("ok-is-final")
    span.set_status(StatusCode.OK, "a description beside OK is dropped")
    span.set_status(StatusCode.ERROR, "too late")
    span.end()
    span = tracer.start_span("unset-is-ignored")
    span.set_status(Status(StatusCode.ERROR, "first"), "ignored description")
    span.set_status(StatusCode.UNSET)
    span.set_status(Status(StatusCode.UNSET))
    span.end()
    span = tracer.start_span("error-then-ok")
    span.set_status(StatusCode.ERROR, "first")
    span.set_status(Status(StatusCode.OK))
    span.set_status(StatusCode.ERROR, "after ok")
    span.end()


def test_status_follows_the_sdk_rules(caplog: pytest.LogCaptureFixture) -> None:
    """OK is final, UNSET is ignored, a description beside a `Status` is ignored with the same warning."""
    with caplog.at_level(logging.WARNING):
        sdk, lean = run_both(status_scenario)
    assert lean == sdk
    assert [s["status"] for s in lean] == [
        (StatusCode.OK, None),
        (StatusCode.ERROR, "first"),
        (StatusCode.OK, None),
    ]
    ignored = [r for r in caplog.records if r.getMessage().startswith("Description ignored description")]
    assert len(ignored) == 2


def exception_scenario(tracer: trace.Tracer) -> None:
    with pytest.raises(ValueError), tracer.start_as_current_span("current"):
        raise ValueError("from start_as_current_span")
    with pytest.raises(KeyError), tracer.start_span("with-span"):
        raise KeyError("from the span's own context manager")
    with (
        pytest.raises(RuntimeError),
        tracer.start_as_current_span("quiet", record_exception=False, set_status_on_exception=False),
    ):
        raise RuntimeError("neither recorded nor an error")
    span = tracer.start_span("explicit")
    span.record_exception(OSError("disk"), attributes={"retry": 2}, timestamp=5)
    span.end()


def test_exceptions_become_the_same_events_and_statuses() -> None:
    """`record_exception` gives the SDK's event (type, message, escaped, stacktrace) and error status."""
    sdk, lean = run_both(exception_scenario)
    assert lean == sdk
    current, with_span, quiet, explicit = lean
    assert current["status"] == (StatusCode.ERROR, "ValueError: from start_as_current_span")
    assert with_span["events"][0][1][:1] == [("exception.type", "KeyError")]
    assert ("exception.escaped", "True") in with_span["events"][0][1]
    assert quiet["events"] == [] and quiet["status"] == (StatusCode.UNSET, None)
    assert explicit["stacktraces"] == ["OSError: disk"] and ("retry", 2) in explicit["events"][0][1]


class Interrupted(BaseException):
    """Not an `Exception` (as `KeyboardInterrupt` or `GeneratorExit`): not an error of the span."""


def current_span_scenario(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("outer") as outer:
        with tracer.start_as_current_span("inner", kind=SpanKind.CLIENT, attributes={"n": 1}) as inner:
            inner.set_attribute("is current", trace.get_current_span() is inner)
        outer.set_attribute("current again", trace.get_current_span() is outer)
        with tracer.start_as_current_span("kept open", end_on_exit=False) as kept:
            pass
        kept.set_attribute("written after the block", True)
        kept.end()
    with pytest.raises(Interrupted), tracer.start_as_current_span("interrupted"):
        raise Interrupted()
    assert trace.get_current_span() is trace.INVALID_SPAN

    @tracer.start_as_current_span("decorated")
    def work(value: int) -> int:
        trace.get_current_span().set_attribute("value", value)
        if value < 0:
            raise ValueError("negative")
        return value * 2

    @tracer.start_as_current_span("decorated async", kind=SpanKind.CONSUMER)
    async def work_async() -> str:
        await asyncio.sleep(0)
        trace.get_current_span().set_attribute("after an await", True)
        return "done"

    assert work(2) == 4 and work(3) == 6
    with pytest.raises(ValueError):
        work(-1)
    assert asyncio.run(work_async()) == "done"


def test_start_as_current_span_behaves_as_the_sdks() -> None:
    """Nesting, `end_on_exit=False`, a `BaseException`, and use as a decorator of functions and coroutine
    functions: the same spans, parents, attributes and statuses as the SDK's generator-based manager."""
    sdk, lean = run_both(current_span_scenario)
    assert lean == sdk
    by_name: dict[str, list[dict[str, Any]]] = {}
    for span in lean:
        by_name.setdefault(span["name"], []).append(span)
    (inner,), (outer,) = by_name["inner"], by_name["outer"]
    assert inner["parent"] == outer["context"] and ("is current", True) in inner["attributes"]
    assert ("current again", True) in outer["attributes"]
    assert ("written after the block", True) in by_name["kept open"][0]["attributes"]
    interrupted = by_name["interrupted"][0]
    assert interrupted["events"] == [] and interrupted["status"] == (StatusCode.UNSET, None)
    calls = [span["attributes"] for span in by_name["decorated"]]
    assert calls == [[("value", 2)], [("value", 3)], [("value", -1)]]
    assert by_name["decorated"][2]["status"] == (StatusCode.ERROR, "ValueError: negative")
    assert by_name["decorated async"][0]["attributes"] == [("after an await", True)]


def limits_scenario(tracer: trace.Tracer) -> None:
    span = tracer.start_span(
        "limited", links=[Link(REMOTE, {"a": 1, "b": 2}), Link(UNSAMPLED_REMOTE), Link(REMOTE, {"c": 3})]
    )
    for index in range(5):
        span.set_attribute(f"key{index}", "x" * (index * 3))
    span.set_attribute("key4", "rewritten, then truncated")
    span.set_attribute("list", ["long string here", "ok"])
    span.set_attributes({"key5": 5, "key6": "abcdefghij"})
    for index in range(4):
        span.add_event(f"event{index}", {"first": "a long event value", "second": 2})
    span.add_link(REMOTE, {"late": "link with a long value"})
    span.end()


def test_span_limits_drop_and_count_like_the_sdk() -> None:
    """Attribute count (oldest first) and length, events, links, their attributes: same cuts and counts."""
    limits = SpanLimits(
        max_span_attributes=3,
        max_span_attribute_length=6,
        max_attribute_length=4,
        max_events=2,
        max_links=2,
        max_event_attributes=1,
        max_link_attributes=1,
    )
    sdk, lean = run_both(limits_scenario, limits=lambda: limits)
    assert lean == sdk
    [span] = lean
    assert span["attributes"] == [("list", ("long s", "ok")), ("key5", 5), ("key6", "abcdef")]
    assert span["dropped"] == (5, 2, 2)
    assert [event[2] for event in span["events"]] == [1, 1] and [e[0] for e in span["events"]] == [
        "event2",
        "event3",
    ]
    assert span["events"][0][1] == [("second", 2)] and span["links"][0][1] == [("c", 3)]


def test_span_limits_from_the_environment_apply_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` and `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` cut both tracers alike."""
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2")
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")
    sdk, lean = run_both(request_scenario)
    assert lean == sdk
    assert lean[2]["dropped"][0] > 0 and len(lean[2]["attributes"]) == 2
    assert all(len(value) <= 3 for _, value in lean[0]["attributes"] if isinstance(value, str))


def test_a_zero_attribute_limit_drops_every_attribute() -> None:
    """With room for no attribute, every write is dropped and counted, the sampler's ones included."""
    sdk, lean = run_both(request_scenario, TaggingSampler(), limits=lambda: SpanLimits(max_span_attributes=0))
    assert lean == sdk
    assert lean[2]["attributes"] == [] and lean[2]["dropped"][0] > 12


def unsampled_scenario(tracer: trace.Tracer) -> None:
    for parent in (None, remote(UNSAMPLED_REMOTE)):
        span = tracer.start_span("unsampled", context=parent, attributes={"a": 1})
        assert isinstance(span, trace.NonRecordingSpan) and not span.is_recording()
        span.set_attribute("b", 2)
        span.end()


@pytest.mark.parametrize("sampler", [ALWAYS_OFF, ParentBased(ALWAYS_OFF)], ids=str)
def test_an_unsampled_span_is_non_recording_and_never_exported(sampler: Sampler) -> None:
    """A decision that does not record gives a `NonRecordingSpan`; nothing reaches the exporter."""
    assert run_both(unsampled_scenario, sampler) == ([], [])


def test_a_remote_parents_decision_is_followed() -> None:
    """Under `ParentBased` an unsampled remote parent gives an unsampled span of its trace."""
    contexts = []
    for cls in (TracerProvider, LeanTracerProvider):
        tracer = cls(sampler=ParentBased(ALWAYS_ON), id_generator=FixedIds()).get_tracer("t")
        dropped = tracer.start_span("x", context=remote(UNSAMPLED_REMOTE))
        kept = tracer.start_span("y", context=remote(REMOTE))
        contexts.append((context_view(dropped.get_span_context()), context_view(kept.get_span_context())))
        assert not dropped.is_recording() and kept.is_recording()
        kept.end()
    assert contexts[0] == contexts[1]
    dropped_view = contexts[1][0]
    assert dropped_view is not None
    assert dropped_view[0] == UNSAMPLED_REMOTE.trace_id and dropped_view[3] == TraceFlags(0)


def test_a_second_end_is_ignored_with_the_sdks_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Ending twice exports one span and warns; writes after the end are refused with the SDK's warnings."""

    def scenario(tracer: trace.Tracer) -> None:
        span = tracer.start_span("once")
        span.end()
        span.end()
        span.set_attribute("late", 1)
        span.add_event("late")
        span.set_status(StatusCode.ERROR)
        span.update_name("renamed")
        assert not span.is_recording()

    with caplog.at_level(logging.WARNING):
        sdk, lean = run_both(scenario)
    assert lean == sdk and len(lean) == 1 and lean[0]["name"] == "once" and lean[0]["attributes"] == []
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    half = len(messages) // 2
    assert (
        messages[:half] == messages[half:]
        and ("opentelemetry.sdk.trace", "Calling end() on an ended span.") in messages
    )


def test_a_live_span_answers_the_read_api() -> None:
    """While live, a lean span reads like the SDK's: attributes, name, kind, parent, start time, status."""
    live = []
    for cls in (TracerProvider, LeanTracerProvider):
        tracer = cls(id_generator=FixedIds()).get_tracer("t")
        span = tracer.start_span("GET", context=remote(), kind=SpanKind.SERVER, attributes={"url.path": "/x"})
        span.set_status(StatusCode.ERROR, "bad")
        assert isinstance(span, ReadableSpan) and span.start_time is not None and span.end_time is None
        live.append((dict(span.attributes or {}), span.name, span.kind, span.parent, span.status.description))
    assert live[0] == live[1] and live[1][3] == REMOTE


def test_processors_see_the_live_span_and_the_parent_context_at_start() -> None:
    """`on_start` gets the recording span and the `context` argument, as the SDK's tracer passes them."""
    seen = []
    for cls in (TracerProvider, LeanTracerProvider):
        starts, provider = Starts(), cls()
        provider.add_span_processor(starts)
        parent = remote()
        provider.get_tracer("t").start_span("s", context=parent).end()
        seen.append(starts.seen)
        assert starts.seen[0][2] is parent
    assert [(name, recording) for name, recording, _ in seen[0]] == [(n, r) for n, r, _ in seen[1]]


def test_one_scope_gets_one_tracer_and_a_disabled_sdk_gets_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """`get_tracer` caches per scope; with `OTEL_SDK_DISABLED=true` it answers the SDK's no-op tracer."""
    provider = LeanTracerProvider()
    assert provider.get_tracer("a", "1") is provider.get_tracer("a", "1")
    assert provider.get_tracer("a", "1") is not provider.get_tracer("a", "2")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert isinstance(LeanTracerProvider().get_tracer("a"), trace.NoOpTracer)


def test_the_project_provider_is_lean_and_exports() -> None:
    """`build_tracer_provider` builds a `LeanTracerProvider`, and its spans reach the exporter given."""
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider(TelemetrySettings(), service_name="users", exporter=exporter)
    span = provider.get_tracer("t").start_span("s")
    span.end()
    assert isinstance(provider, LeanTracerProvider) and isinstance(span, LeanSpan)
    assert provider.force_flush(5000)
    [exported] = exporter.get_finished_spans()
    assert exported.resource.attributes["service.name"] == "users"
    provider.shutdown()


def timed_scenario(tracer: trace.Tracer) -> None:
    server = tracer.start_span(
        "GET", remote(), SpanKind.SERVER, HTTP, [Link(REMOTE, {"n": 1})], start_time=10
    )
    server.set_attribute("aws.log.group.names", ["/cruddur/gateway"])
    server.add_event("enqueued", {"depth": 3}, timestamp=11)
    server.set_status(StatusCode.ERROR, "boom")
    server.end(end_time=20)


def test_the_otlp_encoder_writes_the_same_bytes_for_both() -> None:
    """With the same times, `observability.otel.encoding` encodes a lean span to the SDK span's bytes."""
    encoded = []
    for cls in (TracerProvider, LeanTracerProvider):
        exporter = InMemorySpanExporter()
        provider = cls(resource=Resource.create({"service.name": "gateway"}), id_generator=FixedIds())
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        timed_scenario(provider.get_tracer("tests.lean", "1.2"))
        encoded.append(encode(exporter.get_finished_spans()))
    assert encoded[0] == encoded[1] and b"/cruddur/gateway" in encoded[1]


def test_the_xray_mirror_finds_a_lean_spans_remote_parent() -> None:
    """The aws-xray-sdk mirror reads the OTel parent off a lean span as it did off the SDK's."""
    for cls in (TracerProvider, LeanTracerProvider):
        span = cls(id_generator=FixedIds()).get_tracer("t").start_span("GET", context=remote())
        assert _parent_of(span) == f"{REMOTE.span_id:016x}"
        span.end()
