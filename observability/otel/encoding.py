"""OTLP protobuf bytes for a batch of spans, written straight to the wire format, most of it from caches.

OpenTelemetry's encoder (`encode_spans`) builds a protobuf message object per span, per attribute
and per value, then serializes them: about 46 us a span on a quiet machine (140 us on a busy one),
paid on the export thread under the GIL the event loop needs. A service's spans repeat themselves:
the same attribute keys and mostly the same values (method, route, host, statement text), one
resource, a few instrumentation scopes. So this encoder writes the bytes directly and keeps the
encoded form of each repeated piece (an attribute key and value, a span name, a resource, a scope)
in bounded caches. The rest of a span costs few Python operations: its ids, kind and times are two
precompiled struct packs into one bytearray, and an exported span's fields (the SDK's `ReadableSpan`
or a `LeanSpan`) are read directly rather than through properties that copy them. The bytes decode to
the same `ExportTraceServiceRequest` as `encode_spans` gives (tests/unit/test_otlp_encoding.py compares
them field by field); anything it does not expect is encoded by OpenTelemetry's encoder instead.

Wire format: https://protobuf.dev/programming-guides/encoding/ ; messages from opentelemetry-proto
(`trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext
from opentelemetry.trace.span import DEFAULT_TRACE_STATE as _NO_TRACE_STATE

from observability.otel.span import LeanSpan

_DIRECT = frozenset({ReadableSpan, LeanSpan})  # the span types whose fields are read directly
_CACHE_MAX = 4_096  # encoded attributes kept; cleared when full (a bound, not an eviction policy)
_attributes: dict[tuple[str, type, Any], bytes] = {}  # (key, type, value) -> a span's attribute field
_NAMES_MAX = 1_024  # span names kept; cleared when full
_names: dict[str, bytes] = {}  # span name -> its `name` field
_holders: dict[int, tuple[object, bytes]] = {}  # resource or scope id -> (the object, its bytes)
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200  # SpanFlags


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:  # two bytes: most lengths (a span, a long attribute value)
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (`tag` is the field number shifted, with wire type 2)."""
    return _TAGS[tag] + _varint(len(payload)) + payload


_TAGS = {n: _varint((n << 3) | 2) for n in range(1, 17)}


def _any_value(value: Any) -> bytes:
    """An `AnyValue` message's bytes."""
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _field(1, value.encode())
    if isinstance(value, int):
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)  # int64: two's complement, 10 bytes if < 0
    if isinstance(value, float):
        return b"\x21" + struct.pack("<d", value)
    if isinstance(value, bytes):
        return _field(7, value)
    if isinstance(value, Sequence):
        return _field(5, b"".join(_field(1, _any_value(v)) for v in value))
    if isinstance(value, Mapping):
        return _field(6, b"".join(_field(1, _key_value(str(k), v)) for k, v in value.items()))
    if value is None:
        return b""
    raise TypeError(f"invalid attribute value type {type(value).__name__}")


def _key_value(key: str, value: Any) -> bytes:
    """A `KeyValue` message's bytes."""
    return _field(1, key.encode()) + _field(2, _any_value(value))


_CACHED_TYPES = frozenset({str, bool, int, float})


def _span_attribute(key: str, value: Any) -> bytes:
    """A `KeyValue` as a span's attribute field (9); a (key, value) pair seen before comes from the cache."""
    kind = type(value)
    try:
        found = _attributes.get((key, kind, value))
    except TypeError:  # unhashable: a list or dict the SDK would not have let through
        found = None
    if found is not None:
        return found
    data = _field(9, _key_value(key, value))
    # Equal values of different types share a cache key but not an encoding: `kind` tells scalars
    # apart, but inside a tuple (1,) == (True,) and ("a", 1) == ("a", True), so only tuples of
    # strings are kept (a lookup can then only find an equal tuple of strings).
    if kind in _CACHED_TYPES or (kind is tuple and all(type(each) is str for each in value)):
        if len(_attributes) >= _CACHE_MAX:
            _attributes.clear()
        _attributes[(key, kind, value)] = data
    return data


def _attributes_of(tag: int, attributes: Mapping[str, Any] | None) -> bytes:
    """Repeated `KeyValue` fields under field number `tag` (a resource's, scope's, event's or link's)."""
    if not attributes:
        return b""
    items = getattr(attributes, "_dict", attributes)  # BoundedAttributes: skip its Mapping layer
    # the cached span field's payload under another field number (every tag used here is one byte)
    return b"".join(_TAGS[tag] + _span_attribute(key, value)[1:] for key, value in items.items())


def _held(holder: Any, encode: Any) -> bytes:
    """The bytes of a resource or scope, encoded once per object (kept alive with its bytes)."""
    found = _holders.get(id(holder))
    if found is not None and found[0] is holder:
        return found[1]
    if len(_holders) >= 64:
        _holders.clear()
    data: bytes = encode(holder)
    _holders[id(holder)] = (holder, data)
    return data


def _resource(resource: Any) -> bytes:
    return _attributes_of(1, resource.attributes)


def _scope(scope: Any) -> bytes:
    if scope is None:
        return b""
    data = _field(1, scope.name.encode()) if scope.name else b""
    if scope.version:
        data += _field(2, scope.version.encode())
    return data + _attributes_of(3, scope.attributes)


def _uint(tag_byte: bytes, value: int) -> bytes:
    return tag_byte + _varint(value) if value else b""


def _flags(context: SpanContext | None) -> bytes:
    flags = _HAS_IS_REMOTE | (_IS_REMOTE if context is not None and context.is_remote else 0)
    return b"\x85\x01" + struct.pack("<I", flags)  # field 16, fixed32


# A span's `flags` field, indexed by whether its parent is remote (False without a parent).
_SPAN_FLAGS = tuple(b"\x85\x01" + struct.pack("<I", _HAS_IS_REMOTE | remote) for remote in (0, _IS_REMOTE))
# A span's `status` field without a description, by status code (UNSET too: an empty message).
_STATUSES = tuple(_field(15, _uint(b"\x18", code)) for code in range(3))
# The ids' fields, 16 and 8 bytes big-endian (the trace id as two halves): trace_id (1), span_id (2),
# and with the second form also parent_span_id (4).
_IDS = struct.Struct(">2sQQ2sQ")
_IDS_AND_PARENT = struct.Struct(">2sQQ2sQ2sQ")
_LOW_64 = 0xFFFF_FFFF_FFFF_FFFF
# kind (field 6, varint: the SDK's 0-4 as OTLP's 1-5, always one byte), start_time_unix_nano and
# end_time_unix_nano (fields 7 and 8, fixed64 little-endian).
_KIND_AND_TIMES = struct.Struct("<BBBQBQ")


def _name(name: str) -> bytes:
    """A span's `name` field (none for an empty name), kept in the cache: a service's names are few."""
    data = _field(5, name.encode()) if name else b""
    if len(_names) >= _NAMES_MAX:
        _names.clear()
    _names[name] = data
    return data


def _span(span: ReadableSpan) -> bytes:
    """A `Span` message as a field of its `ScopeSpans`."""
    if type(span) in _DIRECT:
        # What the SDK's spans and LeanSpan hand to exporters. Their properties return these fields,
        # but copied (a MappingProxyType, two tuples) or after isinstance checks: read them directly. A
        # `BoundedAttributes` or `BoundedList` carries its dropped count; a dict, tuple or None none
        # (a LeanSpan keeps its dropped attributes' count beside its dict).
        context, parent, name, kind = span._context, span._parent, span._name, span._kind
        start, end, status = span._start_time, span._end_time, span._status
        attributes, events, links = span._attributes, span._events, span._links
        dropped_attributes = span._dropped if type(span) is LeanSpan else getattr(attributes, "dropped", 0)
        dropped_events, dropped_links = getattr(events, "dropped", 0), getattr(links, "dropped", 0)
    else:  # a subclass: its properties may say otherwise
        context, parent, name, kind = span.get_span_context(), span.parent, span.name, span.kind
        start, end, status = span.start_time, span.end_time, span.status
        attributes, events, links = span.attributes, span.events, span.links
        dropped_attributes, dropped_events = span.dropped_attributes, span.dropped_events
        dropped_links = span.dropped_links
    assert context is not None
    # A SpanContext is a tuple (trace_id, span_id, is_remote, trace_flags, trace_state, is_valid),
    # its fields read by position rather than through a property each (here and for the parent).
    trace_id, span_id, _, _, trace_state, _ = context
    # Most spans hold the API's shared empty TraceState: known by identity, without its __len__.
    has_state = trace_state is not _NO_TRACE_STATE and bool(trace_state)
    if parent is not None and not has_state:  # the usual span: its three ids in one pack
        out = bytearray(
            _IDS_AND_PARENT.pack(
                b"\x0a\x10",
                trace_id >> 64,
                trace_id & _LOW_64,
                b"\x12\x08",
                span_id,
                b"\x22\x08",
                parent[1],  # its span_id
            )
        )
    else:
        out = bytearray(_IDS.pack(b"\x0a\x10", trace_id >> 64, trace_id & _LOW_64, b"\x12\x08", span_id))
        if has_state:
            out += _field(3, ",".join(f"{k}={v}" for k, v in trace_state.items()).encode())
        if parent is not None:
            out += b"\x22\x08" + parent[1].to_bytes(8, "big")
    encoded_name = _names.get(name)
    out += encoded_name if encoded_name is not None else _name(name)
    out += _KIND_AND_TIMES.pack(0x30, kind._value_ + 1, 0x39, start or 0, 0x41, end or 0)
    if attributes:
        cache = _attributes
        for key, value in getattr(attributes, "_dict", attributes).items():
            try:  # the cache lookup of `_span_attribute`, inline: most attributes are found
                found = cache.get((key, type(value), value))
            except TypeError:
                found = None
            out += found if found is not None else _span_attribute(key, value)
    if dropped_attributes:
        out += b"\x50" + _varint(dropped_attributes)
    for event in events:
        body = b"\x09" + struct.pack("<Q", event.timestamp)
        body += _field(2, event.name.encode()) if event.name else b""
        body += _attributes_of(3, event.attributes) + _uint(b"\x20", event.dropped_attributes)
        out += _field(11, body)
    if dropped_events:
        out += b"\x60" + _varint(dropped_events)
    for link in links:
        body = b"\x0a\x10" + link.context.trace_id.to_bytes(16, "big")
        body += b"\x12\x08" + link.context.span_id.to_bytes(8, "big")
        body += _attributes_of(4, link.attributes) + _uint(b"\x28", link.dropped_attributes)
        body += b"\x35" + _flags(link.context)[2:]  # field 6, fixed32
        out += _field(13, body)
    if dropped_links:
        out += b"\x70" + _varint(dropped_links)
    if status is not None:
        if status.description:
            body = _field(2, status.description.encode()) + _uint(b"\x18", status.status_code._value_)
            out += _field(15, body)
        else:
            out += _STATUSES[status.status_code._value_]
    out += _SPAN_FLAGS[parent is not None and parent[2]]  # is_remote
    return b"\x12" + _varint(len(out)) + out  # field 2 of its ScopeSpans


def encode(spans: Sequence[ReadableSpan]) -> bytes:
    """The serialized `ExportTraceServiceRequest` of `spans` (OpenTelemetry's encoder if this one fails).

    Args:
        spans: finished spans, of any resources and instrumentation scopes.
    """
    try:
        return _encode(spans)
    except Exception:  # a span this encoder does not expect: the reference encoder knows every case
        return bytes(encode_spans(spans).SerializePartialToString())


def _encode(spans: Sequence[ReadableSpan]) -> bytes:
    # The spans' fields by resource, then by scope, each in the order first seen (as encode_spans).
    groups: dict[int, tuple[Any, dict[int, tuple[Any, list[bytes]]]]] = {}
    by_pair: dict[tuple[int, int], list[bytes]] = {}  # (resource id, scope id) -> its spans' fields
    for span in spans:
        if type(span) in _DIRECT:  # as in _span: the fields its properties return
            resource, scope = span._resource, span._instrumentation_scope or None
        else:
            resource, scope = span.resource, span.instrumentation_scope or None
        encoded = by_pair.get((id(resource), id(scope)))
        if encoded is None:
            encoded = by_pair[(id(resource), id(scope))] = []
            groups.setdefault(id(resource), (resource, {}))[1][id(scope)] = (scope, encoded)
        encoded.append(_span(span))
    out = []
    for resource, by_scope in groups.values():
        body = _field(1, _held(resource, _resource))
        for scope, encoded in by_scope.values():
            scope_spans = _field(1, _held(scope, _scope)) + b"".join(encoded)
            if scope is not None and scope.schema_url:
                scope_spans += _field(3, scope.schema_url.encode())
            body += _field(2, scope_spans)
        if resource.schema_url:
            body += _field(3, resource.schema_url.encode())
        out.append(_field(1, body))
    return b"".join(out)
