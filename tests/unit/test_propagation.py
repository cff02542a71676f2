"""Our W3C Trace Context propagator, rule by rule, and the composite every process uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.span import TraceState

from observability import telemetry
from observability.otel.propagation import (
    Level2TraceState,
    W3CTraceContextPropagator,
    project_propagator,
    use_project_propagation,
)
from observability.otel.server_span import HEADER_GETTER, RequestHeaders
from observability.settings import TelemetrySettings
from observability.xray.header import XRayPropagator, incoming_header
from tests.xray_stub import StubEmitter

TRACE = "12345678901234567890123456789012"
PARENT = "1234567890123456"
VALID = f"00-{TRACE}-{PARENT}-01"
PROPAGATOR = W3CTraceContextPropagator()


def scope(*headers: tuple[str, str]) -> dict[str, Any]:
    """An ASGI scope with these headers, repeated ones as separate entries, as uvicorn hands them."""
    return {"type": "http", "headers": [(name.encode(), value.encode()) for name, value in headers]}


def parent_of(ctx: Context) -> trace.SpanContext:
    return trace.get_current_span(ctx).get_span_context()


def extract(*headers: tuple[str, str]) -> trace.SpanContext:
    """What the propagator makes of a request with these headers, read as the ASGI middleware reads them."""
    return parent_of(PROPAGATOR.extract(RequestHeaders(scope(*headers)), getter=HEADER_GETTER))


def tracestate(*values: str) -> dict[str, str] | None:
    """The tracestate extracted from these `tracestate` headers under a valid traceparent (None: dropped)."""
    span_context = extract(("traceparent", VALID), *(("tracestate", value) for value in values))
    assert span_context.is_valid
    return dict(span_context.trace_state) or None


# traceparent


def test_valid_traceparent_is_continued_as_a_remote_parent() -> None:
    """A valid traceparent gives a remote parent with its trace id, parent id and flags."""
    span_context = extract(("traceparent", VALID))
    assert (span_context.trace_id, span_context.span_id) == (int(TRACE, 16), int(PARENT, 16))
    assert span_context.is_remote and span_context.trace_flags.sampled


@pytest.mark.parametrize("name", ["traceparent", "TraceParent", "TRACEPARENT"])
def test_header_name_is_read_in_any_casing(name: str) -> None:
    """The header name is matched without regard to case."""
    assert extract((name, VALID)).trace_id == int(TRACE, 16)


@pytest.mark.parametrize("value", [f" {VALID}", f"\t{VALID}", f"{VALID} ", f"{VALID}\t", f"\t {VALID} \t"])
def test_spaces_and_tabs_around_traceparent_are_ignored(value: str) -> None:
    """Optional white space around the value does not invalidate it."""
    assert extract(("traceparent", value)).trace_id == int(TRACE, 16)


@pytest.mark.parametrize("second", [VALID, f"00-{'ab' * 16}-{PARENT}-01"])
def test_two_traceparent_headers_start_a_new_trace(second: str) -> None:
    """Two traceparent headers, equal or not, are ignored: neither trace is continued."""
    assert not extract(("traceparent", VALID), ("traceparent", second)).is_valid


def test_traceparent_headers_joined_by_a_getter_start_a_new_trace() -> None:
    """A getter that joins repeated headers with a comma gives a value that is ignored too."""
    assert not parent_of(PROPAGATOR.extract({"traceparent": f"{VALID},{VALID}"})).is_valid


@pytest.mark.parametrize(
    "value",
    [
        "",
        f"ff-{TRACE}-{PARENT}-01",  # the forbidden version
        f".0-{TRACE}-{PARENT}-01",
        f"0.-{TRACE}-{PARENT}-01",
        f"000-{TRACE}-{PARENT}-01",
        f"0-{TRACE}-{PARENT}-01",
        f"00-{TRACE}-{PARENT}-01.",  # version 00 has nothing after the flags
        f"00-{TRACE}-{PARENT}-01-what-the-future-will-be-like",
        f"00-{'0' * 32}-{PARENT}-01",
        f"00-.{TRACE[1:]}-{PARENT}-01",
        f"00-{TRACE}3-{PARENT}-01",
        f"00-{TRACE[1:]}-{PARENT}-01",
        f"00-{TRACE.upper()[:-1]}A-{PARENT}-01",  # hex digits are lowercase
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE}-.{PARENT[1:]}-01",
        f"00-{TRACE}-{PARENT}7-01",
        f"00-{TRACE}-{PARENT[1:]}-01",
        f"00-{TRACE}-{PARENT}-.0",
        f"00-{TRACE}-{PARENT}-001",
        f"00-{TRACE}-{PARENT}-1",
        f"cc-{TRACE}-{PARENT}-01.what-the-future-will-be-like",  # a later version: `-` after the flags
        f"cc-{TRACE}-{PARENT}-01-{'x' * 500}",  # over 512 characters
    ],
)
def test_invalid_traceparent_starts_a_new_trace(value: str) -> None:
    """A traceparent that breaks any rule of the grammar is ignored."""
    assert not extract(("traceparent", value)).is_valid


@pytest.mark.parametrize("value", [f"cc-{TRACE}-{PARENT}-01", f"cc-{TRACE}-{PARENT}-01-what-the-future"])
def test_later_version_is_read_as_version_00(value: str) -> None:
    """A version above 00 is continued from its first 55 characters, with or without `-...` after."""
    assert extract(("traceparent", value)).trace_id == int(TRACE, 16)


def test_invalid_traceparent_leaves_tracestate_unread_and_the_context_as_it_was() -> None:
    """With an invalid traceparent the context given (an earlier propagator's) comes back unchanged."""
    given = Context({"marker": 1})
    headers = scope(("traceparent", f"00-{'0' * 32}-{PARENT}-01"), ("tracestate", "foo=1"))
    assert PROPAGATOR.extract(RequestHeaders(headers), given, getter=HEADER_GETTER) is given


def test_random_flag_is_carried_to_the_next_hop() -> None:
    """The Level 2 random flag of the incoming traceparent is set on the traceparent sent onwards."""
    tracer = TracerProvider().get_tracer(__name__)
    ctx = PROPAGATOR.extract(
        RequestHeaders(scope(("traceparent", f"00-{TRACE}-{PARENT}-02"))), getter=HEADER_GETTER
    )
    with tracer.start_as_current_span("hop", context=ctx):
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
    assert int(carrier["traceparent"][-2:], 16) & 0x02


# tracestate


def test_tracestate_members_of_every_header_are_kept_in_order() -> None:
    """Several tracestate headers make one list, in the order received."""
    state = tracestate("foo=1,bar=2", "rojo=1,congo=2", "baz=3")
    assert list((state or {}).items()) == [
        ("foo", "1"),
        ("bar", "2"),
        ("rojo", "1"),
        ("congo", "2"),
        ("baz", "3"),
    ]


@pytest.mark.parametrize(
    "values",
    [
        ("foo=1 \t , \t bar=2",),
        ("\t foo=1 \t,bar=2 ",),
        (",,foo=1,,bar=2,",),
        ("", "foo=1,bar=2"),
        ("foo=1,bar=2", ""),
    ],
)
def test_white_space_and_empty_members_are_skipped(values: tuple[str, ...]) -> None:
    """Spaces and tabs around members, empty members and empty headers are not members."""
    assert tracestate(*values) == {"foo": "1", "bar": "2"}


def test_tracestate_without_traceparent_is_not_read() -> None:
    """A tracestate alone continues nothing."""
    assert not extract(("tracestate", "foo=1")).is_valid


@pytest.mark.parametrize(
    "key",
    [
        "foo@",
        "foo@@bar",
        "foo@bar@baz",
        "1tenant@system",
        "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/",
        "z" * 256,
        "t" * 241 + "@" + "v" * 14,
        "t" * 242 + "@v",
        "t@" + "v" * 15,
    ],
)
def test_level_2_keys_are_kept(key: str) -> None:
    """Keys of the Level 2 grammar (`@` anywhere after the first character, up to 256) are carried on."""
    assert tracestate(f"{key}=1", "bar=2") == {key: "1", "bar": "2"}


@pytest.mark.parametrize(
    "member", ["@foo=1", "FOO=1", "foo.bar=1", "foo =1", "_foo=1", "z" * 257 + "=1", "=1"]
)
def test_invalid_key_drops_the_whole_tracestate(member: str) -> None:
    """One member with a key outside the grammar drops every member, in any header."""
    assert tracestate("bar=2", member) is None


@pytest.mark.parametrize("member", ["foo=bar=baz", "foo=", "foo", "foo=é", "foo=a\x01b", "foo=" + "x" * 257])
def test_invalid_value_drops_the_whole_tracestate(member: str) -> None:
    """One member with a value outside the grammar (or no `=`) drops every member."""
    assert tracestate(member, "bar=3") is None


def test_value_of_every_allowed_character_is_kept() -> None:
    """Every printable character but `,` and `=` may be in a value, a space too (not at the end)."""
    value = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in ",=")
    assert tracestate(f"foo={value}") == {"foo": value}


def test_thirty_two_members_are_kept() -> None:
    """A tracestate of 32 members is carried whole."""
    members = [f"k{i:02}={i:02}" for i in range(32)]
    assert len(tracestate(",".join(members[:10]), ",".join(members[10:])) or {}) == 32


def test_thirty_three_members_drop_the_whole_tracestate() -> None:
    """A 33rd member, in any header, drops the tracestate."""
    members = [f"k{i:02}={i:02}" for i in range(33)]
    assert tracestate(",".join(members[:30]), ",".join(members[30:])) is None


@pytest.mark.parametrize("values", [("foo=1,foo=2",), ("foo=1", "foo=2"), ("foo=1,bar=2,foo=1",)])
def test_repeated_key_keeps_its_first_value(values: tuple[str, ...]) -> None:
    """A key seen twice keeps the first (leftmost) value; the tracestate is not dropped."""
    assert (tracestate(*values) or {})["foo"] == "1"


def test_long_tracestate_loses_members_over_128_characters_first() -> None:
    """Over 512 characters, members longer than 128 characters go first, whatever their place."""
    big = "big=" + "x" * 200
    small = [f"s{i}=" + "y" * 50 for i in range(6)]
    assert list(tracestate(big, *small) or {}) == [f"s{i}" for i in range(6)]


def test_long_tracestate_then_loses_members_from_the_end() -> None:
    """Over 512 characters with no large member, members go from the end until it fits."""
    members = [f"m{i}=" + "y" * 57 for i in range(10)]  # 60 characters each
    assert list(tracestate(",".join(members)) or {}) == [f"m{i}" for i in range(8)]  # 8*60+7 = 487


def test_tracestate_of_exactly_512_characters_is_kept() -> None:
    """The limit is inclusive: 512 characters are carried whole."""
    members = [f"m{i}=" + "y" * 57 for i in range(8)] + ["last=" + "z" * 19]  # 8*60+7 + 1+24
    header = ",".join(members)
    assert len(header) == 512 and len(tracestate(header) or {}) == 9


# inject


def test_inject_writes_the_current_span_as_parent() -> None:
    """The traceparent sent is version 00 naming the current span and its flags; tracestate follows."""
    state = Level2TraceState([("foo@", "1"), ("bar", "2")])
    span_context = trace.SpanContext(int(TRACE, 16), 0xABC, False, trace.TraceFlags(1), state)
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
    assert carrier == {"traceparent": f"00-{TRACE}-0000000000000abc-01", "tracestate": "foo@=1,bar=2"}


def test_inject_writes_nothing_without_a_span() -> None:
    """With no valid span in the context no header is written."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, Context())
    assert carrier == {}


def test_inject_bounds_a_tracestate_set_elsewhere() -> None:
    """A tracestate over 512 characters built outside this module is cut when sent."""
    state = TraceState([(f"m{i}", "y" * 57) for i in range(10)])
    span_context = trace.SpanContext(int(TRACE, 16), 0xABC, False, trace.TraceFlags(1), state)
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
    assert len(carrier["tracestate"]) <= 512 and carrier["tracestate"].count(",") == 7


def test_fields_are_traceparent_and_tracestate() -> None:
    """The propagator declares the two headers it writes."""
    assert PROPAGATOR.fields == {"traceparent", "tracestate"}


# Level2TraceState


def test_level_2_tracestate_keeps_level_2_keys_when_changed() -> None:
    """add, update and delete keep `@` keys the API's TraceState would drop, newest first."""
    state = Level2TraceState([("foo@", "1")]).add("bar@@baz", "2").update("foo@", "3")
    assert list(state.items()) == [("foo@", "3"), ("bar@@baz", "2")]
    assert list(state.delete("foo@").items()) == [("bar@@baz", "2")]
    assert state.add("@bad", "1") is state and state.add("foo@", "9") is state


def test_level_2_tracestate_keeps_at_most_32_members() -> None:
    """Over 32 entries it is empty, and it never grows past 32."""
    full = Level2TraceState([(f"k{i}", "1") for i in range(32)])
    assert len(Level2TraceState([(f"k{i}", "1") for i in range(33)])) == 0
    assert full.add("new", "1") is full and full.update("new", "1") is full


# the composite, and the process's global


XRAY_TRACE = "5759e988bd862e3fe1be46a994272793"
XRAY = ("x-amzn-trace-id", f"Root=1-{XRAY_TRACE[:8]}-{XRAY_TRACE[8:]};Parent=53995c3f42cd8ad8;Sampled=1")


def composite_extract(*headers: tuple[str, str], read_xray_header: bool) -> trace.SpanContext:
    propagator = project_propagator(read_xray_header=read_xray_header)
    return parent_of(propagator.extract(RequestHeaders(scope(*headers)), getter=HEADER_GETTER))


def test_composite_reads_the_xray_header_only_when_asked() -> None:
    """X-Amzn-Trace-Id alone is continued with the X-Ray reader in front, and ignored without it."""
    assert composite_extract(XRAY, read_xray_header=True).trace_id == int(XRAY_TRACE, 16)
    assert not composite_extract(XRAY, read_xray_header=False).is_valid


def test_composite_lets_a_valid_traceparent_win_over_the_xray_header() -> None:
    """With both headers valid, the traceparent decides the parent."""
    assert composite_extract(XRAY, ("traceparent", VALID), read_xray_header=True).trace_id == int(TRACE, 16)


def test_composite_continues_the_xray_header_when_traceparent_is_repeated() -> None:
    """Two traceparent headers are ignored, and a valid X-Amzn-Trace-Id beside them is continued."""
    headers = (XRAY, ("traceparent", VALID), ("traceparent", VALID))
    assert composite_extract(*headers, read_xray_header=True).trace_id == int(XRAY_TRACE, 16)


def generic_composite(*, read_xray_header: bool) -> CompositePropagator:
    """The plain OpenTelemetry composite of the three propagators the project's one fuses."""
    first: list[TextMapPropagator] = [XRayPropagator()] if read_xray_header else []
    return CompositePropagator([*first, W3CTraceContextPropagator(), W3CBaggagePropagator()])


ROOT_ONLY = ("x-amzn-trace-id", f"Root=1-{XRAY_TRACE[:8]}-{XRAY_TRACE[8:]}")
REQUESTS = [
    (),
    (("traceparent", VALID),),
    (("traceparent", f"00-{TRACE}-{PARENT}-00"), ("tracestate", "a=1,b@c=2")),
    (("traceparent", f"00-{TRACE}-{PARENT}-01"), ("tracestate", "bad key=1")),
    (("traceparent", "00-zz-nonsense-01"),),
    (("traceparent", VALID), ("traceparent", VALID)),
    (XRAY,),
    (("x-amzn-trace-id", XRAY[1].replace("Sampled=1", "Sampled=?")),),
    (("x-amzn-trace-id", XRAY[1].replace("Sampled=1", "Sampled=0")),),
    (("x-amzn-trace-id", "Root=nonsense"),),
    (("x-amzn-trace-id", "Root=nonsense"), ("traceparent", VALID)),
    (XRAY, ("traceparent", VALID)),
    (XRAY, ("traceparent", "00-zz-nonsense-01"), ("baggage", "enduser.id=andrew,fault.users=status:500")),
    (
        ("x-amzn-trace-id", XRAY[1].replace("Sampled=1", "Sampled=?")),
        ("traceparent", f"00-{XRAY_TRACE}-{PARENT}-00"),
    ),
    (("baggage", "k=v"), ("traceparent", VALID), ("tracestate", "a=1")),
]


def extracted(propagator: TextMapPropagator, headers: tuple[tuple[str, str], ...]) -> tuple[object, ...]:
    """What a server reads from a request: its remote parent, X-Ray header and baggage."""
    ctx = propagator.extract(RequestHeaders(scope(*headers)), getter=HEADER_GETTER)
    parent = parent_of(ctx)
    made_up = ROOT_ONLY in headers  # the parent id is a random one
    return (
        parent.trace_id,
        None if made_up else parent.span_id,
        parent.is_remote,
        parent.trace_flags,
        dict(parent.trace_state),
        incoming_header(ctx),
        dict(baggage.get_all(ctx)),
    )


@pytest.mark.parametrize("read_xray_header", [False, True])
@pytest.mark.parametrize(
    "headers", [*REQUESTS, (ROOT_ONLY,)], ids=lambda h: "+".join(n for n, _ in h) or "none"
)
def test_project_propagator_extracts_what_the_generic_composite_does(
    headers: tuple[tuple[str, str], ...], read_xray_header: bool
) -> None:
    """The fused extraction gives the same parent, remembered X-Ray header and baggage as the composite."""
    fused = project_propagator(read_xray_header=read_xray_header)
    assert extracted(fused, headers) == extracted(
        generic_composite(read_xray_header=read_xray_header), headers
    )


def outgoing(propagator: TextMapPropagator, ctx: Context) -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagator.inject(carrier, ctx)
    return carrier


@pytest.mark.parametrize("read_xray_header", [False, True])
@pytest.mark.parametrize("sampled", [False, True])
@pytest.mark.parametrize(
    "state",
    [None, TraceState([("a", "1"), ("b", "x" * 200)]), Level2TraceState([("k" * 256, "v" * 256)])],
    ids=["no-tracestate", "tracestate", "tracestate-over-512"],
)
def test_project_propagator_injects_what_the_generic_composite_does(
    read_xray_header: bool, sampled: bool, state: TraceState | None
) -> None:
    """A call gets the same headers, baggage included, from the fused injection as from the composite."""
    flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if sampled else trace.TraceFlags.DEFAULT)
    span_context = trace.SpanContext(int(TRACE, 16), int(PARENT, 16), False, flags, state)
    ctx = baggage.set_baggage(
        "enduser.id", "andrew", trace.set_span_in_context(trace.NonRecordingSpan(span_context))
    )
    fused = outgoing(project_propagator(read_xray_header=read_xray_header), ctx)
    assert fused == outgoing(generic_composite(read_xray_header=read_xray_header), ctx)
    assert "traceparent" in fused and ("X-Amzn-Trace-Id" in fused) is read_xray_header
    assert outgoing(project_propagator(read_xray_header=True), Context()) == {}


@pytest.fixture
def restore_global_propagator() -> Iterator[None]:
    before = propagate.get_global_textmap()
    yield
    propagate.set_global_textmap(before)


def kinds(propagator: TextMapPropagator) -> list[type]:
    return [type(inner) for inner in getattr(propagator, "_propagators", [])]


@pytest.mark.usefixtures("restore_global_propagator")
def test_use_project_propagation_sets_the_global_composite() -> None:
    """The process's propagator becomes X-Ray reader (when asked), ours, then W3C baggage."""
    use_project_propagation(read_xray_header=True)
    names = [kind.__name__ for kind in kinds(propagate.get_global_textmap())]
    assert names == ["XRayPropagator", "W3CTraceContextPropagator", "W3CBaggagePropagator"]


@pytest.mark.usefixtures("restore_global_propagator")
@pytest.mark.parametrize("xray_on", [False, True])
def test_configure_always_installs_our_propagator(xray_on: bool) -> None:
    """telemetry.configure sets our propagator with X-Ray off too; X-Amzn-Trace-Id is read only with it on."""
    propagate.set_global_textmap(W3CTraceContextPropagator())  # anything but the composite
    emitter = StubEmitter() if xray_on else None
    tel = telemetry.configure(
        TelemetrySettings(), service_name="unit", span_exporter=InMemorySpanExporter(), xray_emitter=emitter
    )
    try:
        found = kinds(propagate.get_global_textmap())
    finally:
        tel.shutdown()
    assert W3CTraceContextPropagator in found
    assert (XRayPropagator in found) is xray_on
